"""Reading a training run's folder (what gengap-train and gengap.train() write) into arrays and dicts."""

import json as _json
import os as _os

import numpy as _np

from ._sim import read_csv


def _table(columns):
    from . import Table

    return Table(columns)


def _column(values):
    """A list of JSON values as a numpy array: int64 when every value is an integer, float64 when every
    value is a number (a missing one NaN), else an object array."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return _np.asarray(values, dtype=object) if len(present) < len(values) else _np.asarray(values, dtype=bool)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present) and len(present) == len(values):
        return _np.asarray(values, dtype=_np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return _np.asarray([_np.nan if v is None else v for v in values], dtype=float)
    return _np.asarray(values, dtype=object)


def read_distance(folder):
    """distance.csv as a Table (column -> numpy array; table[i] is row i): iteration (int64), epoch,
    loss, distance = ||w_t - w_0||, probe_loss_delta, probe_test_loss_delta, grad_norm, clipped,
    one row per recorded update."""
    cols = read_csv(_os.path.join(folder, "distance.csv"))
    out = {}
    for k, v in cols.items():
        v = _np.asarray(v)
        # Counts are integers: iteration (and clipped, a count of clipped updates) as int64 when exact.
        if k in ("iteration", "clipped") and v.size and _np.all(v == _np.round(v)) and _np.all(_np.abs(v) < 2.0 ** 53):
            v = v.astype(_np.int64)
        out[k] = v
    return _table(out)


def read_metrics(folder):
    """metrics.jsonl as a Table, one row per finished epoch (column -> numpy array; table[i] is row
    i as a Result; table.rows() iterates them): epoch, iteration (int64), lr, train_loss, test_loss,
    test_accuracy in [0, 1], distance, seconds, noise_scale (NaN where a row lacks it). Raises
    ValueError naming the line."""
    path = _os.path.join(folder, "metrics.jsonl")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = _json.loads(line)
            except ValueError as e:
                raise ValueError("%s:%d: not a JSON object (%s)" % (path, n, e)) from None
            if not isinstance(row, dict):
                raise ValueError("%s:%d: not a JSON object" % (path, n))
            rows.append(row)
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    return _table({k: _column([r.get(k) for r in rows]) for k in keys})


def read_summary(folder):
    """summary.json as a Result: the run's final numbers (iterations, epochs, accuracies in [0, 1],
    losses, final_distance, seconds, device, schedule, ...)."""
    from . import _wrap

    path = _os.path.join(folder, "summary.json")
    with open(path, encoding="utf-8") as f:
        try:
            return _wrap(_json.load(f))
        except ValueError as e:
            raise ValueError("%s: not JSON (%s)" % (path, e)) from None


def read_run(folder):
    """Everything of a run folder that is there, as a Result: distance and metrics (Tables: column ->
    numpy array, table[i] a row), summary and config (Results); a file that is missing (a run still
    going, or stopped) is left out. Raises FileNotFoundError when the folder holds none of them."""
    from . import Result, _wrap  # the package's dict with attribute access

    out = Result()
    readers = {"distance": ("distance.csv", read_distance), "metrics": ("metrics.jsonl", read_metrics),
               "summary": ("summary.json", read_summary), "config": ("config.json", None)}
    for key, (name, reader) in readers.items():
        path = _os.path.join(folder, name)
        if not _os.path.exists(path):
            continue
        if reader is None:
            with open(path, encoding="utf-8") as f:
                out[key] = _wrap(_json.load(f))
        else:
            out[key] = reader(folder)
    if not out:
        raise FileNotFoundError("%s: no distance.csv, metrics.jsonl, summary.json or config.json: not a run folder" % folder)
    return out
