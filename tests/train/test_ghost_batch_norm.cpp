// Ghost Batch Normalization against independent computations: per-ghost normalization written out
// here, plain BatchNorm when the ghost covers the batch, a loop of BatchNorm steps for the running
// statistics, finite differences for the gradients, and state_dict interchange with BatchNorm.
#include <sstream>

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/serialize.h>

#include "gengap/train/ghost_batch_norm.hpp"
#include "test_support.hpp"  // after LibTorch: replaces glog's CHECK with Catch's

using namespace gengap::train;

namespace {
const auto kD = torch::TensorOptions().dtype(torch::kDouble);

// Per-ghost normalization computed directly: reduce over every dim but the channel (dim 1).
torch::Tensor reference(const torch::Tensor& x, const std::vector<int64_t>& split, const torch::Tensor& w,
                        const torch::Tensor& b, double eps) {
  std::vector<torch::Tensor> out;
  int64_t start = 0;
  for (int64_t n : split) {
    const torch::Tensor xi = x.narrow(0, start, n);
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
    const torch::Tensor mean = xi.mean(dims, /*keepdim=*/true);
    const torch::Tensor var = (xi - mean).pow(2).mean(dims, /*keepdim=*/true);
    std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
    shape[1] = x.size(1);
    out.push_back((xi - mean) / torch::sqrt(var + eps) * w.view(shape) + b.view(shape));
    start += n;
  }
  return torch::cat(out, 0);
}

template <class M>
void randomize_affine(M& m) {
  torch::NoGradGuard g;
  m->weight.uniform_(0.5, 1.5);
  m->bias.uniform_(-0.5, 0.5);
}
}  // namespace

TEST_CASE("ghost_split: the documented rule", "[gbn]") {
  CHECK(ghost_split(12, 4) == std::vector<int64_t>{4, 4, 4});
  CHECK(ghost_split(10, 4) == std::vector<int64_t>{4, 4, 2});
  CHECK(ghost_split(9, 4) == std::vector<int64_t>{4, 5});  // a single leftover joins the last ghost
  CHECK(ghost_split(3, 4) == std::vector<int64_t>{3});
  CHECK(ghost_split(4096, 128).size() == 32);
  CHECK_THROWS_WITH(ghost_split(8, 0), Catch::Contains("ghost_batch_size = 0"));
}

TEST_CASE("GBN equals per-ghost normalization computed independently", "[gbn]") {
  torch::manual_seed(1);
  struct Case {
    std::vector<int64_t> shape;
    int64_t ghost;
  };
  for (const Case& c : {Case{{12, 3}, 4}, Case{{10, 3}, 4}, Case{{9, 3}, 4}, Case{{11, 5, 7}, 3}}) {
    GhostBatchNorm1d m(GhostBatchNormOptions(c.shape[1]).ghost_batch_size(c.ghost).eps(1e-3));
    m->to(torch::kDouble);
    randomize_affine(m);
    const torch::Tensor x = torch::randn(c.shape, kD) * 2 + 0.3;
    const torch::Tensor y = m->forward(x);
    const torch::Tensor want = reference(x, ghost_split(c.shape[0], c.ghost), m->weight, m->bias, 1e-3);
    INFO("shape[0] = " << c.shape[0] << ", ghost = " << c.ghost);
    CHECK(torch::allclose(y, want, 1e-10, 1e-12));
  }
  for (const Case& c : {Case{{12, 3, 4, 5}, 4}, Case{{13, 2, 3, 3}, 4}, Case{{14, 2, 3, 3}, 4}}) {
    GhostBatchNorm2d m(GhostBatchNormOptions(c.shape[1]).ghost_batch_size(c.ghost));
    m->to(torch::kDouble);
    randomize_affine(m);
    const torch::Tensor x = torch::randn(c.shape, kD);
    const torch::Tensor want = reference(x, ghost_split(c.shape[0], c.ghost), m->weight, m->bias, 1e-5);
    INFO("2d shape[0] = " << c.shape[0]);
    CHECK(torch::allclose(m->forward(x), want, 1e-10, 1e-12));
  }
}

