#!/usr/bin/env bash
# Where the finite number of Fourier modes shows: SGD on FourierField landscapes of dimension D with
# M modes, for M from D/4 to 16 D. Writes one JSON per M and a summary CSV (M, beta, delta_aic,
# final distance, free-diffusion distance) to the folder given (default: mode-count-study/).
# Runs already in the folder are kept (delete the folder to start over).
# Usage: scripts/mode-count-study.sh [out-dir] [gengap-sim]   (environment: DIM, STRENGTH, NOISE, T_MAX)
set -euo pipefail
out=${1:-mode-count-study}
exe=${2:-build/release/sim/gengap-sim}
dim=${DIM:-100}
strength=${STRENGTH:-3}
noise=${NOISE:-10}
t_max=${T_MAX:-10000}
mkdir -p "$out"
for m in $((dim / 4)) $((dim / 2)) "$dim" $((2 * dim)) $((4 * dim)) $((16 * dim)) $((64 * dim)); do
  [ -s "$out/modes_$m.json" ] && continue  # done in an earlier run: the study resumes
  "$exe" sgd --dim "$dim" --modes "$m" --strength "$strength" --noise "$noise" -B 128,512 --lr 0.05 \
    -e 4 -w 4 -t "$t_max" --json "$out/modes_$m.json" 2> "$out/modes_$m.log"
done
python3 - "$out" "$dim" "$noise" <<'PY'
import json, math, sys, glob, os
out, dim, noise = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rows = []
for f in glob.glob(os.path.join(out, "modes_*.json")):
    j = json.load(open(f))
    m = j["parameters"]["modes"]
    b = j["batches"][0]
    fits = {x["model"]: x for x in b["fits"]}
    beta = fits["power-y"]["params"]["beta"]
    daic = fits["power-y"]["aic"] - fits["log-offset"]["aic"]
    res = b["result"]
    t, d = res["times"][-1], res["mean_distance"][-1]
    lr = b["lr"]
    free = lr * noise / math.sqrt(b["batch"]) * math.sqrt(dim * t)  # |w_t| of pure noise, no landscape
    rows.append((m, beta, daic, d, free))
rows.sort()
with open(os.path.join(out, "summary.csv"), "w") as fh:
    fh.write("modes,beta,delta_aic_power_minus_log,distance_at_t_max,free_diffusion_distance\n")
    for r in rows:
        fh.write("%d,%.4f,%.2f,%.4f,%.4f\n" % r)
print(open(os.path.join(out, "summary.csv")).read())
PY
