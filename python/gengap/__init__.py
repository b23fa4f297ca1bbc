"""gengap from Python: random walks on random potentials, their exact theory, the fits of the
ultra-slow growth and the three-outcome checks of Hoffer, Hubara & Soudry (NeurIPS 2017), on numpy
arrays, and (when gengap was built with LibTorch) the trainer.

The simulators are the gengap-sim commands run in-process: ``walk``, ``exact``, ``valley``,
``lattice`` and ``sgd`` take the CLI's config keys as keyword arguments, with the CLI's defaults,
check them with the CLI's own checks (a bad value raises ValueError with the CLI's one-line message)
and return the CLI's JSON document (bitwise the same numbers for the same seed) as a ``Result``: a
dict whose keys are also attributes, numeric lists as numpy arrays, plus the per-sample arrays the
CLI does not write (``env_msd``: row = environment). Long calls run on the library's threads without
the GIL, report progress to an optional ``progress(fraction)`` callback and stop on Ctrl-C
(KeyboardInterrupt).

Units: times in steps (iterations), positions in lattice sites, potentials and temperatures in the
same energy units, ``msd`` in sites squared.

Example::

    import gengap
    r = gengap.walk(environments=400, walkers=8, t_max=10**6, seed=1)
    print(r.fit.preferred, r.fit.kesten.estimate, gengap.KESTEN_SECOND_MOMENT)
"""

import inspect as _inspect

import os as _os
import warnings as _warnings

import numpy as _np

import functools as _functools

from . import _sim
from ._sim import (
    KESTEN_MEAN_ABS,
    KESTEN_SECOND_MOMENT,
    FourierField,
    LatticeField,
    kesten_abs_moment,
    kesten_cdf,
    kesten_pdf,
    log_times,
    mfpt,
    predicted_distance_exponent,
    predicted_msd_exponent,
    read_csv,
    sigma2,
    valley_bottom,
)
from .runs import read_distance, read_metrics, read_run, read_summary

__version__ = "0.1.0"

__all__ = [
    "Result", "walk", "exact", "valley", "lattice", "sgd", "power", "sgd_run", "fit", "train", "default_train_config",
    "KESTEN_MEAN_ABS", "KESTEN_SECOND_MOMENT", "kesten_pdf", "kesten_cdf", "kesten_abs_moment",
    "predicted_msd_exponent", "predicted_distance_exponent", "sigma2", "log_times", "landscape", "mfpt",
    "mfpt_monte_carlo", "valley_bottom", "compare_models", "compare_distance_models", "bootstrap_fits",
    "decide_log_time", "curve_overlap", "LatticeField", "FourierField", "read_csv", "read_run",
    "read_distance", "read_metrics", "read_summary",
]


