#!/usr/bin/env bash
# Idempotent install of every Debian package gengap needs (build, tests, docs, data).
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libeigen3-dev librandom123-dev libfftw3-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  catch2 libbenchmark-dev
  libtorch-dev libopenblas0-pthread libgloo-dev
  doxygen libjs-mathjax graphviz gnuplot-nox python3
  clang-14 libfuzzer-14-dev libclang-rt-14-dev util-linux
  pybind11-dev python3-dev python3-numpy
  python3-dask python3-distributed python3-torch
  dataset-fashion-mnist
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# libtorch must use OpenBLAS, never the reference BLAS (about 30x slower).
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    cand=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-pthread | head -n1 || true)
    [ -n "$cand" ] && ${SUDO:-} update-alternatives --set "$alt" "$cand" >/dev/null 2>&1 || true
  done
fi
echo "install-deps: all packages present"
