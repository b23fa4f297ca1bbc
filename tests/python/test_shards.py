"""Shards and merge (issue 30): a run split into N = 1, 2, 3, 7 shards and merged gives the unsharded
run's bytes (JSON and CSV), shards in any order, from the CLI and from Python; a missing, duplicated,
foreign, truncated or edited shard is refused with one line naming the shard and the field; a shard
killed mid-way leaves no file that merge would accept; the same through concurrent.futures and Dask."""

import concurrent.futures
import json
import os
import random
import re
import signal
import subprocess
import time
import unittest

import numpy as np

import gengap
from support import SIM_EXE, scratch

# The wall-clock fields: the only bytes a merge may not share with the unsharded run (they hold the
# shards' summed times). Their values are masked; every other byte must agree.
TIMING = re.compile(r'"(seconds|seconds_per_environment|steps_per_second)": [-+0-9.eE]+')

RUNS = {
    "walk": ["-e", "29", "-w", "3", "-t", "3000", "--seed", "5", "--positions"],
    "exact": ["-e", "8", "--octaves", "16", "--per-octave", "2", "--sigma", "6", "--valley-samples", "13", "--fit-from", "6"],
    "valley": ["-n", "37", "-g", "5", "--seed", "3"],
    "lattice": ["--dims", "1,2", "--boxes", "4096,256", "-e", "8", "-w", "2", "-t", "5000", "-T", "1,1.2"],
}


