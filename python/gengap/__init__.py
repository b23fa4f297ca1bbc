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
import json as _json

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
    "Result", "Table", "walk", "exact", "merge", "valley", "lattice", "sgd", "power", "sgd_run", "fit", "train", "default_train_config",
    "KESTEN_MEAN_ABS", "KESTEN_SECOND_MOMENT", "kesten_pdf", "kesten_cdf", "kesten_abs_moment",
    "predicted_msd_exponent", "predicted_distance_exponent", "sigma2", "log_times", "landscape", "mfpt",
    "mfpt_monte_carlo", "valley_bottom", "compare_models", "compare_distance_models", "bootstrap_fits",
    "decide_log_time", "curve_overlap", "LatticeField", "FourierField", "read_csv", "read_run",
    "read_distance", "read_metrics", "read_summary",
]


def _short(value):
    """A value as repr() shows it inside a Result: arrays and long lists by shape, nested Results by keys."""
    if isinstance(value, _np.ndarray):
        return "array(%s, %s)" % ("x".join(str(n) for n in value.shape) or "scalar", value.dtype)
    if isinstance(value, Result):
        keys = list(value)
        return "{%s%s}" % (", ".join(keys[:6]), ", ..." if len(keys) > 6 else "")
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return "[%d items]" % len(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Result(dict):
    """A result document: a dict (the keys of the CLI's JSON) whose keys are also attributes.
    repr() summarizes (arrays by shape and type); print(dict(r)) shows everything."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return sorted(set(self.keys()) | set(dir(dict)))

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%s" % (k, _short(v)) for k, v in self.items()))

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(repr(self))


class Table(Result):
    """Columns of equal length (a dict: name -> numpy array, as pandas.DataFrame(table) takes it),
    with rows by position: table[3] (a Result of that row's values), table[-1], table.rows(),
    table.nrows, table.to_records() (a numpy record array)."""

    __slots__ = ()

    def __getitem__(self, key):
        if isinstance(key, (int, _np.integer)) and not isinstance(key, bool):
            n = self.nrows
            i = int(key) + (n if key < 0 else 0)
            if not 0 <= i < n:
                raise IndexError("row %d of a table of %d rows" % (int(key), n))
            return Result({k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in self.items()})
        return dict.__getitem__(self, key)

    @property
    def nrows(self):
        """The number of rows."""
        return len(next(iter(self.values()))) if self else 0

    def rows(self):
        """The rows in order, each a Result."""
        return (self[i] for i in range(self.nrows))

    def to_records(self):
        """The table as a numpy record array (one field per column)."""
        return _np.rec.fromarrays([_np.asarray(v) for v in self.values()], names=list(self.keys()))

    def __repr__(self):
        return "Table(%d rows: %s)" % (self.nrows, ", ".join("%s %s" % (k, _np.asarray(v).dtype) for k, v in self.items()))


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
curve_overlap = _returns_result(_sim.curve_overlap)


def log_times(t_max, per_decade=10):
    """Distinct log-spaced integer times 1 ... t_max (steps), per_decade to a decade, as an int64 array."""
    return _np.asarray(_sim.log_times(t_max, per_decade), dtype=_np.int64)


def compare_models(t, y, fixed_k=4.0):
    """log-fixed (y = (A (ln t - c))^fixed_k), log-free (B (ln t - c)^k) and power (C t^beta) fits of one
    curve y(t) on ln y, best AIC first: a list of Results (model, formula, params, n, free_params, rss,
    aic, bic, at_bound: the parameters pinned at their search bound, not estimates)."""
    return _wrap(_sim.compare_models(t, y, fixed_k))


def compare_distance_models(t, y, fixed_k=1.0):
    """log-c (y = A (ln t - c)^k), log-c-fixed (k = fixed_k) and power-offset (a + C t^beta) fits of a
    distance d(t) on d, best AIC first (as compare_models)."""
    return _wrap(_sim.compare_distance_models(t, y, fixed_k))


def _alias(value, old, old_name, new_name):
    """The value of a renamed argument: the new name's, or the old name's (still accepted)."""
    if old is not None:
        if value is not None:
            raise TypeError("give %s or its old name %s, not both" % (new_name, old_name))
        return old
    return value


def bootstrap_fits(t, y=None, bootstrap=None, level=0.95, seed=1, fixed_k=4.0, family="msd", *, samples=None, resamples=None):
    """Fits of the mean of the rows of y (2-D, row = sample: seeds or environments; columns = times t)
    with bootstrap intervals over rows: bootstrap resamples (default 200, as gengap.fit), at level.
    family "msd" fits log-fixed, log-free and power (compare_models); "distance" the distance models.
    The names are gengap.fit's; the old ones (samples for y, resamples for bootstrap) are accepted."""
    y = _alias(y, samples, "samples", "y")
    bootstrap = _alias(bootstrap, resamples, "resamples", "bootstrap")
    if y is None:
        raise TypeError("bootstrap_fits() needs y (row = sample)")
    return _wrap(_sim.bootstrap_fits(t, y, 200 if bootstrap is None else bootstrap, level, seed, fixed_k, family))


def decide_log_time(t, y=None, tmin=None, tmax=None, *, k_max=8.0, k_min=1.0 / 3, min_window_ratio=30.0, min_points=8,
                    min_samples=3, level=0.95, samples=None, t0=None, t1=None):
    """The log-time claim on curves y (2-D, row = run) within the window [tmin, tmax]: supported,
    falsified or undecided, with the inverse exponent w (1/k for A (ln t - c)^k, 0 for a power of t) on
    the whole window and its second half, Student-t intervals over runs (docs: How the reproduction
    decides). The names are gengap.fit's; the old ones (samples, t0, t1) are accepted."""
    y = _alias(y, samples, "samples", "y")
    tmin = _alias(tmin, t0, "t0", "tmin")
    tmax = _alias(tmax, t1, "t1", "tmax")
    if y is None or tmin is None or tmax is None:
        raise TypeError("decide_log_time() needs t, y, tmin and tmax")
    return _wrap(_sim.decide_log_time(t, y, tmin, tmax, k_max, k_min, min_window_ratio, min_points, min_samples, level))


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


def _shard_text(shard):
    """A shard given as (i, n) or "i/n" as the CLI's "i/n"."""
    if isinstance(shard, str):
        return shard
    if isinstance(shard, tuple) and len(shard) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in shard):
        return "%d/%d" % shard
    raise TypeError("shard must be (index, count) or 'index/count', not %r" % (shard,))


def _command(name, summary, post=None):
    def run(*, progress=None, **options):
        if options.get("shard"):
            options["shard"] = _shard_text(options["shard"])
            return _wrap(_json.loads(_sim.run_shard(name, options, progress)))
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


_SHARD_NOTE = """

Shards (runs split across processes or machines; docs: Running on a cluster): shard=(i, n)
computes only the contiguous block i of n of the environments and returns the shard document (a
Result holding the run's config, the shard's id and the raw per-environment results, base64;
json.dump it to a file as is). gengap.merge([...]) of all n shards returns this function's result,
bitwise (the wall-clock fields aside)."""
for _f in (walk, exact, valley, lattice):
    _f.__doc__ += _SHARD_NOTE


def merge(shards):
    """The result of a run from its shards: shards is a list of shard documents (what
    walk/exact/valley/lattice(..., shard=(i, n)) return) or paths of shard files (what
    gengap-sim ... --shard i/n --json FILE writes), in any order, every shard exactly once.
    Returns what the unsharded call returns (bitwise the same numbers; the wall-clock fields
    hold the shards' summed times). Raises ValueError with one line naming the shard for a
    missing, duplicated, foreign (another run) or damaged shard."""
    items = []
    for k, s in enumerate(shards):
        if isinstance(s, dict):
            items.append(("shards[%d]" % k, _json.dumps(s)))
        elif isinstance(s, (str, bytes, _os.PathLike)):
            path = _os.fsdecode(s)
            with open(path, encoding="utf-8") as f:
                items.append((path, f.read()))
        else:
            raise TypeError("shards[%d]: expected a shard document (dict) or a file path, not %s" % (k, type(s).__name__))
    out = _wrap(_sim.merge(items))
    first = shards[0] if shards else None
    command = first.get("command") if isinstance(first, dict) else None
    if command is None and items:
        try:
            command = _json.loads(items[0][1]).get("command")
        except ValueError:
            command = None
    return _walk_post(out) if command == "walk" else out


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
    if not merged.get("epochs") and not merged.get("max_iterations") and merged.get("regime_scale", 1) == 1:
        model = merged.get("model", "f1")
        _warnings.warn("no epochs (or max_iterations) given: training the authors' full regime for %s (%s); pass epochs=... "
                       "to train less" % (model, _REGIME_LENGTH.get(model, "its own length")), UserWarning, stacklevel=2)
    result = _wrap(_train_module().train(merged, progress))
    if result.get("blas") in _GENERIC_BLAS and "OPENBLAS_CORETYPE" not in _os.environ:
        _warnings.warn("OpenBLAS ran its generic %s kernels (it does not know this processor); on a processor with AVX2, "
                       "start Python with OPENBLAS_CORETYPE=Haswell to train about 3x faster (gengap-train and gengap-repro "
                       "do this themselves)" % result["blas"], RuntimeWarning, stacklevel=2)
    return result


# The authors' regime lengths (gengap::train::authors_regime), for the warning of train().
_REGIME_LENGTH = {"f1": "40 epochs", "c1": "240 epochs", "c3": "240 epochs", "vgg": "200 epochs", "wresnet16-4": "160 epochs",
                  "resnet44": "200 epochs"}

# OpenBLAS's pre-AVX2 kernel families (gengap::core::is_generic_blas_kernel).
_GENERIC_BLAS = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood", "Banias",
                 "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Bobcat"}