TEST_CASE("GBN equals BatchNorm when the ghost batch covers the batch", "[gbn]") {
  torch::manual_seed(2);
  GhostBatchNorm2d g(GhostBatchNormOptions(4).ghost_batch_size(64));
  torch::nn::BatchNorm2d b(torch::nn::BatchNorm2dOptions(4));
  g->to(torch::kDouble);
  b->to(torch::kDouble);
  randomize_affine(g);
  {
    torch::NoGradGuard ng;
    b->weight.copy_(g->weight);
    b->bias.copy_(g->bias);
  }
  for (int step = 0; step < 3; ++step) {
    const torch::Tensor x = torch::randn({16, 4, 3, 3}, kD).requires_grad_();
    const torch::Tensor r = torch::randn({16, 4, 3, 3}, kD);
    const torch::Tensor yg = g->forward(x), yb = b->forward(x);
    CHECK(torch::allclose(yg, yb, 1e-12, 1e-12));
    const auto gg = torch::autograd::grad({(yg * r).sum()}, {x, g->weight, g->bias});
    const auto gb = torch::autograd::grad({(yb * r).sum()}, {x, b->weight, b->bias});
    for (int i = 0; i < 3; ++i) CHECK(torch::allclose(gg[static_cast<std::size_t>(i)], gb[static_cast<std::size_t>(i)], 1e-10, 1e-12));
  }
  CHECK(torch::allclose(g->running_mean, b->running_mean, 1e-12, 1e-14));
  CHECK(torch::allclose(g->running_var, b->running_var, 1e-12, 1e-14));
  CHECK(g->num_batches_tracked.item<int64_t>() == b->num_batches_tracked.item<int64_t>());
}

TEST_CASE("running statistics equal a loop of BatchNorm steps over the ghost batches", "[gbn]") {
  torch::manual_seed(3);
  for (c10::optional<double> momentum : {c10::optional<double>(0.1), c10::optional<double>(0.3), c10::optional<double>(c10::nullopt)}) {
    GhostBatchNorm1d g(GhostBatchNormOptions(5).ghost_batch_size(4).momentum(momentum));
    torch::nn::BatchNorm1d b(torch::nn::BatchNorm1dOptions(5).momentum(momentum));
    g->to(torch::kDouble);
    b->to(torch::kDouble);
    for (int64_t n : {16, 13, 9, 4}) {
      const torch::Tensor x = torch::randn({n, 5}, kD) * 3 + 1;
      g->forward(x);
      int64_t start = 0;
      for (int64_t s : ghost_split(n, 4)) {
        b->forward(x.narrow(0, start, s));
        start += s;
      }
    }
    INFO("momentum " << (momentum ? std::to_string(*momentum) : "None"));
    CHECK(torch::allclose(g->running_mean, b->running_mean, 1e-12, 1e-14));
    CHECK(torch::allclose(g->running_var, b->running_var, 1e-12, 1e-14));
    CHECK(g->num_batches_tracked.item<int64_t>() == b->num_batches_tracked.item<int64_t>());
  }
}

