"""Hostile inputs, one probe per kind (issue 28): every one ends in a one-line refusal (exit 2, or 1
for lost output) naming what is wrong, before any work, leaving nothing behind; none crashes."""

import json
import os
import subprocess
import unittest

import gengap
from support import SIM_EXE, TRAIN_EXE, scratch

REPRO_EXE = os.environ.get("GENGAP_REPRO_EXE", "")


def run(exe, args, **kw):
    return subprocess.run([exe] + args, capture_output=True, text=True, errors="replace", timeout=300, **kw)


class Refusal:
    """Mixin: asserts a one-line refusal with exit code `code` whose message contains `needle`."""

    def refused(self, exe, args, needle, code=2, **kw):
        p = run(exe, args, **kw)
        self.assertEqual(p.returncode, code, "%s %s -> %d: %s" % (os.path.basename(exe), args, p.returncode, p.stderr[-500:]))
        lines = [l for l in p.stderr.strip().splitlines() if l.strip()]
        self.assertTrue(lines, "no message")
        prefix = os.path.basename(exe) + (": error: " if code == 2 else ": failed: ")
        self.assertTrue(lines[-1].startswith(prefix), lines[-1])
        self.assertIn(needle, lines[-1])
        return lines[-1]


def write(path, data, mode="w"):
    with open(path, mode) as f:
        f.write(data)
    return path


class DeepNesting(unittest.TestCase, Refusal):
    def test_config_nested_1e5_deep_in_any_field(self):
        d = scratch("deep")
        deep = "[" * 100000 + "]" * 100000
        for name in ("environments", "no_such_field"):
            cfg = write(os.path.join(d, name + ".json"), '{"%s": %s}' % (name, deep))
            self.refused(SIM_EXE, ["walk", "--config", cfg], "nested deeper than 64 levels")
        coll = write(os.path.join(d, "coll.json"), '{"times": %s}' % deep)
        self.refused(SIM_EXE, ["collapse", coll, coll], "nested deeper than 64 levels")
        if TRAIN_EXE:
            cfg = write(os.path.join(d, "train.json"), '{"snapshot_iterations": %s}' % deep)
            self.refused(TRAIN_EXE, ["--config", cfg], "nested deeper than 64 levels")
        if REPRO_EXE:
            cfg = write(os.path.join(d, "repro.json"), '{"kind": "sinai", "profiles": %s}' % deep)
            self.refused(REPRO_EXE, ["--out", os.path.join(d, "out"), cfg], "nested deeper than 64 levels")
            self.assertFalse(os.path.exists(os.path.join(d, "out")))

    def test_python_deep_and_self_containing_lists(self):
        deep = []
        for _ in range(100000):
            deep = [deep]
        with self.assertRaises(ValueError) as e:
            gengap.walk(environments=2, t_max=100, quantiles=deep)
        self.assertIn("nested deeper than 64 levels", str(e.exception))
        loop = []
        loop.append(loop)
        with self.assertRaises(ValueError):
            gengap.walk(environments=2, t_max=100, quantiles=loop)


class NumbersOnTheCommandLine(unittest.TestCase, Refusal):
    def test_empty_octal_hex_and_too_large(self):
        d = scratch("numbers")
        out = os.path.join(d, "w.json")
        base = ["walk", "-e", "2", "-t", "100", "--json", out]
        for value, needle in (("", "empty string"), ("010", "leading zeros"), ("0x10", "decimal integer"),
                              ("18446744073709551616", "out of range"), ("-1", "negative"), ("1e3", "decimal integer")):
            self.refused(SIM_EXE, base + ["--seed", value], needle)
        for value, needle in (("", "empty string"), ("inf", "finite number"), ("0x1p3", "decimal number"), ("nan", "finite number")):
            self.refused(SIM_EXE, base + ["--sigma", value], needle)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(run(SIM_EXE, base + ["--seed", "+7", "-q"]).returncode, 0)  # a sign is fine
        if TRAIN_EXE:
            o = os.path.join(d, "t")
            for flag in ("--seed", "--epochs", "--clip-norm", "--nproc"):
                self.refused(TRAIN_EXE, [flag, "", "-o", o], "empty string")
            self.refused(TRAIN_EXE, ["--seed", "99999999999999999999999", "-o", o], "out of range")
            self.refused(TRAIN_EXE, ["--batch-size", "010", "-o", o], "leading zeros")
            self.assertFalse(os.path.exists(o))
        if REPRO_EXE:
            self.refused(REPRO_EXE, ["--jobs", "", "x.json"], "empty string")

    def test_empty_config_name(self):
        self.refused(SIM_EXE, ["walk", "--config", ""], "empty string")
        if TRAIN_EXE:
            self.refused(TRAIN_EXE, ["--config", ""], "empty string")


