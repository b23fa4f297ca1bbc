#!/usr/bin/env python3
"""Compares two benchmark records (scripts/bench-record.py, or any Google Benchmark JSON).

    bench-compare.py BEFORE.json AFTER.json [--filter SUBSTRING]

For every benchmark in both records it prints the real time of each and the ratio AFTER/BEFORE
(< 1: faster), and the same for each rate counter (steps_per_s, ...; > 1: faster). With repetitions it
uses the median aggregate. It warns when the two records come from different CPUs. Exit code 2 on a
file that is missing or not a benchmark record.
"""
import json
import sys


def fail(msg):
    print(f"bench-compare: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        fail(f"{path}: cannot open ({e.strerror})")
    except json.JSONDecodeError as e:
        fail(f"{path}: not JSON (line {e.lineno}: {e.msg})")
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        fail(f"{path}: not a benchmark record (no 'benchmarks' list)")
    runs = {}
    for b in doc["benchmarks"]:
        if not isinstance(b, dict) or "name" not in b:
            continue
        if b.get("error_occurred"):
            continue
        kind = b.get("run_type", "iteration")
        base = b.get("run_name", b["name"])
        if kind == "aggregate":
            if b.get("aggregate_name") != "median":
                continue
        elif base in runs and runs[base].get("run_type") == "aggregate":
            continue
        runs[base] = b
    context = doc.get("context", {})
    if not isinstance(context, dict) or not isinstance(context.get("machine", {}), dict):
        fail(f"{path}: not a benchmark record ('context' and its 'machine' must be objects)")
    return context, runs


RESERVED = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
            "real_time", "cpu_time", "time_unit", "family_index", "per_family_instance_index",
            "aggregate_name", "aggregate_unit", "binary", "error_occurred", "error_message", "label"}
UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def seconds(b):
    return float(b["real_time"]) * UNIT.get(b.get("time_unit", "ns"), 1e-9)


def fmt_time(s):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def main(argv):
    filt = None
    if "--filter" in argv:
        i = argv.index("--filter")
        if i + 1 >= len(argv):
            fail("--filter needs a substring")
        filt = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if len(argv) != 2:
        fail("usage: bench-compare.py BEFORE.json AFTER.json [--filter SUBSTRING]")
    ca, a = load(argv[0])
    cb, b = load(argv[1])
    ma, mb = ca.get("machine", {}), cb.get("machine", {})
    def cpu(m):
        return (f"{m.get('cpu_model', '?')}" + (f", family {m['cpu_family']} model {m.get('cpu_model_number', '?')}"
                                                if "cpu_family" in m else ""))
    print(f"before: {argv[0]}  ({cpu(ma)}; {ma.get('cpu_flags', '?')}; commit {ma.get('commit', '?')})")
    print(f"after:  {argv[1]}  ({cpu(mb)}; {mb.get('cpu_flags', '?')}; commit {mb.get('commit', '?')})")
    keys = ["cpu_model", "cpu_flags"] + [k for k in ("cpu_family", "cpu_model_number") if k in ma and k in mb]
    if any(ma.get(k) != mb.get(k) for k in keys):
        print("warning: the records come from different CPUs; ratios mix code and machine")
    elif ("cpu_family" in ma) != ("cpu_family" in mb):
        print("warning: one record does not name the CPU family; they may come from different CPU generations")
    names = [n for n in a if n in b and (filt is None or filt in n)]
    if not names:
        fail("no benchmark is in both records" + (f" matching '{filt}'" if filt else ""))
    print(f"\n{'benchmark':<62} {'before':>12} {'after':>12} {'after/before':>13}")
    for n in names:
        ta, tb = seconds(a[n]), seconds(b[n])
        print(f"{n:<62} {fmt_time(ta):>12} {fmt_time(tb):>12} {tb / ta if ta > 0 else float('nan'):>13.3f}")
        for key in sorted(set(a[n]) & set(b[n]) - RESERVED):
            va, vb = a[n][key], b[n][key]
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va > 0:
                print(f"{'  ' + key:<62} {va:>12.4g} {vb:>12.4g} {vb / va:>13.3f}")
    only = sorted(set(a) ^ set(b))
    if only:
        print(f"\nin one record only: {', '.join(only)}")


if __name__ == "__main__":
    main(sys.argv[1:])