TEST_CASE("without affine parameters or running statistics: per-chunk BatchNorm, forward and backward", "[gbn]") {
  // LibTorch 1.13's autograd Function cannot take an undefined weight; this crashed before (affine = false).
  torch::manual_seed(11);
  for (const bool track : {true, false}) {
    GhostBatchNorm2d g(GhostBatchNormOptions(3).ghost_batch_size(4).affine(false).track_running_stats(track));
    torch::nn::BatchNorm2d b(torch::nn::BatchNorm2dOptions(3).affine(false).track_running_stats(track));
    g->to(torch::kDouble);
    b->to(torch::kDouble);
    const torch::Tensor x = torch::randn({11, 3, 2, 2}, kD);
    const torch::Tensor xa = x.clone().requires_grad_(true), xb = x.clone().requires_grad_(true);
    const torch::Tensor ya = g->forward(xa);
    std::vector<torch::Tensor> chunks;
    int64_t start = 0;
    for (int64_t s : ghost_split(11, 4)) {
      chunks.push_back(b->forward(xb.narrow(0, start, s)));
      start += s;
    }
    const torch::Tensor yb = torch::cat(chunks);
    const torch::Tensor dy = torch::randn_like(ya);
    (ya * dy).sum().backward();
    (yb * dy).sum().backward();
    INFO("track_running_stats " << track);
    CHECK(torch::allclose(ya, yb, 1e-12, 1e-12));
    CHECK(torch::allclose(xa.grad(), xb.grad(), 1e-12, 1e-12));
    if (track) CHECK(torch::allclose(g->running_var, b->running_var, 1e-12, 1e-14));
  }
}

TEST_CASE("GBN gradients match finite differences (double)", "[gbn]") {
  torch::manual_seed(4);
  GhostBatchNorm2d m(GhostBatchNormOptions(3).ghost_batch_size(3));
  m->to(torch::kDouble);
  randomize_affine(m);
  const torch::Tensor x = torch::randn({8, 3, 2, 2}, kD).requires_grad_();
  const torch::Tensor r = torch::randn({8, 3, 2, 2}, kD);
  auto loss = [&](const torch::Tensor& in) { return (m->forward(in) * r).sum(); };
  const auto grads = torch::autograd::grad({loss(x)}, {x, m->weight, m->bias});
  torch::NoGradGuard ng;
  const double h = 1e-6;
  auto check = [&](torch::Tensor target, const torch::Tensor& analytic) {
    auto flat = target.view(-1);
    for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 12)) {
      const double old = flat[i].item<double>();
      flat[i] = old + h;
      const double up = loss(x).item<double>();
      flat[i] = old - h;
      const double down = loss(x).item<double>();
      flat[i] = old;
      REQUIRE((up - down) / (2 * h) == Approx(analytic.view(-1)[i].item<double>()).epsilon(1e-5).margin(1e-7));
    }
  };
  check(x.detach(), grads[0]);
  check(m->weight.detach(), grads[1]);
  check(m->bias.detach(), grads[2]);
}