class NulBytes(unittest.TestCase, Refusal):
    def test_json_csv_and_paths(self):
        d = scratch("nul")
        cfg = write(os.path.join(d, "c.json"), b'{"environments": 4}\x00{"bogus": 1}', "wb")
        self.refused(SIM_EXE, ["walk", "--config", cfg], "NUL byte at offset 19")
        csv = write(os.path.join(d, "d.csv"), b"t,d\n2,1\n3,2\x00\n4,3\n5,4\n6,5\n", "wb")
        self.refused(SIM_EXE, ["fit", csv], "NUL byte")
        # An escaped NUL inside a JSON string naming a path.
        cfg = write(os.path.join(d, "p.json"), json.dumps({"json": os.path.join(d, "a\u0000b.json"), "environments": 2, "t_max": 100}))
        self.refused(SIM_EXE, ["walk", "--config", cfg], "NUL byte")
        self.assertFalse(os.path.exists(os.path.join(d, "a")))
        if TRAIN_EXE:
            cfg = write(os.path.join(d, "t.json"), json.dumps({"out_dir": os.path.join(d, "r\u0000x")}))
            self.refused(TRAIN_EXE, ["--config", cfg, "--dataset", "synthetic", "--max-iterations", "1"], "NUL byte")
            self.assertFalse(os.path.exists(os.path.join(d, "r")))


