"""gengap's library functions on arrays, each against a closed form, an invariant or an independent route."""

import math
import os
import unittest

import numpy as np

import gengap
from support import scratch


class Theory(unittest.TestCase):
    def test_kesten(self):
        self.assertAlmostEqual(gengap.kesten_abs_moment(1), 5 / 6, places=12)
        self.assertAlmostEqual(gengap.kesten_abs_moment(2), 61 / 45, places=12)
        self.assertEqual(gengap.KESTEN_SECOND_MOMENT, 61 / 45)
        b = np.linspace(-40, 40, 80001)
        pdf = gengap.kesten_pdf(b)  # vectorized
        self.assertEqual(pdf.shape, b.shape)
        self.assertAlmostEqual(np.trapz(pdf, b), 1.0, places=5)
        self.assertAlmostEqual(np.trapz(b * b * pdf, b), 61 / 45, places=4)
        cdf = gengap.kesten_cdf(b)
        self.assertTrue(np.all(np.diff(cdf) >= 0))
        self.assertAlmostEqual(float(gengap.kesten_cdf(0.0)), 0.5, places=12)

    def test_exponents_and_sigma2(self):
        self.assertEqual(gengap.predicted_msd_exponent(1.0), 4.0)
        self.assertEqual(gengap.predicted_distance_exponent(0.5), 4.0)
        self.assertAlmostEqual(gengap.sigma2(sigma=3.0, temperature=2.0), 9 / 4, places=14)
        with self.assertRaisesRegex(ValueError, "alpha"):
            gengap.predicted_msd_exponent(2.0)

    def test_log_times(self):
        self.assertEqual(list(gengap.log_times(1000, 3)), [1, 2, 5, 10, 22, 46, 100, 215, 464, 1000])


class Landscapes(unittest.TestCase):
    def test_landscape_is_the_walkers(self):
        land = gengap.landscape(sigma=2.0, seed=3, env=5, half_width=2000)
        self.assertEqual(land["lo"], -2000)
        self.assertEqual(land["v"][2000], 0.0)  # V(0) = 0
        inc = np.diff(land["v"])
        self.assertAlmostEqual(inc.std(), 2.0, delta=0.1)
        # Extendable: a smaller window is the same environment.
        small = gengap.landscape(sigma=2.0, seed=3, env=5, half_width=100)
        np.testing.assert_array_equal(small["v"], land["v"][1900:2101])

    def test_mfpt_flat_closed_form(self):
        # Flat potential, Metropolis: p = q = 1/2 away from the wall, so T(0 -> n) = n (n + 1).
        v = np.zeros(64)
        for n in (1, 5, 20):
            self.assertAlmostEqual(gengap.mfpt(v, n), n * (n + 1), delta=1e-9 * n * n)
            self.assertAlmostEqual(gengap.mfpt(v, n, method="propagation"), n * (n + 1), delta=1e-6 * n * n)

    def test_mfpt_routes_agree_on_a_rough_landscape(self):
        land = gengap.landscape(seed=2, half_width=64)
        v, lo = land["v"], land["lo"]
        exact = gengap.mfpt(v, 12, lo=lo)
        prop = gengap.mfpt(v, 12, lo=lo, method="propagation")
        self.assertAlmostEqual(prop / exact, 1.0, places=9)
        mc = gengap.mfpt_monte_carlo(v, 12, walkers=4000, seed=1, lo=lo)
        self.assertLess(abs(mc["mean"] - exact), 5 * mc["standard_error"])

    def test_valley_bottom(self):
        # Maxima at -6 and 6 around the bottom at 2, with a Gamma-minimum and -maximum beyond each.
        x = np.arange(-14, 15)
        v = np.interp(x, [-14, -10, -6, 2, 6, 10, 14], [8.0, 0.0, 8.0, -2.0, 8.0, 0.0, 8.0])
        self.assertEqual(gengap.valley_bottom(v, 3.0, lo=-14), 2)
        self.assertIsNone(gengap.valley_bottom(v, 20.0, lo=-14))  # no valley that deep in the window