// The CPU kernels split the work into tasks of a ghost batch and a block of channels, over the
// threads; shapes here make several blocks per ghost, a last block narrower than a vector of 16,
// ghost batches whose row count is not a multiple of 4, and a last ghost batch of another size
// (1025 rows, from a single leftover sample; 103 rows).
TEST_CASE("GBN CPU kernels: the same bits on 1 and 2 threads, and float agrees with a double reference", "[gbn]") {
  struct Case {
    std::vector<int64_t> shape;
    int64_t ghost;
  };
  const int threads = at::get_num_threads();
  for (const Case& c : {Case{{2048, 37}, 1024}, Case{{2049, 37}, 1024}, Case{{4103, 16}, 1000}, Case{{64, 5, 300}, 32},
                        Case{{66, 3, 7, 11}, 16}}) {
    INFO("shape[0] = " << c.shape[0] << ", channels " << c.shape[1] << ", ghost " << c.ghost);
    torch::manual_seed(11);
    const torch::Tensor x = (torch::randn(c.shape) * 2 + 3).requires_grad_();
    const torch::Tensor r = torch::randn(c.shape);
    struct Result {
      torch::Tensor y, dx, dw, db, rm, rv;
    };
    auto run = [&](int n_threads) {
      at::set_num_threads(n_threads);
      GhostBatchNorm1d m1(GhostBatchNormOptions(c.shape[1]).ghost_batch_size(c.ghost));
      GhostBatchNorm2d m2(GhostBatchNormOptions(c.shape[1]).ghost_batch_size(c.ghost));
      const bool two_d = c.shape.size() == 4;
      torch::nn::Module& m = two_d ? static_cast<torch::nn::Module&>(*m2) : static_cast<torch::nn::Module&>(*m1);
      {
        torch::NoGradGuard g;
        torch::manual_seed(12);
        m.named_parameters()["weight"].uniform_(0.5, 1.5);
        m.named_parameters()["bias"].uniform_(-0.5, 0.5);
      }
      x.mutable_grad() = torch::Tensor();
      const torch::Tensor y = two_d ? m2->forward(x) : m1->forward(x);
      (y * r).sum().backward();
      Result out{y.detach(), x.grad().clone(), m.named_parameters()["weight"].grad().clone(),
                 m.named_parameters()["bias"].grad().clone(), m.named_buffers()["running_mean"].clone(),
                 m.named_buffers()["running_var"].clone()};
      at::set_num_threads(threads);
      return out;
    };
    const Result one = run(1), two = run(2);
    CHECK(torch::equal(one.y, two.y));
    CHECK(torch::equal(one.dx, two.dx));
    CHECK(torch::equal(one.dw, two.dw));
    CHECK(torch::equal(one.db, two.db));
    CHECK(torch::equal(one.rm, two.rm));
    CHECK(torch::equal(one.rv, two.rv));
    // Against the per-ghost normalization written out in double, differentiated by autograd.
    const torch::Tensor xd = x.detach().to(torch::kDouble).requires_grad_();
    torch::manual_seed(12);
    const torch::Tensor w = torch::empty({c.shape[1]}).uniform_(0.5, 1.5).to(torch::kDouble).requires_grad_();
    const torch::Tensor b = torch::empty({c.shape[1]}).uniform_(-0.5, 0.5).to(torch::kDouble).requires_grad_();
    const torch::Tensor want = reference(xd, ghost_split(c.shape[0], c.ghost), w, b, 1e-5);
    const auto g = torch::autograd::grad({(want * r.to(torch::kDouble)).sum()}, {xd, w, b});
    CHECK(torch::allclose(one.y.to(torch::kDouble), want, 1e-5, 1e-5));
    CHECK(torch::allclose(one.dx.to(torch::kDouble), g[0], 1e-4, 1e-5));
    CHECK(torch::allclose(one.dw.to(torch::kDouble), g[1], 1e-4, 1e-3));
    CHECK(torch::allclose(one.db.to(torch::kDouble), g[2], 1e-4, 1e-3));
  }
}

TEST_CASE("evaluation uses the running statistics without splitting", "[gbn]") {
  torch::manual_seed(5);
  GhostBatchNorm1d g(GhostBatchNormOptions(6).ghost_batch_size(2));
  for (int i = 0; i < 5; ++i) g->forward(torch::randn({10, 6}) * 2 + 1);
  g->eval();
  const torch::Tensor x = torch::randn({7, 6});
  const torch::Tensor want = (x - g->running_mean) / torch::sqrt(g->running_var + 1e-5) * g->weight + g->bias;
  CHECK(torch::allclose(g->forward(x), want, 1e-5, 1e-6));
  const torch::Tensor before = g->running_mean.clone();
  g->forward(x);
  CHECK(torch::equal(before, g->running_mean));
}