class SilentAcceptance(unittest.TestCase, Refusal):
    def test_outputs_that_overwrite_each_other_or_the_input(self):
        d = scratch("same")
        out = os.path.join(d, "x")
        self.refused(SIM_EXE, ["walk", "-e", "2", "-t", "100", "--json", out, "--csv", os.path.join(d, ".", "x")], "same file as --json")
        csv = write(os.path.join(d, "d.csv"), "t,d\n2,1\n3,2\n4,3\n5,4\n6,5\n")
        self.refused(SIM_EXE, ["fit", csv, "--json", csv], "same file as --csv")
        with open(csv) as f:
            self.assertTrue(f.read().startswith("t,d"))

    def test_duplicate_header_and_byte_order_mark(self):
        d = scratch("csv")
        self.refused(SIM_EXE, ["fit", write(os.path.join(d, "dup.csv"), "t,a,a\n2,1,1\n3,2,2\n4,3,3\n5,4,4\n")], "names this column twice")
        bom = write(os.path.join(d, "bom.csv"), b"\xef\xbb\xbft,d\n2,1\n3,2\n4,3\n5,4\n6,5\n", "wb")
        self.assertEqual(run(SIM_EXE, ["fit", bom, "--t-column", "t"]).returncode, 0)

    def test_rule_options_without_a_claim(self):
        d = scratch("claim")
        csv = write(os.path.join(d, "d.csv"), "t,a,b,c\n2,1,1,1\n3,2,2,2\n4,3,3,3\n5,4,4,4\n6,5,5,5\n")
        self.refused(SIM_EXE, ["fit", csv, "--samples", "--k-max", "3"], "give the claim too")
        unsorted = write(os.path.join(d, "u.csv"), "t,a,b,c\n2,1,1,1\n5,2,2,2\n4,3,3,3\n6,4,4,4\n7,5,5,5\n")
        self.refused(SIM_EXE, ["fit", unsorted, "--samples", "--claim", "log-time"], "must increase from row to row")

    @unittest.skipUnless(TRAIN_EXE, "gengap-train not built (no LibTorch)")
    def test_training_with_no_update(self):
        d = scratch("zero")
        o = os.path.join(d, "run")
        self.refused(TRAIN_EXE, ["--dataset", "synthetic", "--synthetic-size", "256", "-b", "128", "--epochs", "0.0001", "-o", o,
                                 "--no-progress"], "gives no update")
        self.assertFalse(os.path.exists(o))

    @unittest.skipUnless(REPRO_EXE, "gengap-repro not built")
    def test_repro_configs(self):
        d = scratch("repro")
        here = os.path.dirname(os.path.abspath(__file__))
        src = os.path.join(here, "..", "..", "repro", "configs")
        with open(os.path.join(src, "table1_f1.json")) as f:
            t1 = json.load(f)
        t1["claims"]["ordering"]["tolerance_points"] = -1
        bad = write(os.path.join(d, "table1_f1.json"), json.dumps(t1))
        self.refused(REPRO_EXE, ["--profile", "quick", "--out", os.path.join(d, "o1"), bad], "claims.ordering.tolerance_points")
        # Two configs of one file name would write one folder.
        os.makedirs(os.path.join(d, "other"))
        a = os.path.join(src, "sinai_validation.json")
        with open(a) as f:
            b = write(os.path.join(d, "other", "sinai_validation.json"), f.read())
        self.refused(REPRO_EXE, ["--profile", "quick", "--out", os.path.join(d, "o2"), a, b], "same file name")
        # A disabled experiment's fields are checked too.
        with open(a) as f:
            s = json.load(f)
        s["enabled"] = False
        s["bogus_field"] = 1
        c = write(os.path.join(d, "disabled.json"), json.dumps(s))
        self.refused(REPRO_EXE, ["--profile", "quick", "--out", os.path.join(d, "o3"), c], "bogus_field")
        # A claim's level is checked with the config, not at run time.
        with open(a) as f:
            s = json.load(f)
        s["claims"]["log_time"]["level"] = 1.5
        c = write(os.path.join(d, "level.json"), json.dumps(s))
        self.refused(REPRO_EXE, ["--profile", "quick", "--out", os.path.join(d, "o4"), c], "level")
        # A CUDA device this machine lacks is refused with the config, before the first experiment.
        with open(os.path.join(src, "weight_distance_f1.json")) as f:
            w = json.load(f)
        w["profiles"]["quick"]["device"] = "cuda:7"
        c = write(os.path.join(d, "weight_distance_f1.json"), json.dumps(w))
        self.refused(REPRO_EXE, ["--profile", "quick", "--out", os.path.join(d, "o6"), a, c], "device = cuda:7")
        # A bad --summary is refused before --out is created.
        self.refused(REPRO_EXE, ["--profile", "quick", "--out", os.path.join(d, "o5"), "--summary", d, a], "summary")
        for o in ("o1", "o2", "o3", "o4", "o5", "o6"):
            self.assertFalse(os.path.exists(os.path.join(d, o)), o)


