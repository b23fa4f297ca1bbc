// Ghost Batch Normalization against plain BatchNorm, forward + backward, on the default device
// (CUDA when available, else CPU; GENGAP_BENCH_DEVICE=cpu|cuda overrides).
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/nn/modules/batchnorm.h>

#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

#include "gengap/core/blas.hpp"
#include "gengap/core/memory.hpp"
#include "gengap/train/ghost_batch_norm.hpp"
#include "gengap/train/models.hpp"

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

// The forward pass alone (training mode, the autograd graph built and dropped): with the
// fwd + bwd benchmarks, tells where a difference between two norms lies.
template <class Module>
void run_forward(benchmark::State& state, Module m, std::vector<int64_t> shape) {
  const torch::Device d = device();
  m->to(d);
  const torch::Tensor x = torch::randn(shape, torch::TensorOptions().device(d)).requires_grad_();
  for (int i = 0; i < 3; ++i) m->forward(x);
  sync(d);
  for (auto _ : state) {
    benchmark::DoNotOptimize(m->forward(x));
    sync(d);
  }
  state.SetLabel(d.str());
  state.counters["elements"] = static_cast<double>(x.numel());
}

void BM_BatchNorm1d_4096x512(benchmark::State& s) { run(s, torch::nn::BatchNorm1d(512), {4096, 512}); }
void BM_GhostBatchNorm1d_4096x512_g128(benchmark::State& s) {
  run(s, GhostBatchNorm1d(GhostBatchNormOptions(512).ghost_batch_size(128)), {4096, 512});
}
// The shape of the diffusion check's smallest batch (B = B_s = 32: one ghost batch), where each
// layer's fixed cost per call, not its passes over the data, decides.
void BM_BatchNorm1d_4096x512_forward(benchmark::State& s) { run_forward(s, torch::nn::BatchNorm1d(512), {4096, 512}); }
void BM_GhostBatchNorm1d_4096x512_g128_forward(benchmark::State& s) {
  run_forward(s, GhostBatchNorm1d(GhostBatchNormOptions(512).ghost_batch_size(128)), {4096, 512});
}
void BM_BatchNorm1d_32x512(benchmark::State& s) { run(s, torch::nn::BatchNorm1d(512), {32, 512}); }
void BM_GhostBatchNorm1d_32x512_g32(benchmark::State& s) {
  run(s, GhostBatchNorm1d(GhostBatchNormOptions(512).ghost_batch_size(32)), {32, 512});
}
void BM_BatchNorm2d_1024x32x16x16(benchmark::State& s) { run(s, torch::nn::BatchNorm2d(32), {1024, 32, 16, 16}); }
void BM_GhostBatchNorm2d_1024x32x16x16_g128(benchmark::State& s) {
  run(s, GhostBatchNorm2d(GhostBatchNormOptions(32).ghost_batch_size(128)), {1024, 32, 16, 16});
}
BENCHMARK(BM_BatchNorm1d_4096x512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GhostBatchNorm1d_4096x512_g128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BatchNorm1d_4096x512_forward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GhostBatchNorm1d_4096x512_g128_forward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BatchNorm1d_32x512)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_GhostBatchNorm1d_32x512_g32)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_BatchNorm2d_1024x32x16x16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GhostBatchNorm2d_1024x32x16x16_g128)->Unit(benchmark::kMillisecond)->UseRealTime();

// Warms up, then times `step` (one training step of `batch` samples) until the benchmark is done.
template <class Step>
void time_steps(benchmark::State& state, const torch::Device& d, int64_t batch, Step step) {
  for (int i = 0; i < 2; ++i) step();
  sync(d);
  for (auto _ : state) {
    step();
    sync(d);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(d.str());
}

// One F1 training step (forward, backward, SGD) at batch B. chunks = 0: the whole batch in one
// pass (with GBN of ghost 128 when B > 128); chunks > 0: the authors' method, plain BN run on each
// 128-sample chunk in turn with gradients accumulated, then one step.
void f1_step(benchmark::State& state, int64_t batch, bool chunked) {
  const torch::Device d = device();
  torch::manual_seed(1);
  gengap::train::ModelOptions o;
  o.norm = (batch > 128 && !chunked) ? gengap::train::ghost_batch_norm_factory(128) : gengap::train::batch_norm_factory();
  auto model = gengap::train::make_f1(o);
  model->to(d);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const torch::Tensor x = torch::randn({batch, 1, 28, 28}, torch::TensorOptions().device(d));
  const torch::Tensor y = torch::randint(10, {batch}, torch::TensorOptions().device(d).dtype(torch::kLong));
  auto step = [&] {
    opt.zero_grad();
    if (chunked) {
      const int64_t n = batch / 128;
      for (int64_t c = 0; c < n; ++c) {
        const auto loss = torch::nn::functional::cross_entropy(model->forward(x.narrow(0, c * 128, 128)), y.narrow(0, c * 128, 128)) / n;
        loss.backward();
      }
    } else {
      torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    }
    opt.step();
  };
  time_steps(state, d, batch, step);
}
void BM_F1Step_B128(benchmark::State& s) { f1_step(s, 128, false); }
void BM_F1Step_B4096_GBN128_vectorized(benchmark::State& s) { f1_step(s, 4096, false); }
void BM_F1Step_B4096_authors_chunk_loop(benchmark::State& s) { f1_step(s, 4096, true); }
BENCHMARK(BM_F1Step_B128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_F1Step_B4096_GBN128_vectorized)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_F1Step_B4096_authors_chunk_loop)->Unit(benchmark::kMillisecond)->UseRealTime();

// One ResNet44 step at B = 4096 with GBN (ghost 128) on synthetic CIFAR-shaped data. Registered only
// when CUDA is available: on 2 CPU cores one step takes minutes.
void BM_ResNet44Step_B4096_GBN128(benchmark::State& state) {
  const torch::Device d = device();
  torch::manual_seed(1);
  gengap::train::ModelOptions o;
  o.in_channels = 3;
  o.image_size = 32;
  o.norm = gengap::train::ghost_batch_norm_factory(128);
  auto model = gengap::train::make_model("resnet44", o);
  model->to(d);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  const torch::Tensor x = torch::randn({4096, 3, 32, 32}, torch::TensorOptions().device(d));
  const torch::Tensor y = torch::randint(10, {4096}, torch::TensorOptions().device(d).dtype(torch::kLong));
  auto step = [&] {
    opt.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    opt.step();
  };
  time_steps(state, d, 4096, step);
}

}  // namespace

int main(int argc, char** argv) {
  // As gengap-train and gengap-repro do: keep freed memory for reuse (docs/pages/performance.md).
  // GENGAP_BENCH_DEFAULT_MALLOC=1 measures with the C library's defaults instead.
  const char* dflt = std::getenv("GENGAP_BENCH_DEFAULT_MALLOC");
  const bool kept = (dflt == nullptr || std::string(dflt) != "1") && gengap::core::keep_freed_memory();
  benchmark::AddCustomContext("keep_freed_memory", kept ? "yes" : "no");
  // The BLAS kernels the products run on (OpenBLAS's choice, or OPENBLAS_CORETYPE's): a record from
  // a machine that runs other kernels is not comparable (docs/pages/performance.md).
  const std::string blas = gengap::core::blas_kernel_name();
  benchmark::AddCustomContext("blas_kernels", blas.empty() ? "not OpenBLAS" : blas);
  if (device().is_cuda()) {
    benchmark::RegisterBenchmark("BM_ResNet44Step_B4096_GBN128", BM_ResNet44Step_B4096_GBN128)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
