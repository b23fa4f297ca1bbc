"""Reading a training run's folder (what gengap-train and gengap.train() write) into arrays and dicts."""

import json as _json
import os as _os

from ._sim import read_csv


def read_distance(folder):
    """distance.csv: {column: numpy array} (iteration, epoch, loss, distance = ||w_t - w_0||,
    probe_loss_delta, probe_test_loss_delta, grad_norm, clipped), one row per recorded update."""
    return read_csv(_os.path.join(folder, "distance.csv"))


def read_metrics(folder):
    """metrics.jsonl: one dict per finished epoch (epoch, iteration, lr, train_loss, test_loss,
    test_accuracy in [0, 1], distance, seconds, noise_scale). Raises ValueError naming the line."""
    path = _os.path.join(folder, "metrics.jsonl")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(_json.loads(line))
            except ValueError as e:
                raise ValueError("%s:%d: not a JSON object (%s)" % (path, n, e)) from None
    return rows


def read_summary(folder):
    """summary.json: the run's final numbers (iterations, epochs, accuracies in [0, 1], losses,
    final_distance, seconds, device, ...)."""
    path = _os.path.join(folder, "summary.json")
    with open(path, encoding="utf-8") as f:
        try:
            return _json.load(f)
        except ValueError as e:
            raise ValueError("%s: not JSON (%s)" % (path, e)) from None


def read_run(folder):
    """Everything of a run folder that is there: {"distance": {column: array}, "metrics": [dict per
    epoch], "summary": dict, "config": dict}; a file that is missing (a run still going, or stopped)
    is left out. Raises FileNotFoundError when the folder holds none of them."""
    from . import Result  # the package's dict with attribute access

    out = Result()
    readers = {"distance": ("distance.csv", read_distance), "metrics": ("metrics.jsonl", read_metrics),
               "summary": ("summary.json", read_summary), "config": ("config.json", None)}
    for key, (name, reader) in readers.items():
        path = _os.path.join(folder, name)
        if not _os.path.exists(path):
            continue
        if reader is None:
            with open(path, encoding="utf-8") as f:
                out[key] = _json.load(f)
        else:
            out[key] = reader(folder)
    if not out:
        raise FileNotFoundError("%s: no distance.csv, metrics.jsonl, summary.json or config.json: not a run folder" % folder)
    return out
