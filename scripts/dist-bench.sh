#!/usr/bin/env bash
# Data-parallel benchmark: F1 on Fashion-MNIST at B = 4096, 1 worker and 2 workers (--nproc 2) on this
# machine; per update: wall time and the time waiting for the gradient all-reduce after backward
# (summary.json's step_seconds and allreduce_seconds). Writes a Markdown table to the file given.
# Usage: scripts/dist-bench.sh [out.md] [gengap-train] [iterations]
set -euo pipefail
out=${1:-dist_bench_f1.md}
exe=${2:-build/release/train/gengap-train}
iters=${3:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(-m f1 -b 4096 --norm gbn -g 128 --lr-scaling sqrt --max-iterations "$iters" --no-progress --device cpu)
"$exe" "${common[@]}" -o "$work/w1" > /dev/null
"$exe" "${common[@]}" -o "$work/w2" --nproc 2 > /dev/null 2> "$work/w2.log"
python3 - "$work" "$out" "$iters" "$(nproc)" <<'PY'
import json, sys
work, out, iters, cores = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
r1 = json.load(open(f"{work}/w1/summary.json"))
r2 = json.load(open(f"{work}/w2/summary.json"))
s1, s2 = r1["step_seconds"], r2["step_seconds"]
a2 = r2["allreduce_seconds"]
lines = [
    f"# Data-parallel F1, B = 4096 (Fashion-MNIST, GBN 128, sqrt scaling), {iters} updates, {cores} cores",
    "",
    "| workers | threads per worker | step (s) | all-reduce wait (s) | samples/s | speed-up |",
    "|---|---|---|---|---|---|",
    f"| 1 | {cores} | {s1:.4f} | 0 | {4096 / s1:.0f} | 1.00 |",
    f"| 2 | {max(1, int(cores) // 2)} | {s2:.4f} | {a2:.4f} | {4096 / s2:.0f} | {s1 / s2:.2f} |",
    "",
    "Both rows use the same cores: one worker with intra-op threads on all of them, or two workers",
    "sharing them. The speed-up is therefore what process parallelism gains over threading here, not a",
    "scaling efficiency. Per-worker communication overhead: "
    f"{a2:.4f} s per update ({100 * a2 / s2:.1f}% of the step) waiting for the gradient all-reduce",
    "after backward (F1: 1.46M parameters, 5.9 MB, buckets of about 1 MiB launched during backward),",
    "plus one all-reduce of the loss (8 bytes) before backward.",
]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
