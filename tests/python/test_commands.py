"""gengap.walk / exact / valley / lattice / sgd / fit: the CLI's results bitwise, its defaults, its errors."""

import os
import unittest

import numpy as np

import gengap
from support import SIM_EXE, ExactCase, cli_error, cli_json, scratch

# Timing and the SIMD path that ran differ between two runs; every number of the physics must not.
VOLATILE = {"seconds", "seconds_per_environment", "steps_per_second", "simd"}


@unittest.skipUnless(SIM_EXE, "GENGAP_SIM_EXE not set")
class SameAsCli(ExactCase):
    def test_walk(self):
        args = dict(environments=24, walkers=4, t_max=3000, per_decade=6, seed=7, bootstrap=20, positions=True)
        ours = gengap.walk(**args)
        theirs = cli_json(SIM_EXE, ["walk", "-q", "-e", "24", "-w", "4", "-t", "3000", "--per-decade", "6", "-s", "7",
                                    "--bootstrap", "20", "--positions"])
        self.assertSame(ours, theirs, skip=VOLATILE | {"positions"})
        self.assertTrue(np.array_equal(ours.positions.ravel(), theirs["positions"]))
        self.assertEqual(ours.positions.shape, (24, 4))
        self.assertEqual(ours.env_msd.shape, (24, len(ours.times)))
        # The per-environment rows average to the curve.
        np.testing.assert_allclose(ours.env_msd.mean(axis=0), ours.msd, rtol=1e-12)

    def test_walk_fbm_heat_bath(self):
        ours = gengap.walk(potential="fbm", alpha=0.5, dynamics="heat-bath", environments=6, t_max=500, seed=3, bootstrap=0)
        theirs = cli_json(SIM_EXE, ["walk", "-q", "--potential", "fbm", "--alpha", "0.5", "--dynamics", "heat-bath",
                                    "-e", "6", "-t", "500", "-s", "3", "--bootstrap", "0"])
        self.assertSame(ours, theirs, skip=VOLATILE)

    def test_exact(self):
        ours = gengap.exact(environments=3, octaves=12, half_width=40, valley_samples=30, fit_from=3)
        theirs = cli_json(SIM_EXE, ["exact", "-q", "-e", "3", "--octaves", "12", "--half-width", "40", "--valley-samples", "30",
                                    "--fit-from", "3"])
        self.assertSame(ours, theirs, skip=VOLATILE)
        self.assertEqual(ours.env_msd.shape, (3, len(ours.times)))

    def test_valley(self):
        ours = gengap.valley(gamma=4, samples=50, seed=2)
        theirs = cli_json(SIM_EXE, ["valley", "-g", "4", "-n", "50", "-s", "2"])
        self.assertSame(ours, theirs)
        self.assertEqual(ours.bottoms.dtype, np.int64)

    def test_lattice(self):
        ours = gengap.lattice(dims=[1, 2], boxes=[1024, 128], environments=3, walkers=2, t_max=300, temperatures=[1, 2], fit_tmin=10)
        theirs = cli_json(SIM_EXE, ["lattice", "-q", "--dims", "1,2", "--boxes", "1024,128", "-e", "3", "-w", "2", "-t", "300",
                                    "-T", "1,2", "--fit-tmin", "10"])
        self.assertSame(ours, theirs, skip=VOLATILE)
        self.assertEqual(ours.runs[0].env_msd.shape, (3, len(ours.runs[0].times)))

    def test_sgd(self):
        ours = gengap.sgd(dim=8, modes=32, landscapes=2, walkers=2, t_max=200, batch_sizes=[16, 64], small_batch=16, seed=5)
        theirs = cli_json(SIM_EXE, ["sgd", "--dim", "8", "--modes", "32", "-e", "2", "-w", "2", "-t", "200", "-B", "16,64",
                                    "--small-batch", "16", "-s", "5"])
        self.assertSame(ours, theirs, skip=VOLATILE)
        self.assertEqual(ours.batches[1].env_distance.shape, (2, len(ours.batches[1].result.times)))

    def test_fit_one_curve_and_samples(self):
        t = np.array([2.0, 5, 10, 20, 50, 100, 200, 500, 1000])
        rng = np.random.default_rng(1)
        rows = np.array([(np.log(t) + 0.5) ** 4 * (1 + 0.05 * rng.standard_normal(t.size)) for _ in range(4)])
        folder = scratch("fit")
        csv = os.path.join(folder, "curves.csv")
        with open(csv, "w") as f:
            f.write("t," + ",".join("s%d" % i for i in range(4)) + "\n")
            for i, ti in enumerate(t):
                f.write(repr(float(ti)) + "," + ",".join(repr(float(v)) for v in rows[:, i]) + "\n")
        theirs = cli_json(SIM_EXE, ["fit", csv, "--samples", "--bootstrap", "50", "--claim", "log-time", "--min-window-ratio", "10"])
        ours = gengap.fit(t, rows, bootstrap=50, claim="log-time", min_window_ratio=10)
        self.assertSame(ours, theirs, skip={"input"})
        self.assertIn(ours.claim.verdict, ("supported", "falsified", "undecided"))
        one = gengap.fit(t, rows[0], fixed_k=4)
        theirs1 = cli_json(SIM_EXE, ["fit", csv, "--y-column", "s0"])
        self.assertSame(one, theirs1, skip={"input"})


