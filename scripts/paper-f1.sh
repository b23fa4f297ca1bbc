#!/usr/bin/env bash
# The paper profile of F1 (issue 27): the weight distances through the authors' whole first phase, then
# Table 1 at the authors' regime with 5 seeds, on this machine's CPU (about 4.2 hours of the runs' own time on 2 cores, more on a shared machine), then
# their figures into paper_figures/paper/. Interrupted, it resumes: finished training runs are kept
# (a run's identity is its config), the interrupted one continues from its last checkpoint.
#   bash scripts/paper-f1.sh            # after `cmake --workflow --preset repro` (or any release build)
#   REPRO=/path/to/gengap-repro bash scripts/paper-f1.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPRO=${REPRO:-build/release/repro/gengap-repro}
OUT=${OUT:-build/release/repro/paper}
GNUPLOT=${GNUPLOT:-$(command -v gnuplot || true)}
start=$(date +%s)
for cfg in weight_distance_f1 table1_f1; do
  "$REPRO" --profile paper --out "$OUT" "repro/configs/$cfg.json"
  echo "paper-f1: $cfg done after $(( $(date +%s) - start )) s"
  mkdir -p paper_figures/paper
  cp "$OUT/summary.md" "paper_figures/paper/summary_$cfg.md"
done
if [ -n "$GNUPLOT" ]; then
  for f in error_vs_iterations:table1_f1:fig3_error_f1 weight_distance:weight_distance_f1:fig2_distance_f1 \
           diffusion_check:weight_distance_f1:diffusion_check_f1 landscape:weight_distance_f1:landscape_f1; do
    IFS=: read -r script exp name <<< "$f"
    cmake -DGNUPLOT="$GNUPLOT" -DSCRIPT="paper_figures/$script.gp" -DDATADIR="$OUT/$exp" -DOUT="paper_figures/paper/$name" \
          -DSTAMP="$OUT/$name.stamp" -DPROFILE=paper -P repro/render.cmake
  done
fi
echo "paper-f1: done after $(( $(date +%s) - start )) s; results in $OUT, figures and summaries in paper_figures/paper/"