def sim(args, check=True):
    p = subprocess.run([SIM_EXE] + args, capture_output=True, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("gengap-sim %s -> %d: %s" % (" ".join(args), p.returncode, p.stderr[-800:]))
    return p


def read(path):
    with open(path, "rb") as f:
        return f.read()


def masked(text):
    return TIMING.sub(r'"\1": T', text.decode() if isinstance(text, bytes) else text)


class CliShards(unittest.TestCase):
    def test_n_1_2_3_7_give_the_unsharded_bytes(self):
        d = scratch("shards_cli")
        for command, args in RUNS.items():
            csv = command != "valley"  # valley writes JSON only, and has no progress to quiet
            quiet = ["-q"] if csv else []
            whole = os.path.join(d, command + ".json")
            sim([command] + args + quiet + ["--json", whole] + (["--csv", whole + ".csv"] if csv else []))
            for n in (1, 2, 3, 7):
                files = []
                for i in range(n):
                    f = os.path.join(d, "%s_%d_of_%d.shard" % (command, i, n))
                    sim([command] + args + quiet + ["--shard", "%d/%d" % (i, n), "--json", f])
                    files.append(f)
                random.Random(n).shuffle(files)
                out = os.path.join(d, "%s_merged_%d.json" % (command, n))
                sim(["merge"] + files + ["-q", "--json", out] + (["--csv", out + ".csv"] if csv else []))
                with self.subTest(command=command, n=n):
                    self.assertEqual(masked(read(out)), masked(read(whole)))
                    if csv:
                        self.assertEqual(read(out + ".csv"), read(whole + ".csv"))
                    if command == "valley":  # no wall-clock field at all: every byte
                        self.assertEqual(read(out), read(whole))

    def test_refusals_name_the_shard_and_the_field(self):
        d = scratch("shards_bad")
        args = RUNS["exact"]
        files = []
        for i in range(3):
            files.append(os.path.join(d, "s%d.shard" % i))
            sim(["exact"] + args + ["-q", "--shard", "%d/3" % i, "--json", files[-1]])
        foreign_seed = os.path.join(d, "seed.shard")
        sim(["exact"] + args + ["-q", "--seed", "2", "--shard", "2/3", "--json", foreign_seed])
        foreign_param = os.path.join(d, "sigma.shard")
        sim(["exact"] + args[:-6] + ["--sigma", "7"] + args[-4:] + ["-q", "--shard", "2/3", "--json", foreign_param])
        other_count = os.path.join(d, "count.shard")
        sim(["exact"] + args + ["-q", "--shard", "2/4", "--json", other_count])
        text = read(files[2])
        truncated = os.path.join(d, "truncated.shard")
        with open(truncated, "wb") as f:
            f.write(text[: len(text) // 2])
        edited = os.path.join(d, "edited.shard")
        doc = json.loads(text)
        doc["run"]["fit_from"] = 7.0
        with open(edited, "w") as f:
            json.dump(doc, f)
        not_shard = os.path.join(d, "result.json")
        sim(["exact"] + args + ["-q", "--json", not_shard])
        cases = [
            (files[:2], "shard(s) 2 of 3 missing"),
            (files + [files[1]], "s1.shard: shard.index = 1: appears twice"),
            (files[:2] + [foreign_seed], "seed.shard: run.seed = 2: differs from"),
            (files[:2] + [foreign_param], "sigma.shard: run.sigma = 7"),
            (files[:2] + [other_count], "count.shard: shard.count = 4: differs from"),
            (files[:2] + [truncated], "truncated.shard"),
            (files[:2] + [edited], "edited.shard = checksum: does not match"),
            (files[:2] + [not_shard], "is not a gengap-sim shard"),
        ]
        for shards, needle in cases:
            with self.subTest(needle=needle):
                p = sim(["merge"] + shards + ["--json", os.path.join(d, "never.json")], check=False)
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertTrue(lines[0].startswith("gengap-sim: error: "), lines[0])
                self.assertIn(needle, lines[0])
                self.assertFalse(os.path.exists(os.path.join(d, "never.json")))
        for bad, needle in (("3/3", "index I must lie in [0, N - 1]"), ("0/9", "more shards than environments (8)"),
                            ("1/", "expected I/N"), ("01/3", "expected I/N")):
            p = sim(["exact"] + args + ["--shard", bad, "--json", os.path.join(d, "x.shard")], check=False)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(needle, p.stderr)
        p = sim(["exact"] + args + ["--shard", "0/2", "--csv", os.path.join(d, "x.csv")], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("a shard writes only its shard file", p.stderr)

    def test_a_shard_killed_mid_way_leaves_nothing_merge_accepts(self):
        d = scratch("shards_kill")
        out = os.path.join(d, "killed.shard")
        # Seconds per environment (831 sites, 52 squarings): killed while its environments are being solved.
        args = ["exact", "-e", "4", "--octaves", "52", "--sigma", "6", "--valley-samples", "0", "-j", "1", "-q"]
        proc = subprocess.Popen([SIM_EXE] + args + ["--shard", "0/2", "--json", out], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        self.assertFalse(os.path.exists(out), "a killed shard left its file")
        other = os.path.join(d, "other.shard")
        sim(args + ["--shard", "1/2", "--json", other])  # the run's other shard, complete
        leftovers = [os.path.join(d, f) for f in os.listdir(d) if f != "other.shard"]
        p = sim(["merge", other] + leftovers + ["--json", os.path.join(d, "never.json")], check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("shard(s) 0 of 2 missing" if not leftovers else "killed", p.stderr)


REPRO_EXE = os.environ.get("GENGAP_REPRO_EXE", "")
CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "repro", "configs")


@unittest.skipUnless(REPRO_EXE, "gengap-repro is not built (GENGAP_REPRO_EXE unset)")
class ReproShards(unittest.TestCase):
    """The repro's sinai experiment fed with shard files made by gengap-sim: the same verdicts as
    when it simulates; shards of another run are refused before any work."""

    def test_sinai_quick_from_shards(self):
        d = scratch("shards_repro")
        with open(os.path.join(CONFIGS, "sinai_validation.json")) as f:
            cfg = json.load(f)
        quick = cfg["profiles"]["quick"]
        walk_args = ["walk", "--potential", "sinai-gaussian", "--sigma", str(cfg["sigma"]), "-T", str(cfg["temperature"]),
                     "-w", str(cfg["walkers"]), "--per-decade", str(cfg["per_decade"]), "-s", str(cfg["seed"]),
                     "-e", str(quick["environments"]), "-t", str(quick["t_max"]), "-q"]
        exact_args = ["exact", "--potential", "sinai-gaussian", "--sigma", str(cfg["exact"]["sigma"]), "-s", str(cfg["exact"]["seed"]),
                      "-e", str(quick["exact"]["environments"]), "--octaves", str(quick["exact"]["octaves"]), "--valley-samples", "0", "-q"]
        walks = [os.path.join(d, "walk%d.shard" % i) for i in range(3)]
        for i, f in enumerate(walks):
            sim(walk_args + ["--shard", "%d/3" % i, "--json", f])
        exacts = [os.path.join(d, "exact%d.shard" % i) for i in range(2)]
        for i, f in enumerate(exacts):
            sim(exact_args + ["--shard", "%d/2" % i, "--json", f])

        def repro(config, name):
            os.makedirs(os.path.join(d, name), exist_ok=True)
            path = os.path.join(d, name, "sinai.json")  # one experiment name: the verdict rows name it
            with open(path, "w") as f:
                json.dump(config, f)
            return subprocess.run([REPRO_EXE, "--profile", "quick", "--out", os.path.join(d, "out_" + name), path],
                                  capture_output=True, text=True, timeout=600)

        def verdicts(name):
            with open(os.path.join(d, "out_" + name, "verdicts.json")) as f:
                return json.load(f)

        p = repro(cfg, "simulated")
        self.assertEqual(p.returncode, 0, p.stderr[-800:])
        sharded = json.loads(json.dumps(cfg))
        sharded["shards"] = walks
        sharded["exact"]["shards"] = exacts
        p = repro(sharded, "sharded")
        self.assertEqual(p.returncode, 0, p.stderr[-800:])
        self.assertIn("merged from 3 shard files", p.stderr)
        self.assertEqual(verdicts("sharded"), verdicts("simulated"))
        # Shards of another run (seed 2) are refused, naming the setting, before any experiment runs.
        other = os.path.join(d, "other.shard")
        seed2 = list(walk_args)
        seed2[seed2.index("-s") + 1] = "2"
        sim(seed2 + ["--shard", "2/3", "--json", other])
        foreign = json.loads(json.dumps(sharded))
        foreign["shards"] = walks[:2] + [other]
        p = repro(foreign, "foreign")
        self.assertEqual(p.returncode, 2, p.stderr[-800:])
        self.assertIn("other.shard: run.seed = 2", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "out_foreign", "foreign")))
        wrong = json.loads(json.dumps(sharded))
        wrong["profiles"]["quick"]["environments"] = 401
        p = repro(wrong, "wrong")
        self.assertEqual(p.returncode, 2, p.stderr[-800:])
        self.assertIn("environments", p.stderr.strip().splitlines()[-1])


def strip_timing(value):
    if isinstance(value, dict):
        return {k: strip_timing(v) for k, v in value.items() if k not in ("seconds", "seconds_per_environment", "steps_per_second")}
    if isinstance(value, (list, tuple)):
        return [strip_timing(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


class PythonShards(unittest.TestCase):
    KW = dict(environments=9, octaves=14, sigma=6.0, valley_samples=10, fit_from=5.0, threads=1)

    def test_exact_shards_merge_to_the_unsharded_result(self):
        whole = gengap.exact(**self.KW)
        d = scratch("shards_py")
        for n in (1, 2, 3, 7):
            shards = [gengap.exact(shard=(i, n), **self.KW) for i in range(n)]
            self.assertEqual(shards[0]["shard"]["count"], n)
            # A shard document survives a JSON file: merge takes paths as well as documents.
            path = os.path.join(d, "s0_%d.json" % n)
            with open(path, "w") as f:
                json.dump(shards[0], f)
            merged = gengap.merge(list(reversed(shards[1:])) + [path])
            with self.subTest(n=n):
                self.assertEqual(strip_timing(dict(merged)), strip_timing(dict(whole)))
                self.assertTrue(np.array_equal(merged.env_msd, whole.env_msd))

    def test_walk_positions_and_errors(self):
        kw = dict(environments=12, walkers=2, t_max=800, positions=True, threads=1)
        whole = gengap.walk(**kw)
        merged = gengap.merge([gengap.walk(shard="%d/3" % i, **kw) for i in range(3)])
        self.assertTrue(np.array_equal(merged.positions, whole.positions))
        self.assertEqual(merged.positions.shape, (12, 2))
        shards = [gengap.walk(shard=(i, 2), **kw) for i in range(2)]
        with self.assertRaises(ValueError) as e:
            gengap.merge(shards[:1])
        self.assertIn("shard(s) 1 of 2 missing", str(e.exception))
        with self.assertRaises(ValueError):
            gengap.merge([])
        with self.assertRaises(TypeError):
            gengap.walk(shard=(0, 2, 1), **kw)
        with self.assertRaises(ValueError) as e:
            gengap.walk(shard=(2, 2), **kw)
        self.assertIn("index I must lie", str(e.exception))

    def test_concurrent_futures(self):
        whole = gengap.exact(**self.KW)
        n = 3
        # gengap releases the GIL while it computes: threads run the shards in parallel.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            shards = list(pool.map(lambda i: gengap.exact(shard=(i, n), **self.KW), range(n)))
        self.assertEqual(strip_timing(dict(gengap.merge(shards))), strip_timing(dict(whole)))

    def test_dask(self):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            self.skipTest("Dask is not importable (Debian: apt-get install python3-dask python3-distributed)")
        whole = gengap.exact(**self.KW)
        n = 3
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
            futures = client.map(lambda i: gengap.exact(shard=(i, n), **self.KW), range(n))
            shards = client.gather(futures)
        self.assertEqual(strip_timing(dict(gengap.merge(shards))), strip_timing(dict(whole)))


if __name__ == "__main__":
    unittest.main()
