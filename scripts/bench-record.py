#!/usr/bin/env python3
"""Runs gengap's Google Benchmark binaries and writes one JSON record of every benchmark.

    bench-record.py OUT.json BINARY [BINARY ...] [-- BENCHMARK_FLAGS ...]

The record is Google Benchmark's own JSON (one `context`, one `benchmarks` list, each entry with the
binary it came from), with the machine added to the context: CPU model, family and model number
(the model name of a virtual machine may not say the generation: AMD family 25 is Zen 3/4, 26 Zen 5),
its SIMD flags, logical CPUs, kernel, and the source commit. Compare two records with scripts/bench-compare.py. The file is written
atomically: an interrupted run leaves no partial record.
"""
import json
import os
import platform
import subprocess
import sys
import tempfile

SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "bmi2", "avx512f", "avx512dq", "avx512bw", "avx512vl",
              "avx512cd", "avx512ifma", "avx512vbmi", "avx512_vnni", "avx512_bf16", "amx_tile")


def fail(msg):
    print(f"bench-record: {msg}", file=sys.stderr)
    sys.exit(2)


def machine():
    info = {"cpu_model": "unknown", "cpu_flags": "", "logical_cpus": os.cpu_count() or 0,
            "kernel": platform.release(), "machine": platform.machine()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and info["cpu_model"] == "unknown":
                    info["cpu_model"] = value.strip()
                elif key == "cpu family" and "cpu_family" not in info:
                    info["cpu_family"] = value.strip()
                elif key == "model" and "cpu_model_number" not in info:
                    info["cpu_model_number"] = value.strip()
                elif key == "flags" and not info["cpu_flags"]:
                    have = set(value.split())
                    info["cpu_flags"] = " ".join(f for f in SIMD_FLAGS if f in have)
    except OSError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        info["commit"] = commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = "unknown"
    return info


def main(argv):
    if "--" in argv:
        cut = argv.index("--")
        args, extra = argv[:cut], argv[cut + 1:]
    else:
        args, extra = argv, []
    if len(args) < 2:
        fail("usage: bench-record.py OUT.json BINARY [BINARY ...] [-- BENCHMARK_FLAGS ...]")
    out, binaries = args[0], args[1:]
    for b in binaries:
        if not os.access(b, os.X_OK):
            fail(f"binary = {b}: not an executable file")
    out_dir = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(out_dir):
        fail(f"out = {out}: its folder does not exist")
    record = {"context": None, "benchmarks": []}
    with tempfile.TemporaryDirectory() as tmp:
        for b in binaries:
            part = os.path.join(tmp, os.path.basename(b) + ".json")
            print(f"bench-record: running {os.path.basename(b)}", file=sys.stderr, flush=True)
            rc = subprocess.run([b, f"--benchmark_out={part}", "--benchmark_out_format=json", *extra]).returncode
            if rc != 0:
                fail(f"{os.path.basename(b)} exited with {rc}; no record written")
            with open(part, encoding="utf-8") as f:
                doc = json.load(f)
            if record["context"] is None:
                record["context"] = doc.get("context", {})
            else:  # a later binary's own context entries (AddCustomContext: e.g. blas_kernels) join the first's
                for key, value in doc.get("context", {}).items():
                    record["context"].setdefault(key, value)
            for entry in doc.get("benchmarks", []):
                entry["binary"] = os.path.basename(b)
                record["benchmarks"].append(entry)
    record["context"]["machine"] = machine()
    record["context"]["binaries"] = [os.path.basename(b) for b in binaries]
    fd, tmp_out = tempfile.mkstemp(dir=out_dir, prefix=".bench-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_out, out)
    except BaseException:
        if os.path.exists(tmp_out):
            os.unlink(tmp_out)
        raise
    m = record["context"]["machine"]
    print(f"bench-record: {len(record['benchmarks'])} benchmarks on {m['cpu_model']} ({m['cpu_flags']}) -> {out}",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