class Fits(unittest.TestCase):
    t = np.array([3.0, 10, 30, 100, 300, 1000, 3000, 10000, 30000])

    def test_log_fixed_recovers_the_law(self):
        y = (0.8 * (np.log(self.t) - 0.5)) ** 4
        fits = gengap.compare_models(self.t, y, fixed_k=4)
        best = fits[0]
        self.assertIn(best["model"], ("log-fixed", "log-free"))
        lf = [f for f in fits if f["model"] == "log-fixed"][0]
        self.assertAlmostEqual(lf["params"]["A"], 0.8, places=6)
        self.assertAlmostEqual(lf["params"]["c"], 0.5, places=5)

    def test_distance_models_and_bootstrap(self):
        y = 2.0 * (np.log(self.t) - 1.0) ** 2
        fits = gengap.compare_distance_models(self.t, y, fixed_k=2)
        logc = [f for f in fits if f["model"] == "log-c"][0]
        self.assertAlmostEqual(logc["params"]["k"], 2.0, places=4)
        rng = np.random.default_rng(0)
        samples = np.array([y * (1 + 0.02 * rng.standard_normal(y.size)) for _ in range(6)])
        b1 = gengap.bootstrap_fits(self.t, samples, resamples=50, seed=3, fixed_k=2, family="distance")
        b2 = gengap.bootstrap_fits(self.t, samples, resamples=50, seed=3, fixed_k=2, family="distance")
        self.assertEqual(repr(b1), repr(b2))  # deterministic in the seed
        lo, hi = [m for m in b1["models"] if m["model"] == "log-c"][0]["ci"]["k"]
        self.assertLess(lo, hi)
        with self.assertRaisesRegex(ValueError, "^family = "):
            gengap.bootstrap_fits(self.t, samples, family="cubic")

    def test_log_time_decision_positive_and_negative(self):
        t = np.geomspace(100, 1e6, 30)
        rng = np.random.default_rng(4)
        logt = np.array([(np.log(t) - 2.0) ** 2 * (1 + 0.002 * rng.standard_normal(t.size)) for _ in range(5)])
        d = gengap.decide_log_time(t, logt, 100, 1e6)
        self.assertEqual(d["outcome"], "supported", d["reason"])
        sqrt = np.array([np.sqrt(t) * (1 + 0.002 * rng.standard_normal(t.size)) for _ in range(5)])
        self.assertEqual(gengap.decide_log_time(t, sqrt, 100, 1e6)["outcome"], "falsified")
        sat = np.array([(1 - np.exp(-t / 3000)) * (1 + 0.002 * rng.standard_normal(t.size)) for _ in range(5)])
        self.assertEqual(gengap.decide_log_time(t, sat, 100, 1e6)["outcome"], "falsified")
        short = gengap.decide_log_time(t, logt, 1000, 5000)
        self.assertEqual(short["outcome"], "undecided")
        # the inverse exponent w = 1/k of (ln t - 2)^2
        self.assertAlmostEqual(d["statistic"]["k_implied"], 2.0, delta=0.1)

    def test_power_of_the_log_time_rule(self):
        p = gengap.power(tmin=100, tmax=3750, runs=4, draws=20, seed=3)
        fam = {f["family"]: f for f in p.families}
        self.assertGreaterEqual(fam["0.5 (ln t)^2"]["supported"], 18)
        self.assertGreaterEqual(fam["t^0.5"]["falsified"], 18)
        with self.assertRaisesRegex(ValueError, "^runs = 1"):
            gengap.power(runs=1)

    def test_curve_overlap(self):
        x = np.geomspace(1, 1000, 40)
        o = gengap.curve_overlap([(x, np.log(x + 1)), (x, 3 * np.log(x + 1))])
        self.assertAlmostEqual(o["spread"], 2 / 4, places=10)  # |r - 1| / (r + 1) for r = 3
        self.assertAlmostEqual(gengap.curve_overlap([(x, x), (x, x)])["spread"], 0.0)
        with self.assertRaises(ValueError):
            gengap.curve_overlap([(x, x)])