class ExtremeValues(unittest.TestCase, Refusal):
    def test_huge_and_tiny_finite_values(self):
        d = scratch("extreme")
        out = os.path.join(d, "r.json")
        for args, needle in ((["walk", "-e", "2", "-t", "100", "--sigma", "1e308"], "sigma"),
                             (["walk", "-e", "2", "-t", "100", "-T", "1e-308"], "temperature"),
                             (["walk", "-e", "2", "-t", "100", "--potential", "fbm", "--alpha", "1e-300"], "alpha"),
                             (["valley", "--gamma", "1e-308", "--samples", "10"], "gamma"),
                             (["valley", "--gamma", "10", "--sigma", "1e308", "--samples", "10"], "sigma")):
            self.refused(SIM_EXE, args + ["--json", out], needle)
        self.assertFalse(os.path.exists(out))
        csv = write(os.path.join(d, "d.csv"), "t,d\n2,1\n3,2\n4,3\n5,4\n6,5\n")
        self.refused(SIM_EXE, ["fit", csv, "--fixed-k", "1e308"], "fixed_k")

    def test_millions_of_quantile_levels(self):
        d = scratch("quantiles")
        levels = [(i + 1) / 2000002 for i in range(2000000)]
        cfg = write(os.path.join(d, "q.json"), json.dumps({"quantiles": levels, "environments": 2, "t_max": 100}))
        self.refused(SIM_EXE, ["walk", "--config", cfg, "--json", os.path.join(d, "w.json")], "at most 10000 levels")

    def test_address_space_limit(self):
        # Under ulimit -v the estimate is compared with what the process may still map.
        p = run("/bin/sh", ["-c", "ulimit -v 400000; exec \"$0\" walk -e 100000 -w 100 -t 1000 --json /dev/null", SIM_EXE])
        self.assertEqual(p.returncode, 2, p.stderr[-300:])
        self.assertIn("address-space limit", p.stderr)


class Help(unittest.TestCase):
    def test_flag_defaults_are_shown_as_they_are(self):
        exes = [(SIM_EXE, ["walk", "--help"], "--positions", "(default: off)")]
        if TRAIN_EXE:
            exes += [(TRAIN_EXE, ["--help"], "--augment", "(default: on)"), (TRAIN_EXE, ["--help"], "--progress", "(default: on)"),
                     (TRAIN_EXE, ["--help"], "--resume", "(default: off)")]
        for exe, args, flag, shown in exes:
            text = run(exe, args).stdout
            self.assertNotIn("{false}", text)
            block = text[text.index(flag):]
            self.assertIn(shown, block[:300], flag)
        if TRAIN_EXE:
            text = run(TRAIN_EXE, ["--help"]).stdout
            for flag in ("--lr-schedule", "--momentum", "--weight-decay", "--check"):
                self.assertIn(flag, text)


class ExitCodesAndMessages(unittest.TestCase, Refusal):
    def test_unknown_command_is_named(self):
        self.refused(SIM_EXE, ["wlak"], "wlak: unknown command (known: walk")

    def test_non_utf8_path(self):
        d = scratch("utf8")
        bad = os.path.join(d, "a\udcff.json")  # surrogate escape: the byte 0xff
        p = subprocess.run([SIM_EXE.encode(), b"walk", b"-e", b"2", b"-t", b"100", b"--json", os.fsencode(bad)], capture_output=True)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"valid UTF-8", p.stderr)
        self.assertEqual(os.listdir(d), [])

    @unittest.skipUnless(TRAIN_EXE, "gengap-train not built (no LibTorch)")
    def test_images_a_model_cannot_take(self):
        import struct
        d = scratch("idx")

        def idx_images(path, n, h, w):
            with open(path, "wb") as f:
                f.write(struct.pack(">IIII", 0x803, n, h, w) + bytes(n * h * w))

        def idx_labels(path, n):
            with open(path, "wb") as f:
                f.write(struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n)))

        for name, (h, w) in (("rect", (28, 20)), ("small", (8, 8))):
            folder = os.path.join(d, name)
            os.makedirs(folder)
            idx_images(os.path.join(folder, "train-images-idx3-ubyte"), 256, h, w)
            idx_labels(os.path.join(folder, "train-labels-idx1-ubyte"), 256)
            idx_images(os.path.join(folder, "t10k-images-idx3-ubyte"), 64, h, w)
            idx_labels(os.path.join(folder, "t10k-labels-idx1-ubyte"), 64)
        o = os.path.join(d, "out")
        self.refused(TRAIN_EXE, ["--dataset", "mnist", "--data-dir", os.path.join(d, "rect"), "-o", o], "square images")
        self.refused(TRAIN_EXE, ["-m", "vgg", "--dataset", "mnist", "--data-dir", os.path.join(d, "small"), "-b", "32", "-o", o],
                     "cannot take images of 1x8x8")
        self.assertFalse(os.path.exists(o))

    @unittest.skipUnless(TRAIN_EXE, "gengap-train not built (no LibTorch)")
    def test_nproc_checks_before_starting_workers(self):
        d = scratch("nproc")
        o = os.path.join(d, "out")
        self.refused(TRAIN_EXE, ["--nproc", "2", "--data-dir", os.path.join(d, "none"), "-o", o], "train-images")
        self.refused(TRAIN_EXE, ["--nproc", "2", "--dataset", "synthetic", "--resume", "-o", o], "no checkpoint to resume")
        self.refused(TRAIN_EXE, ["--dist-timeout", "1e300", "-o", o], "dist_timeout")
        self.assertFalse(os.path.exists(o))

    def test_python_raises_value_error(self):
        with self.assertRaises(ValueError):
            gengap.walk(environments=0)
        with self.assertRaises(ValueError):
            gengap.walk(environments="many")


