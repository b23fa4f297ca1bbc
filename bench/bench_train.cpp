// Ghost Batch Normalization against plain BatchNorm, forward + backward, on the default device
// (CUDA when available, else CPU; GENGAP_BENCH_DEVICE=cpu|cuda overrides).
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/nn/modules/batchnorm.h>

#include "gengap/train/ghost_batch_norm.hpp"

namespace {

using gengap::train::GhostBatchNorm1d;
using gengap::train::GhostBatchNorm2d;
using gengap::train::GhostBatchNormOptions;

torch::Device device() {
  const char* env = std::getenv("GENGAP_BENCH_DEVICE");
  if (env != nullptr) return torch::Device(std::string(env));
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

template <class Module>
void run(benchmark::State& state, Module m, std::vector<int64_t> shape) {
  const torch::Device d = device();
  m->to(d);
  const torch::Tensor x = torch::randn(shape, torch::TensorOptions().device(d)).requires_grad_();
  const torch::Tensor g = torch::randn(shape, torch::TensorOptions().device(d));
  for (int i = 0; i < 3; ++i) m->forward(x).backward(g);
  sync(d);
  for (auto _ : state) {
    m->forward(x).backward(g);
    sync(d);
  }
  state.SetLabel(d.str());
  state.counters["elements"] = static_cast<double>(x.numel());
}

void BM_BatchNorm1d_4096x512(benchmark::State& s) { run(s, torch::nn::BatchNorm1d(512), {4096, 512}); }
void BM_GhostBatchNorm1d_4096x512_g128(benchmark::State& s) {
  run(s, GhostBatchNorm1d(GhostBatchNormOptions(512).ghost_batch_size(128)), {4096, 512});
}
void BM_BatchNorm2d_1024x32x16x16(benchmark::State& s) { run(s, torch::nn::BatchNorm2d(32), {1024, 32, 16, 16}); }
void BM_GhostBatchNorm2d_1024x32x16x16_g128(benchmark::State& s) {
  run(s, GhostBatchNorm2d(GhostBatchNormOptions(32).ghost_batch_size(128)), {1024, 32, 16, 16});
}
BENCHMARK(BM_BatchNorm1d_4096x512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GhostBatchNorm1d_4096x512_g128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BatchNorm2d_1024x32x16x16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GhostBatchNorm2d_1024x32x16x16_g128)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
