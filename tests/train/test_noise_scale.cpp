// The gradient noise scale: the group formulas against a direct computation, the micro-batch
// estimate against an independent implementation (one backward per micro-batch on .grad()), the
// model left as it was; the whole-probe batch-norm mode; weight snapshots.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "gengap/core/error.hpp"
#include "gengap/train/checkpoint.hpp"
#include "gengap/train/ghost_batch_norm.hpp"
#include "gengap/train/landscape.hpp"
#include "gengap/train/noise_scale.hpp"
#include "gengap/train/run_log.hpp"
#include "test_support.hpp"

using namespace gengap::train;

namespace {
torch::nn::Sequential small_net(std::uint64_t seed, bool with_norm, bool ghost = false) {
  torch::manual_seed(seed);
  torch::nn::Sequential m;
  m->push_back(torch::nn::Linear(6, 8));
  if (with_norm) {
    if (ghost) m->push_back(GhostBatchNorm1d(GhostBatchNormOptions(8).ghost_batch_size(4)));
    else m->push_back(torch::nn::BatchNorm1d(8));
  }
  m->push_back(torch::nn::Tanh());
  m->push_back(torch::nn::Linear(8, 3));
  m->to(torch::kDouble);
  return m;
}

std::pair<torch::Tensor, torch::Tensor> data(int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({n, 6}, torch::kDouble), torch::randint(0, 3, {n}, torch::kLong)};
}
}  // namespace

TEST_CASE("noise scale: the group formulas are the unbiased sample estimates", "[noise]") {
  // Three groups of b = 5 samples in two dimensions, written out.
  const std::vector<std::vector<double>> g = {{1.0, 2.0}, {3.0, -1.0}, {2.0, 0.5}};
  double sum_sq = 0, mx = 0, my = 0;
  for (const auto& v : g) {
    sum_sq += v[0] * v[0] + v[1] * v[1];
    mx += v[0] / 3;
    my += v[1] / 3;
  }
  double var = 0;  // sum_i |g_i - gbar|^2 / (m - 1)
  for (const auto& v : g) var += ((v[0] - mx) * (v[0] - mx) + (v[1] - my) * (v[1] - my)) / 2;
  const NoiseEstimate e = noise_from_groups(sum_sq, mx * mx + my * my, 3, 5);
  CHECK(e.trace == Approx(5 * var).epsilon(1e-14));
  CHECK(e.grad_sq == Approx(mx * mx + my * my - var / 3).epsilon(1e-14));
  CHECK(e.b_simple == Approx(e.trace / e.grad_sq).epsilon(1e-14));
  // Equal groups: no noise.
  const NoiseEstimate z = noise_from_groups(3 * 5.0, 5.0, 3, 7);
  CHECK(z.trace == 0);
  CHECK(z.b_simple == 0);
  // Pure noise around a zero mean: |G|^2 is estimated <= 0 and B_simple is undefined.
  CHECK(std::isnan(noise_from_groups(2.0, 0.0, 2, 4).b_simple));
  CHECK_THROWS_AS(noise_from_groups(1.0, 0.5, 1, 4), gengap::core::InvalidArgument);
  CHECK_THROWS_AS(noise_from_groups(1.0, 0.5, 2, 0), gengap::core::InvalidArgument);
  CHECK(noise_micro_batch(4096, 128) == 128);
  CHECK(noise_micro_batch(32, 128) == 16);
  CHECK(noise_micro_batch(3, 128) == 1);
}

TEST_CASE("noise scale: micro-batch estimate equals an independent computation and leaves the model as it was", "[noise]") {
  for (bool norm : {false, true}) {
    torch::nn::Sequential m = small_net(3, norm);
    const auto [x, y] = data(24, 4);
    // Something in .grad() that must survive.
    for (auto& p : m->parameters()) p.mutable_grad() = torch::full_like(p, 7.0);
    std::vector<torch::Tensor> w0, b0;
    for (const auto& p : m->parameters()) w0.push_back(p.detach().clone());
    for (const auto& b : m->buffers()) b0.push_back(b.clone());
    const NoiseEstimate e = gradient_noise_scale(*m, [&m](const torch::Tensor& v) { return m->forward(v); }, x, y, 6);
    CHECK(e.groups == 4);
    CHECK(e.group_size == 6);
    for (std::size_t i = 0; i < w0.size(); ++i) {
      CHECK(torch::equal(m->parameters()[i], w0[i]));
      CHECK(torch::equal(m->parameters()[i].grad(), torch::full_like(w0[i], 7.0)));
    }
    for (std::size_t i = 0; i < b0.size(); ++i) CHECK(torch::equal(m->buffers()[i], b0[i]));

    // Independent: a copy of the model, one backward per micro-batch into .grad(), flattened.
    torch::nn::Sequential c = small_net(3, norm);
    std::vector<torch::Tensor> flat;
    for (int64_t i = 0; i < 4; ++i) {
      c->zero_grad();
      torch::nn::functional::cross_entropy(c->forward(x.narrow(0, 6 * i, 6)), y.narrow(0, 6 * i, 6)).backward();
      std::vector<torch::Tensor> parts;
      for (const auto& p : c->parameters()) parts.push_back(p.grad().reshape(-1));
      flat.push_back(torch::cat(parts));
    }
    const torch::Tensor G = torch::stack(flat);                          // [4, P]
    const torch::Tensor mean = G.mean(0);
    const double s = (G - mean).square().sum().item<double>() / 3;     // sum |g_i - gbar|^2 / (m - 1)
    CHECK(e.trace == Approx(6 * s).epsilon(1e-10));
    CHECK(e.grad_sq == Approx(mean.square().sum().item<double>() - s / 4).epsilon(1e-10));
  }
  torch::nn::Sequential m = small_net(3, false);
  const auto [x, y] = data(5, 4);
  CHECK_THROWS_AS(gradient_noise_scale(*m, [&m](const torch::Tensor& v) { return m->forward(v); }, x, y, 3), gengap::core::InvalidArgument);
}

