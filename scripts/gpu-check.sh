#!/usr/bin/env bash
# GPU check: configure and build gengap against PyTorch's bundled CUDA LibTorch, run the train tests
# on CUDA, run the GBN-vs-BN benchmark, and write JSON results into the folder given as $1.
#
# Needs: CMake, a C++17 compiler, python3 with a CUDA build of torch. Eigen, Catch2, Google Benchmark,
# nlohmann-json and CLI11 come from the system, or from a prefix in $GENGAP_DEPS (default .gpu-deps:
# a copy of the Debian headers and CMake configs, see docs/pages/gpu.md).
set -euo pipefail
out=${1:?usage: scripts/gpu-check.sh OUTPUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
deps=${GENGAP_DEPS:-$PWD/.gpu-deps}
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' | tee "$out/torch.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt" || true
build=${GENGAP_GPU_BUILD:-build/gpu}
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
export LD_LIBRARY_PATH="$deps/lib/x86_64-linux-gnu:$deps/lib:${LD_LIBRARY_PATH:-}"
cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DGENGAP_BUILD_DOCS=OFF -DGENGAP_BUILD_REPRO=OFF 2>&1 | tee "$out/configure.log"
cmake --build "$build" --parallel "$(nproc)" --target train_tests bench_train gengap-train 2>&1 | tail -n 30 | tee "$out/build.log"
status=0
# The train tests: the CUDA cases run when a GPU is visible.
"$build/tests/train_tests" > "$out/train_tests.txt" 2>&1 || status=1
tail -n 3 "$out/train_tests.txt"

GENGAP_BENCH_DEVICE=cuda "$build/bench/bench_train" --benchmark_min_time=0.5 --benchmark_repetitions=1 \
  --benchmark_out="$out/bench_train_cuda.json" --benchmark_out_format=json | tee "$out/bench_train_cuda.txt" || status=1
# A short real run through the CLI on CUDA: F1 on synthetic data, B = 4096, GBN 128, sqrt scaling.
"$build/train/gengap-train" --dataset synthetic --synthetic-size 16384 -b 4096 -g 128 --norm gbn --lr-scaling sqrt \
  --regime-adaptation -e 4 --device cuda -o "$out/run_f1_synthetic" --no-progress | tee "$out/run_f1_synthetic.txt" || status=1
echo "gpu-check: results in $out (status $status)"
exit $status
