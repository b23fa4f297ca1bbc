"""scripts/bench-record.py and scripts/bench-compare.py on records this test writes."""
import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORD = os.path.join(ROOT, "scripts", "bench-record.py")
COMPARE = os.path.join(ROOT, "scripts", "bench-compare.py")

# A stand-in for a Google Benchmark binary: writes the JSON named by --benchmark_out.
FAKE = """#!/usr/bin/env python3
import json, sys
out = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--benchmark_out=")][0]
scale = float(sys.argv[0].rsplit("_", 1)[1])
doc = {"context": {"host_name": "test", "only_" + sys.argv[0][-3:]: "yes"}, "benchmarks": [
    {"name": "BM_Walk", "run_name": "BM_Walk", "run_type": "iteration", "real_time": 10.0 * scale,
     "cpu_time": 10.0 * scale, "time_unit": "ms", "iterations": 3, "steps_per_s": 100.0 / scale},
    {"name": "BM_Only_%s" % sys.argv[0][-3:], "run_type": "iteration", "real_time": 1.0, "time_unit": "ns"}]}
json.dump(doc, open(out, "w"))
"""


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True)


class BenchScripts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.bins = {}
        for scale in ("1.0", "0.5"):
            path = os.path.join(self.dir, "fake_" + scale)
            with open(path, "w") as f:
                f.write(FAKE)
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
            self.bins[scale] = path

    def tearDown(self):
        self.tmp.cleanup()

    def record(self, name, *bins):
        out = os.path.join(self.dir, name)
        r = run(RECORD, out, *bins)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def test_record_merges_binaries_and_adds_the_machine(self):
        out = self.record("a.json", self.bins["1.0"], self.bins["0.5"])
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(len(doc["benchmarks"]), 4)
        self.assertEqual({b["binary"] for b in doc["benchmarks"]}, {"fake_1.0", "fake_0.5"})
        # Each binary's own context entries are kept (the first binary's value where both have a key).
        self.assertEqual(doc["context"]["only_1.0"], "yes")
        self.assertEqual(doc["context"]["only_0.5"], "yes")
        self.assertEqual(doc["context"]["host_name"], "test")
        m = doc["context"]["machine"]
        for key in ("cpu_model", "cpu_flags", "logical_cpus", "commit"):
            self.assertIn(key, m)
        with open("/proc/cpuinfo") as f:
            if any(line.startswith("cpu family") for line in f):
                self.assertIn("cpu_family", m)
                self.assertIn("cpu_model_number", m)
        self.assertFalse([f for f in os.listdir(self.dir) if f.startswith(".bench-")])  # no temporary left

    def test_compare_prints_time_and_counter_ratios(self):
        a = self.record("a.json", self.bins["1.0"])
        b = self.record("b.json", self.bins["0.5"])
        r = run(COMPARE, a, b)
        self.assertEqual(r.returncode, 0, r.stderr)
        walk = [l for l in r.stdout.splitlines() if l.startswith("BM_Walk")][0]
        self.assertAlmostEqual(float(walk.split()[-1]), 0.5)     # half the time
        rate = [l for l in r.stdout.splitlines() if l.strip().startswith("steps_per_s")][0]
        self.assertAlmostEqual(float(rate.split()[-1]), 2.0)     # twice the rate
        self.assertIn("in one record only", r.stdout)

    def test_compare_warns_when_the_cpus_differ(self):
        a = self.record("a.json", self.bins["1.0"])
        b = self.record("b.json", self.bins["0.5"])
        r = run(COMPARE, a, b)
        self.assertNotIn("warning", r.stdout)  # the same machine
        for key, value in (("cpu_family", "99"), ("cpu_model_number", "99"), ("cpu_flags", "sse4_2")):
            with open(b) as f:
                doc = json.load(f)
            doc["context"]["machine"][key] = value
            c = os.path.join(self.dir, "c.json")
            with open(c, "w") as f:
                json.dump(doc, f)
            r = run(COMPARE, a, c)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("different CPUs", r.stdout, key)
        with open(b) as f:
            doc = json.load(f)
        if "cpu_family" in doc["context"]["machine"]:
            del doc["context"]["machine"]["cpu_family"]  # an older record
            with open(c, "w") as f:
                json.dump(doc, f)
            self.assertIn("does not name the CPU family", run(COMPARE, a, c).stdout)

    def test_bad_input_is_one_line_and_exit_2(self):
        a = self.record("a.json", self.bins["1.0"])
        bad = os.path.join(self.dir, "bad.json")
        with open(bad, "w") as f:
            f.write("{not json")
        bad_machine = os.path.join(self.dir, "bad_machine.json")
        with open(bad_machine, "w") as f:
            json.dump({"context": {"machine": "x"}, "benchmarks": []}, f)
        bad_context = os.path.join(self.dir, "bad_context.json")
        with open(bad_context, "w") as f:
            json.dump({"context": [], "benchmarks": []}, f)
        for args in ((a, bad), (a, os.path.join(self.dir, "missing.json")), (a,), (a, bad_machine), (bad_context, a)):
            r = run(COMPARE, *args)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = run(RECORD, os.path.join(self.dir, "x.json"), os.path.join(self.dir, "nope"))
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x.json")))


if __name__ == "__main__":
    unittest.main()