class Fields(unittest.TestCase):
    def test_lattice_field(self):
        f = gengap.LatticeField(dim=2, box=64, alpha=1.0, sigma=1.5)
        v = f.sample(seed=1, env=2)
        self.assertEqual(v.shape, (64, 64))
        self.assertEqual(v[0, 0], 0.0)
        self.assertAlmostEqual(f.structure_function(1), 1.5 ** 2, places=10)
        self.assertEqual(f.sites, 64 * 64)
        # Fortran order: V[x0, x1] is the library's x0 + L x1; the x0 direction is axis 0.
        self.assertTrue(v.flags["F_CONTIGUOUS"])
        np.testing.assert_array_equal(v, f.sample(seed=1, env=2))
        with self.assertRaisesRegex(ValueError, "box"):
            gengap.LatticeField(dim=2, box=100)

    def test_fourier_field_gradient(self):
        f = gengap.FourierField(dim=5, modes=64, seed=4)
        v0, g0 = f.evaluate(np.zeros(5))
        self.assertEqual(v0, 0.0)  # V(0) = 0
        w = np.random.default_rng(1).standard_normal((3, 5))
        vals, grads = f.evaluate(w)
        self.assertEqual(vals.shape, (3,))
        self.assertEqual(grads.shape, (3, 5))
        h = 1e-6
        for k in range(5):
            e = np.zeros(5)
            e[k] = h
            fd = (f.evaluate(w + e)[0] - f.evaluate(w - e)[0]) / (2 * h)
            np.testing.assert_allclose(grads[:, k], fd, rtol=1e-5, atol=1e-7)
        self.assertEqual(f.wavevectors.shape, (64, 5))
        self.assertEqual(f.dim, 5)
        self.assertEqual(f.structure_function(0.0), 0.0)
        self.assertAlmostEqual(f.structure_function(1e9), f.saturation, places=9)  # saturates far out
        # sum_j a_j^2 (1 - exp(-kappa_j^2 r^2 / (2D))) from the modes themselves: an independent evaluation.
        r = 3.0
        mine = float(np.sum(f.amplitudes ** 2 * (1 - np.exp(-f.frequencies ** 2 * r * r / (2 * 5)))))
        self.assertAlmostEqual(f.structure_function(r), mine, places=10)
        self.assertTrue(np.all((f.phases >= 0) & (f.phases <= 2 * np.pi)))
        self.assertAlmostEqual(f.saturation, float(np.sum(f.amplitudes ** 2)), places=10)
        with self.assertRaisesRegex(ValueError, "coordinates"):
            f.evaluate(np.zeros(4))

    def test_sgd_run(self):
        args = dict(dim=6, modes=32, landscapes=3, walkers=2, lr=0.05, noise=2.0, batch=4, t_max=300)
        a = gengap.sgd_run(threads=1, **args)
        b = gengap.sgd_run(threads=2, **args)
        np.testing.assert_array_equal(a.mean_distance, b.mean_distance)  # thread count does not matter
        self.assertEqual(a.env_distance.shape, (3, len(a.times)))
        np.testing.assert_allclose(a.env_distance.mean(axis=0), a.mean_distance, rtol=1e-12)
        # Langevin on top of SGD only adds noise: the walkers go farther.
        hot = gengap.sgd_run(temperature=1.0, **args)
        self.assertGreater(hot.msd[-1], a.msd[-1])
        with self.assertRaisesRegex(ValueError, "^lr = "):
            gengap.sgd_run(lr=-1.0)


