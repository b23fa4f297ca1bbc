"""Sinai's walk from Python: simulate an ensemble, fit <x^2> = (A (ln t - c))^4 with bootstrap
intervals over environments, and compare sigma^4 A^4 with Kesten's E b^2 = 61/45.

    PYTHONPATH=build/release/python python3 python/examples/sinai_kesten.py [--quick]
"""

import sys

import numpy as np

import gengap

quick = "--quick" in sys.argv
r = gengap.walk(potential="sinai-gaussian", sigma=1.0, temperature=1.0,
                environments=100 if quick else 1000, walkers=4 if quick else 16,
                t_max=10 ** 4 if quick else 10 ** 6, fit_tmin=100, seed=1,
                progress=None if quick else (lambda f: print("\r%5.1f%%" % (100 * f), end="", file=sys.stderr)))
print(file=sys.stderr)

print("walker-steps: %.3g in %.1f s (%s path)" % (r.stats.walker_steps, r.stats.seconds, r.stats.simd))
print("<x^2>(t_max) = %.1f sites^2; per-environment spread (std / mean) %.2f"
      % (r.msd[-1], r.env_msd[:, -1].std() / r.env_msd[:, -1].mean()))
for m in r.fit.models:
    print("  %-9s AIC %8.2f  %s" % (m.model, m.aic, ", ".join("%s = %.4g" % kv for kv in m.params.items())))
k = r.fit.kesten
print("preferred model: %s" % r.fit.preferred)
print("sigma^4 A^4 = %.3f, 95%% interval [%.3f, %.3f]; Kesten: 61/45 = %.4f"
      % (k.estimate, k.ci[0], k.ci[1], gengap.KESTEN_SECOND_MOMENT))

# The same fit by hand on the arrays, with the library's functions: the mean of the environments'
# curves on t >= 100, log-fixed with k = 4 (Sinai), bootstrap over environments.
keep = r.times >= 100
b = gengap.bootstrap_fits(r.times[keep].astype(float), r.env_msd[:, keep], resamples=200, seed=1, fixed_k=4)
fixed = [m for m in b.models if m.model == "log-fixed"][0]
a, c = fixed.params["A"], fixed.params["c"]
print("by hand: sigma^4 A^4 = %.3f, interval [%.3f, %.3f] (sigma2 = %g)"
      % (r.sigma2 ** 2 * a ** 4, r.sigma2 ** 2 * fixed.ci["A"][0] ** 4, r.sigma2 ** 2 * fixed.ci["A"][1] ** 4, r.sigma2))

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not found: no plot")
else:
    lt = np.log(r.times[1:].astype(float))
    plt.plot(lt, r.msd[1:] ** 0.25, "o", label="<x^2>^(1/4), simulated")
    plt.plot(lt, a * (lt - c), "-", label="A (ln t - c)")
    plt.xlabel("ln t")
    plt.ylabel("<x^2>^(1/4) (sites^(1/2))")
    plt.legend()
    plt.savefig("sinai_kesten.png", dpi=120)
    print("plot: sinai_kesten.png")
