#!/usr/bin/env bash
# GPU check: configure and build gengap against PyTorch's bundled CUDA LibTorch, then run the parts
# named in $GENGAP_GPU_PARTS (default: "tests bench run repro") and write results into $1:
#   tests  the train tests (the CUDA cases run when a GPU is visible; $GENGAP_GPU_TEST_SPEC selects)
#   bench  the GBN-vs-BN and F1-step benchmarks on CUDA (JSON)
#   run    a short F1 run through gengap-train on CUDA
#   repro  the paper profile's ResNet44 weight-distance experiment (repro/configs/
#          weight_distance_resnet44.json; $GENGAP_GPU_PROFILE overrides the profile), packed into
#          repro_resnet44.tar.gz without checkpoints; GENGAP_GPU_REPRO_TIMEOUT (s) stops it early,
#          and a rerun with the same build folder resumes
#
# Needs: CMake, a C++17 compiler, python3 with a CUDA build of torch. Eigen, Catch2, Google Benchmark,
# nlohmann-json and CLI11 come from the system, or from a prefix in $GENGAP_DEPS (default .gpu-deps:
# a copy of the Debian headers and CMake configs, see docs/pages/gpu.md). GENGAP_GPU_SKIP_BUILD=1
# reuses an existing build in $GENGAP_GPU_BUILD (default build/gpu).
set -euo pipefail
out=${1:?usage: scripts/gpu-check.sh OUTPUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
parts=" ${GENGAP_GPU_PARTS:-tests bench run repro} "
want() { [[ "$parts" == *" $1 "* ]]; }
deps=${GENGAP_DEPS:-$PWD/.gpu-deps}
build=${GENGAP_GPU_BUILD:-build/gpu}
export LD_LIBRARY_PATH="$deps/lib/x86_64-linux-gnu:$deps/lib:${LD_LIBRARY_PATH:-}"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' \
  > "$out/environment.txt" 2>&1 || echo "python3 torch: not found" > "$out/environment.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >> "$out/environment.txt" 2>&1 || true
cat "$out/environment.txt"

targets=(gengap-train)
want tests && targets+=(train_tests)
want bench && targets+=(bench_train)
want repro && targets+=(gengap-repro)
if [[ "${GENGAP_GPU_SKIP_BUILD:-0}" != 1 ]]; then
  torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
  start=$(date +%s)
  cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deps" -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DGENGAP_BUILD_DOCS=OFF > "$out/build.log" 2>&1
  cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}" >> "$out/build.log" 2>&1 || { tail -n 40 "$out/build.log"; exit 1; }
  echo "build: $(( $(date +%s) - start )) s" | tee -a "$out/environment.txt"
fi
status=0
if want bench; then
  GENGAP_BENCH_DEVICE=cuda "$build/bench/bench_train" --benchmark_min_time=0.5 --benchmark_repetitions=1 \
    --benchmark_out="$out/bench_train_cuda.json" --benchmark_out_format=json > "$out/bench_train_cuda.txt" || status=1
fi
if want run; then
  # F1 on synthetic data, B = 4096, GBN 128, sqrt scaling, adapted regime, 4 epochs.
  "$build/train/gengap-train" --dataset synthetic --synthetic-size 16384 -b 4096 -g 128 --norm gbn --lr-scaling sqrt \
    --regime-adaptation -e 4 --device cuda -o "$out/run_f1_synthetic" --no-progress > "$out/run_f1_synthetic.txt" || status=1
fi
if want repro; then
  start=$(date +%s)
  work="$build/repro-${GENGAP_GPU_PROFILE:-paper}"  # kept: a rerun on the same machine resumes
  timeout "${GENGAP_GPU_REPRO_TIMEOUT:-0}" "$build/repro/gengap-repro" --profile "${GENGAP_GPU_PROFILE:-paper}" --out "$work" \
    repro/configs/weight_distance_resnet44.json > "$out/repro_summary.md" 2> "$out/repro_log.txt" || status=1
  echo "repro: $(( $(date +%s) - start )) s" | tee -a "$out/environment.txt"
  tar -C "$work" --exclude='checkpoint.pt' -czf "$out/repro_resnet44.tar.gz" .
  tail -n 30 "$out/repro_summary.md"
fi
if want tests; then
  "$build/tests/train_tests" ${GENGAP_GPU_TEST_SPEC:+"$GENGAP_GPU_TEST_SPEC"} > "$out/train_tests.txt" 2>&1 || status=1
  tail -n 3 "$out/train_tests.txt"
fi
echo "gpu-check: results in $out (status $status)"
exit $status