TEST_CASE("noise scale: identical samples have no gradient noise", "[noise]") {
  torch::nn::Sequential m = small_net(5, false);
  const auto [x1, y1] = data(1, 6);
  const torch::Tensor x = x1.repeat({8, 1}), y = y1.repeat({8});
  const NoiseEstimate e = gradient_noise_scale(*m, [&m](const torch::Tensor& v) { return m->forward(v); }, x, y, 2);
  CHECK(std::abs(e.trace) < 1e-20);
  CHECK(e.grad_sq > 0);
}

TEST_CASE("noise scale: due at every update to 10, then about ten times per decade", "[noise]") {
  for (long long t = 1; t <= 10; ++t) CHECK(run_log::noise_due(t));
  CHECK_FALSE(run_log::noise_due(0));
  int n = 0;
  for (long long t = 1000; t < 10000; ++t) n += run_log::noise_due(t) ? 1 : 0;
  CHECK(n == 10);
}

TEST_CASE("probe loss: whole-probe statistics, ghost or plain batch norm alike, nothing changed, dropout off", "[landscape]") {
  torch::nn::Sequential plain = small_net(8, true, false), ghost = small_net(8, true, true);
  ghost->push_back(torch::nn::Dropout(0.5));
  const auto [x, y] = data(32, 9);
  std::vector<torch::Tensor> b0;
  for (const auto& b : ghost->buffers()) b0.push_back(b.clone());
  auto fp = [&plain](const torch::Tensor& v) { return plain->forward(v); };
  auto fg = [&ghost](const torch::Tensor& v) { return ghost->forward(v); };
  const double lp = fixed_probe_loss(*plain, fp, x, y, ProbeNorm::kProbeBatch);
  const double lg = fixed_probe_loss(*ghost, fg, x, y, ProbeNorm::kProbeBatch);
  CHECK(lg == Approx(lp).epsilon(1e-12));  // the ghost size (4) does not split the probe; dropout does nothing
  CHECK(fixed_probe_loss(*ghost, fg, x, y, ProbeNorm::kProbeBatch) == lg);
  for (std::size_t i = 0; i < b0.size(); ++i) CHECK(torch::equal(ghost->buffers()[i], b0[i]));
  for (const auto& mod : ghost->modules(false)) CHECK(mod->is_training());
  CHECK(ghost[1]->as<GhostBatchNorm1d>()->options.ghost_batch_size() == 4);
  // Against a direct computation: batch statistics of the whole probe, in training mode, dropout off.
  torch::NoGradGuard ng;
  const torch::Tensor h = plain[0]->as<torch::nn::Linear>()->forward(x);
  const torch::Tensor mu = h.mean(0), var = h.var(0, false);
  const auto* bn = plain[1]->as<torch::nn::BatchNorm1d>();
  const torch::Tensor z = plain[3]->as<torch::nn::Linear>()->forward(torch::tanh((h - mu) / torch::sqrt(var + 1e-5) * bn->weight + bn->bias));
  CHECK(lp == Approx(torch::nn::functional::cross_entropy(z, y).item<double>()).epsilon(1e-12));
  // The running-statistics mode differs (fresh running statistics are 0 and 1).
  CHECK(fixed_probe_loss(*plain, fp, x, y, ProbeNorm::kRunning) != Approx(lp).epsilon(1e-6));
}

TEST_CASE("snapshots: the weights round-trip, and damaged or foreign bytes are refused", "[checkpoint]") {
  torch::nn::Sequential a = small_net(11, true), b = small_net(12, true);
  const std::string bytes = snapshot_bytes(*a);
  load_snapshot(*b, bytes, "w.pt", torch::kCPU);
  for (std::size_t i = 0; i < a->parameters().size(); ++i) CHECK(torch::equal(a->parameters()[i], b->parameters()[i]));
  for (std::size_t i = 0; i < a->buffers().size(); ++i) CHECK(torch::equal(a->buffers()[i], b->buffers()[i]));
  std::string bad = bytes;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
  CHECK_THROWS_AS(load_snapshot(*b, bad, "w.pt", torch::kCPU), gengap::core::InvalidArgument);
  CHECK_THROWS_AS(load_snapshot(*b, bytes.substr(0, 40), "w.pt", torch::kCPU), gengap::core::InvalidArgument);
  CHECK_THROWS_AS(load_snapshot(*b, "not a snapshot at all, not at all", "w.pt", torch::kCPU), gengap::core::InvalidArgument);
  torch::nn::Sequential other;
  other->push_back(torch::nn::Linear(2, 2));
  CHECK_THROWS_AS(load_snapshot(*other, bytes, "w.pt", torch::kCPU), gengap::core::InvalidArgument);
}