class WorkBeforeRefusal(unittest.TestCase, Refusal):
    def test_exact_fit_from_beyond_the_solve(self):
        p = run(SIM_EXE, ["exact", "-e", "2", "--octaves", "14", "--fit-from", "12", "--json", "/dev/null"])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("fit", p.stderr.splitlines()[-1])

    def test_refused_runs_leave_no_new_folder(self):
        d = scratch("folders")
        self.refused(SIM_EXE, ["walk", "-e", "2", "-t", "100", "--json", os.path.join(d, "new", "w.json"), "--csv", d], "is a folder")
        self.assertEqual(os.listdir(d), [])
        if TRAIN_EXE:
            self.refused(TRAIN_EXE, ["--data-dir", os.path.join(d, "none"), "-o", os.path.join(d, "run")], "train-images")
            self.assertEqual(os.listdir(d), [])


class LostResults(unittest.TestCase):
    def test_full_or_closed_standard_output(self):
        d = scratch("stdout")
        csv = write(os.path.join(d, "d.csv"), "t,d\n2,1\n3,2\n4,3\n5,4\n6,5\n")
        with open("/dev/full", "w") as full:
            p = subprocess.run([SIM_EXE, "fit", csv], stdout=full, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("standard output could not be written", p.stderr)
        p = subprocess.run([SIM_EXE, "fit", csv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0)
        p = subprocess.run(["/bin/sh", "-c", "exec \"$0\" fit \"$1\" >&-", SIM_EXE, csv], stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 1, p.stderr)

    def test_file_size_limit(self):
        d = scratch("fsize")
        out = os.path.join(d, "w.json")
        p = run("/bin/sh", ["-c", "ulimit -f 1; exec \"$0\" walk -e 50 -t 100000 -q --json \"$1\"", SIM_EXE, out])
        self.assertEqual(p.returncode, 1, p.stderr[-300:])
        self.assertIn("cannot write", p.stderr)
        self.assertEqual(os.listdir(d), [])  # no .tmp file left


@unittest.skipUnless(REPRO_EXE, "gengap-repro not built")
class Concurrency(unittest.TestCase, Refusal):
    def test_second_pipeline_on_one_folder_is_refused(self):
        import fcntl
        d = scratch("lock")
        out = os.path.join(d, "out")
        os.makedirs(out)
        here = os.path.dirname(os.path.abspath(__file__))
        cfg = os.path.join(here, "..", "..", "repro", "configs", "sinai_validation.json")
        with open(os.path.join(out, ".gengap-repro.lock"), "w") as f:
            f.write("4242\n")
            f.flush()
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running pipeline holds it
            self.refused(REPRO_EXE, ["--profile", "quick", "--out", out, cfg], "another gengap-repro (process 4242)")
        self.assertEqual(sorted(os.listdir(out)), [".gengap-repro.lock"])


if __name__ == "__main__":
    unittest.main()