class Result(dict):
    """A result document: a dict (the keys of the CLI's JSON) whose keys are also attributes."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return sorted(set(self.keys()) | set(dir(dict)))


def _wrap(value):
    """Nested dicts as Results (so that r.fit.kesten.estimate reads)."""
    if isinstance(value, dict):
        return Result({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _returns_result(f):
    """f (a function of _sim returning dicts) with its dicts as Results."""

    @_functools.wraps(f)
    def g(*args, **kwargs):
        return _wrap(f(*args, **kwargs))

    return g


landscape = _returns_result(_sim.landscape)
mfpt_monte_carlo = _returns_result(_sim.mfpt_monte_carlo)
compare_models = _returns_result(_sim.compare_models)
compare_distance_models = _returns_result(_sim.compare_distance_models)
bootstrap_fits = _returns_result(_sim.bootstrap_fits)
decide_log_time = _returns_result(_sim.decide_log_time)
curve_overlap = _returns_result(_sim.curve_overlap)


def _plain(value):
    """A default as the signature shows it (numpy arrays as lists)."""
    return value.tolist() if isinstance(value, _np.ndarray) else value


def _signature_and_doc(name, summary, options, leading=(), with_progress=True):
    params = list(leading)
    lines = [summary, "", "Keyword arguments (gengap-sim %s's config keys and defaults):" % name, ""]
    for o in options:
        default = _plain(o["default"])
        params.append(_inspect.Parameter(o["key"], _inspect.Parameter.KEYWORD_ONLY, default=default))
        lines.append("    %s = %r: %s" % (o["key"], default, o["help"]))
    if with_progress:
        params.append(_inspect.Parameter("progress", _inspect.Parameter.KEYWORD_ONLY, default=None))
        lines += ["    progress = None: a callable taking the fraction done (called about 5 times a second,",
                  "        on the calling thread); an exception it raises stops the run and is raised here.",
                  "", "Raises ValueError (with the CLI's message) for a bad argument, KeyboardInterrupt on Ctrl-C."]
    else:
        lines += ["", "Raises ValueError (with the CLI's message) for a bad argument."]
    return _inspect.Signature(params), "\n".join(lines)


def _command(name, summary, post=None):
    def run(*, progress=None, **options):
        out = _wrap(_sim.run_command(name, options, progress))
        return post(out) if post else out

    run.__name__ = run.__qualname__ = name
    run.__signature__, run.__doc__ = _signature_and_doc(name, summary, _sim.describe(name))
    return run


def _walk_post(r):
    if "positions" in r:
        p = r["parameters"]
        r["positions"] = _np.asarray(r["positions"], dtype=_np.int64).reshape(p["environments"], p["walkers"])
    return r


walk = _command("walk", """An ensemble of walkers on random 1D potentials (Sinai, fBm, flat).