@unittest.skipUnless(SIM_EXE, "GENGAP_SIM_EXE not set")
class Errors(unittest.TestCase):
    """Bad arguments raise ValueError with the CLI's one-line message."""

    def same_message(self, call, cli_args):
        with self.assertRaises(ValueError) as ctx:
            call()
        self.assertEqual(str(ctx.exception), cli_error(SIM_EXE, cli_args))
        self.assertNotIn("\n", str(ctx.exception))

    def test_range_checks(self):
        self.same_message(lambda: gengap.walk(environments=0), ["walk", "-e", "0"])
        self.same_message(lambda: gengap.walk(temperature=-1.0), ["walk", "-T", "-1"])
        self.same_message(lambda: gengap.walk(potential="levy"), ["walk", "--potential", "levy"])
        self.same_message(lambda: gengap.exact(octaves=99), ["exact", "--octaves", "99"])
        self.same_message(lambda: gengap.valley(gamma=0.0), ["valley", "-g", "0"])
        self.same_message(lambda: gengap.lattice(dims=[4], boxes=[64]), ["lattice", "--dims", "4", "--boxes", "64"])
        self.same_message(lambda: gengap.sgd(lr_scaling="cubic"), ["sgd", "--lr-scaling", "cubic"])

    def test_memory_estimate_refuses_before_work(self):
        self.same_message(lambda: gengap.walk(environments=4000000000, t_max=10), ["walk", "-e", "4000000000", "-t", "10"])

    def test_types_and_unknown_keys(self):
        with self.assertRaisesRegex(ValueError, r"^environments = .*gengap\.walk\(\)"):
            gengap.walk(environments=2.5)
        with self.assertRaisesRegex(ValueError, r"^environmnets = .*unknown field in gengap\.walk\(\)"):
            gengap.walk(environmnets=10)
        with self.assertRaisesRegex(ValueError, r"^json = .*results are returned, not written"):
            gengap.walk(json="out.json")
        with self.assertRaisesRegex(ValueError, r"^temperature = nan"):
            gengap.walk(temperature=float("nan"))
        with self.assertRaisesRegex(ValueError, r"^seed = .*does not fit in 64 bits"):
            gengap.walk(seed=2 ** 70)
        with self.assertRaisesRegex(ValueError, r"^progress = "):
            gengap.walk(environments=2, t_max=10, progress=42)
        with self.assertRaisesRegex(ValueError, r"^y\[3\] = nan: must be finite"):
            gengap.fit([2, 3, 4, 5, 6], [1, 2, 3, float("nan"), 5])
        with self.assertRaisesRegex(ValueError, r"^csv = .*not an argument of gengap\.fit"):
            gengap.fit([2, 3, 4, 5], [1, 2, 3, 4], csv="x.csv")


class Example(unittest.TestCase):
    def test_the_documented_example_runs(self):
        import subprocess
        import sys
        script = os.path.join(os.path.dirname(__file__), "..", "..", "python", "examples", "sinai_kesten.py")
        proc = subprocess.run([sys.executable, script, "--quick"], capture_output=True, text=True, cwd=scratch("example"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Kesten: 61/45 = 1.3556", proc.stdout)
        self.assertIn("by hand: sigma^4 A^4 = ", proc.stdout)
        # The CLI's fit section and the fit by hand on the arrays give the same number.
        lines = proc.stdout.splitlines()
        cli = [l for l in lines if l.startswith("sigma^4 A^4 = ")][0].split()[3].rstrip(",")
        hand = [l for l in lines if l.startswith("by hand:")][0].split()[5].rstrip(",")
        self.assertEqual(cli, hand)


class Defaults(unittest.TestCase):
    def test_signatures_carry_the_cli_defaults(self):
        import inspect
        p = inspect.signature(gengap.walk).parameters
        self.assertEqual(p["environments"].default, 1000)
        self.assertEqual(p["t_max"].default, 100000)
        self.assertEqual(p["quantiles"].default, [0.05, 0.25, 0.5, 0.75, 0.95])
        self.assertNotIn("json", p)
        self.assertEqual(inspect.signature(gengap.exact).parameters["sigma"].default, 6.0)
        self.assertIn("environments = 1000", gengap.walk.__doc__)
        self.assertNotIn("csv", inspect.signature(gengap.fit).parameters)

    def test_result_attributes(self):
        r = gengap.walk(environments=4, t_max=100, bootstrap=0)
        self.assertIs(r.msd, r["msd"])
        self.assertEqual(r.parameters.seed, 1)
        with self.assertRaises(AttributeError):
            r.no_such_key
        self.assertEqual(r.times.dtype, np.int64)
        self.assertEqual(r.times[-1], 100)


if __name__ == "__main__":
    unittest.main()
