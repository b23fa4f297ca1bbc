#!/usr/bin/env bash
# A Slurm job array that runs one exact-solver ensemble as 64 shards, then merges them (docs:
# "Running on a cluster"). Not run by the tests: it needs a Slurm cluster. Submit with
#   sbatch scripts/cluster/slurm-exact-shards.sh
# and, when every task has finished,
#   gengap-sim merge shards/exact_*.shard --json exact.json --csv exact.csv
#SBATCH --job-name=gengap-exact
#SBATCH --array=0-63
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
#SBATCH --output=shards/exact_%a.log
set -euo pipefail
mkdir -p shards
# Every task runs the same command but for its shard: the run's settings must be identical in all 64.
gengap-sim exact --sigma 6 --environments 4096 --octaves 58 --valley-samples 20000 --seed 1 \
  --threads "${SLURM_CPUS_PER_TASK}" -q \
  --shard "${SLURM_ARRAY_TASK_ID}/64" --json "shards/exact_${SLURM_ARRAY_TASK_ID}.shard"