Returns a Result with times (steps), mean_x, msd (sites^2), mean_abs at those times; quantiles
(levels, values: row = time); env_msd (row = environment, column = time: each environment's thermal
<x^2>); positions (with positions=True: final positions shaped (environments, walkers)); sigma2
(Var(V(x+1) - V(x)) / T^2); the fit section of the CLI (models with bootstrap intervals over
environments, the preferred model and, for Sinai, sigma^4 A^4 against Kesten's 61/45); stats.""", _walk_post)

exact = _command("exact", """Exact thermal averages of the 1D walk to t = 2^octaves steps, without stepping.

Returns a Result with times (steps), ln_t, msd and msd_se (sites^2, environment average and its
standard error), env_msd (row = environment), edge_mass (probability near the window's edges), stats
and, for Sinai potentials, kesten: the approach of sigma^4 <x^2> / (ln t - c)^4 to 61/45.""")

valley = _command("valley", """Golosov's valley bottom b_Gamma of many environments, from the potential alone.

Returns a Result with bottoms (sites, one per environment) and scaled: E|b| and E b^2 of
b = sigma^(2/alpha) b_Gamma / Gamma^(2/alpha) with, for Sinai, the Kolmogorov-Smirnov distance to
Kesten's law. No progress reports: Ctrl-C is seen when the sampling ends.""")

lattice = _command("lattice", """Walkers on Gaussian fields on Z^d (d = 1, 2, 3): the growth exponent against d.

Returns a Result with runs (one per dimension and temperature: times, msd in sites^2, env_msd, fit)
and by_dim (fitted exponents k of <|x|^2> = B (ln t - c)^k against 4/alpha, collapse on T ln t / s).""")

power = _command("power", """The power of the log-time rule on a window: its outcomes on curves of known families.

Returns a Result with parameters (window, runs, noise, draws, seed, rule) and families: for each
control family (laws in ln t, powers of t, linear growth, saturation, a peak) whether the claim holds
for it and how many draws the rule supported, falsified and left undecided. Milliseconds per family.""")

sgd = _command("sgd", """SGD on a high-dimensional random Fourier landscape: the batch-size experiment in silico.

Returns a Result with batches (per batch size: lr, result with times in iterations, mean_distance
|w_t - w_0|, msd, mean_value, coordinate_variance; env_distance: row = landscape; fits of d(t)) and
overlap (spread of the distance curves against iterations and against epochs).""")


_FIT_EXCLUDED = {"csv", "json", "t_column", "y_column", "samples"}


def fit(t, y, **options):
    return _wrap(_sim.fit(_np.asarray(t, dtype=float), _np.asarray(y, dtype=float), options))


fit.__signature__, fit.__doc__ = _signature_and_doc(
    "fit",
    """gengap-sim fit on arrays: y(t) fitted with every growth model, compared by AIC and BIC.

t: times (> 1 are used, inside [tmin, tmax]); y: one curve (1-D, one value per time) or curves of
independent samples (2-D, row = sample: the mean is fitted with bootstrap intervals over rows, and
claim="log-time" decides the log-time claim over the rows). Returns a Result with models (best AIC
first), preferred and, with claim, the decision (verdict supported / falsified / undecided, reason).""",
    [o for o in _sim.describe("fit") if o["key"] not in _FIT_EXCLUDED],
    leading=(_inspect.Parameter("t", _inspect.Parameter.POSITIONAL_OR_KEYWORD),
             _inspect.Parameter("y", _inspect.Parameter.POSITIONAL_OR_KEYWORD)),
    with_progress=False)


def sgd_run(*, dim=100, modes=1024, alpha=1.0, k_min=0.05, k_max=50.0, strength=1.0, field_seed=1, landscapes=8, walkers=4,
            lr=0.1, momentum=0.0, noise=1.0, batch=1, temperature=0.0, times=None, t_max=10000, per_decade=10, seed=1,
            threads=0, progress=None):
    """One run of noisy gradient descent on Fourier landscapes 0 ... landscapes-1 (FourierField with
    seed field_seed): every walker starts at w = 0 and steps
    v <- momentum v - lr grad V(w) + sqrt(lr^2 noise^2 / batch + 2 lr temperature) xi,  w <- w + v.
    temperature = 0 is SGD with gradient noise noise / sqrt(batch); temperature > 0 adds Langevin noise.

    times: recording times (iterations; default log_times(t_max, per_decade)). Returns a Result with
    times, mean_distance (E |w_t - w_0|), msd, mean_value (E V(w_t)), coordinate_variance,
    env_distance (row = landscape), steps and seconds. Runs without the GIL; progress and Ctrl-C as in walk().
    """
    if times is None:
        times = log_times(t_max, per_decade)
    return _wrap(_sim.sgd_run(dim, modes, alpha, k_min, k_max, strength, field_seed, landscapes, walkers, lr, momentum, noise,
                              batch, temperature, [int(x) for x in times], seed, threads, progress))


def _train_module():
    try:
        from . import _train
    except ImportError as e:
        raise ImportError("gengap.train needs the module built with LibTorch (GENGAP_BUILD_TRAIN=ON): " + str(e)) from None
    return _train


def default_train_config():
    """Every key of a training config (gengap-train's) with its default, as a dict."""
    return _wrap(_train_module().default_config())


def train(config=None, *, progress=None, **keys):
    """Trains one of the paper's networks with LibTorch (needs gengap built with LibTorch).

    config: a dict of gengap-train's config keys (default_train_config() lists them with their defaults);
    keyword arguments override it. Files go to out_dir (config.json, metrics.jsonl, distance.csv, ...:
    read them back with read_run(out_dir)). Runs without the GIL; progress(fraction of the planned
    updates) as in walk(). Ctrl-C stops training after the current update with KeyboardInterrupt: the
    files on disk stay complete, as written at the end of the last finished epoch (resume=True continues).
    Returns the summary (accuracies in [0, 1], losses, ||w - w_0||, seconds, device) and out_dir.
    """
    merged = dict(config or {})
    merged.update(keys)
    result = _wrap(_train_module().train(merged, progress))
    if result.get("blas") in _GENERIC_BLAS and "OPENBLAS_CORETYPE" not in _os.environ:
        _warnings.warn("OpenBLAS ran its generic %s kernels (it does not know this processor); on a processor with AVX2, "
                       "start Python with OPENBLAS_CORETYPE=Haswell to train about 3x faster (gengap-train and gengap-repro "
                       "do this themselves)" % result["blas"], RuntimeWarning, stacklevel=2)
    return result


# OpenBLAS's pre-AVX2 kernel families (gengap::core::is_generic_blas_kernel).
_GENERIC_BLAS = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood", "Banias",
                 "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Bobcat"}