TEST_CASE("state_dict interchanges with torch::nn::BatchNorm", "[gbn]") {
  torch::manual_seed(6);
  GhostBatchNorm2d g(GhostBatchNormOptions(4).ghost_batch_size(2));
  randomize_affine(g);
  g->forward(torch::randn({8, 4, 3, 3}));
  torch::nn::BatchNorm2d b(torch::nn::BatchNorm2dOptions(4));
  // Same names, shapes and dtypes.
  const auto gp = g->named_parameters(), bp = b->named_parameters();
  const auto gb = g->named_buffers(), bb = b->named_buffers();
  REQUIRE(gp.keys() == bp.keys());
  REQUIRE(gb.keys() == bb.keys());
  // A checkpoint written from GBN loads into BatchNorm, and back.
  std::stringstream ss;
  torch::save(g, ss);
  torch::load(b, ss);
  CHECK(torch::equal(b->weight, g->weight));
  CHECK(torch::equal(b->running_var, g->running_var));
  CHECK(b->num_batches_tracked.item<int64_t>() == g->num_batches_tracked.item<int64_t>());
  GhostBatchNorm2d g2(GhostBatchNormOptions(4).ghost_batch_size(2));
  std::stringstream ss2;
  torch::save(b, ss2);
  torch::load(g2, ss2);
  CHECK(torch::equal(g2->running_mean, g->running_mean));
}

TEST_CASE("GBN rejects bad inputs with clear errors", "[gbn][errors]") {
  GhostBatchNorm2d g(GhostBatchNormOptions(4).ghost_batch_size(2));
  CHECK_THROWS_WITH(g->forward(torch::randn({4, 4})), Catch::Contains("expected 4D input"));
  CHECK_THROWS_WITH(g->forward(torch::randn({4, 3, 2, 2})), Catch::Contains("expected num_features = 4"));
  CHECK_THROWS_WITH(GhostBatchNorm1d(GhostBatchNormOptions(4).ghost_batch_size(0)), Catch::Contains("ghost_batch_size = 0"));
}

namespace {
// Runs the same GBN forward and backward on the CPU and on CUDA and compares outputs, input
// gradients, parameter gradients and running statistics within float tolerances.
template <class Module>
void compare_cuda(int64_t channels, int64_t ghost, const std::vector<int64_t>& shape) {
  Module cpu(GhostBatchNormOptions(channels).ghost_batch_size(ghost));
  randomize_affine(cpu);
  Module gpu(GhostBatchNormOptions(channels).ghost_batch_size(ghost));
  {
    torch::NoGradGuard ng;
    gpu->weight.copy_(cpu->weight);
    gpu->bias.copy_(cpu->bias);
  }
  gpu->to(torch::kCUDA);
  const torch::Tensor x = torch::randn(shape) * 2 + 0.5;
  const torch::Tensor r = torch::randn(shape);
  const torch::Tensor xc = x.clone().requires_grad_(), xg = x.to(torch::kCUDA).requires_grad_();
  const torch::Tensor yc = cpu->forward(xc), yg = gpu->forward(xg);
  (yc * r).sum().backward();
  (yg * r.to(torch::kCUDA)).sum().backward();
  INFO("n = " << shape[0]);
  CHECK(torch::allclose(yg.cpu(), yc, 1e-4, 1e-4));
  CHECK(torch::allclose(xg.grad().cpu(), xc.grad(), 1e-3, 1e-4));
  CHECK(torch::allclose(gpu->weight.grad().cpu(), cpu->weight.grad(), 1e-3, 1e-3));
  CHECK(torch::allclose(gpu->bias.grad().cpu(), cpu->bias.grad(), 1e-3, 1e-3));
  CHECK(torch::allclose(gpu->running_mean.cpu(), cpu->running_mean, 1e-4, 1e-5));
  CHECK(torch::allclose(gpu->running_var.cpu(), cpu->running_var, 1e-4, 1e-5));
}
}  // namespace

TEST_CASE("GBN on CUDA matches the CPU result (skipped without a GPU)", "[gbn][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: the CUDA comparison is skipped");
    return;
  }
  torch::manual_seed(7);
  for (int64_t n : {256, 250, 129}) compare_cuda<GhostBatchNorm2d>(8, 64, {n, 8, 5, 5});
  for (int64_t n : {512, 300, 257}) compare_cuda<GhostBatchNorm1d>(16, 128, {n, 16});
}