class Api(unittest.TestCase):
    def test_signatures_names_and_repr(self):
        import inspect
        for f in (gengap.compare_models, gengap.bootstrap_fits, gengap.decide_log_time, gengap.log_times):
            inspect.signature(f)  # inspectable, as a Python function's
        self.assertEqual(list(inspect.signature(gengap.decide_log_time).parameters)[:4], ["t", "y", "tmin", "tmax"])
        self.assertEqual(gengap.log_times(1000, 3).dtype, np.int64)
        # The old names still work and give the same answer as the new ones.
        t = np.arange(10, 2000, 10, dtype=float)
        y = np.vstack([np.log(t) ** 2 * (1 + 0.01 * k) for k in range(4)])
        a = gengap.decide_log_time(t, y, 10, 1990)
        b = gengap.decide_log_time(t, samples=y, t0=10, t1=1990)
        self.assertEqual(a.verdict, b.verdict)
        self.assertEqual(a.reason, b.reason)
        with self.assertRaises(TypeError):
            gengap.decide_log_time(t, y, 10, 1990, t0=10)
        fa = gengap.bootstrap_fits(t, y, bootstrap=20)
        fb = gengap.bootstrap_fits(t, samples=y, resamples=20)
        self.assertEqual([(m.model, dict(m.params)) for m in fa.models], [(m.model, dict(m.params)) for m in fb.models])
        # repr summarizes arrays instead of printing them.
        r = gengap.walk(environments=4, t_max=10**4, bootstrap=0)
        text = repr(r)
        self.assertLess(len(text), 2000)
        self.assertIn("msd=array(", text)
        # Fits flag parameters pinned at a search bound, and name the count of free parameters.
        m = gengap.compare_models(t, t ** 0.5)  # a power of t: the free law in ln t runs to its bounds
        self.assertIn("free_params", m[0])
        free = [f for f in m if f.model == "log-free"][0]
        self.assertEqual(sorted(free.at_bound), ["c", "k"])  # B (ln t - c)^k -> a power of t: c -> -inf, k -> inf
        self.assertEqual(len([f for f in m if f.model == "power"][0].at_bound), 0)


class Files(unittest.TestCase):
    def test_read_csv_and_run_folder(self):
        folder = scratch("run")
        with open(os.path.join(folder, "distance.csv"), "w") as f:
            f.write("iteration,epoch,distance\n1,0.5,0.25\n2,1,0.5\n")
        with open(os.path.join(folder, "metrics.jsonl"), "w") as f:
            f.write('{"epoch": 1, "test_accuracy": 0.5}\n{"epoch": 2, "test_accuracy": 0.75}\n')
        r = gengap.read_run(folder)
        np.testing.assert_array_equal(r.distance["distance"], [0.25, 0.5])
        self.assertEqual(list(r.distance), ["iteration", "epoch", "distance"])
        self.assertEqual(r.metrics[1]["test_accuracy"], 0.75)
        # Tables: columns as typed arrays (counts as int64), rows by position, attribute access.
        self.assertEqual(r.distance.iteration.dtype, np.int64)
        self.assertEqual(r.metrics.epoch.dtype, np.int64)
        np.testing.assert_array_equal(r.metrics.test_accuracy, [0.5, 0.75])
        self.assertEqual(r.metrics[-1].epoch, 2)
        self.assertEqual([row.epoch for row in r.metrics.rows()], [1, 2])
        self.assertEqual(r.metrics.nrows, 2)
        self.assertEqual(list(r.metrics.to_records().epoch), [1, 2])
        with self.assertRaises(IndexError):
            r.metrics[2]
        self.assertIn("2 rows", repr(r.metrics))
        self.assertNotIn("summary", r)  # not written (yet): left out
        with open(os.path.join(folder, "metrics.jsonl"), "a") as f:
            f.write("{broken\n")
        with self.assertRaisesRegex(ValueError, r"metrics\.jsonl:3"):
            gengap.read_metrics(folder)
        with open(os.path.join(folder, "distance.csv"), "a") as f:
            f.write("3,x,1\n")
        with self.assertRaisesRegex(ValueError, "distance.csv"):
            gengap.read_distance(folder)
        with self.assertRaises(FileNotFoundError):
            gengap.read_run(scratch("empty"))


if __name__ == "__main__":
    unittest.main()
