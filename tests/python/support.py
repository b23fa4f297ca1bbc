"""Shared helpers of the py. tests: the CLI to compare with, a scratch folder, exact comparisons."""

import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

SIM_EXE = os.environ.get("GENGAP_SIM_EXE", "")
TRAIN_EXE = os.environ.get("GENGAP_TRAIN_EXE", "")
TMP = os.environ.get("GENGAP_TEST_TMP", tempfile.gettempdir())


def scratch(name):
    """A fresh folder under the tests' scratch space."""
    os.makedirs(TMP, exist_ok=True)
    return tempfile.mkdtemp(prefix=name + "-", dir=TMP)


def cli_json(exe, args, out_name="out.json"):
    """Runs a gengap CLI with --json into a scratch file; returns the parsed document."""
    folder = scratch("cli")
    out = os.path.join(folder, out_name)
    proc = subprocess.run([exe] + args + ["--json", out], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (exe, proc.returncode, proc.stderr))
    with open(out, encoding="utf-8") as f:
        return json.load(f)


def cli_error(exe, args):
    """The one-line message a gengap CLI prints for bad input (exit code 2), without its prefix."""
    proc = subprocess.run([exe] + args, capture_output=True, text=True)
    if proc.returncode != 2:
        raise AssertionError("expected exit code 2, got %d: %s" % (proc.returncode, proc.stderr))
    line = proc.stderr.strip().splitlines()[-1]
    prefix = os.path.basename(exe) + ": error: "
    assert line.startswith(prefix), line
    return line[len(prefix):]


class ExactCase(unittest.TestCase):
    """assertSame: two JSON-like documents (dicts, lists, numpy arrays, numbers) equal bitwise."""

    def assertSame(self, ours, theirs, path="", skip=()):
        if isinstance(theirs, dict):
            self.assertIsInstance(ours, dict, path)
            for k, v in theirs.items():
                if k in skip:
                    continue
                self.assertIn(k, ours, path + "." + k)
                self.assertSame(ours[k], v, path + "." + k, skip)
        elif isinstance(theirs, list) and (not theirs or not isinstance(theirs[0], (dict, str))):
            a = np.asarray(ours, dtype=float)
            b = np.asarray(theirs, dtype=float)
            self.assertEqual(a.shape, b.shape, path)
            # Bitwise: the same doubles (NaN equal to NaN where both are null/NaN).
            self.assertTrue(np.array_equal(a, b, equal_nan=True), "%s differs: %r vs %r" % (path, a, b))
        elif isinstance(theirs, list):
            self.assertEqual(len(ours), len(theirs), path)
            for i, (x, y) in enumerate(zip(ours, theirs)):
                self.assertSame(x, y, "%s[%d]" % (path, i), skip)
        elif isinstance(theirs, float):
            self.assertEqual(float(ours), theirs, path)
        else:
            self.assertEqual(ours, theirs, path)
