// Sampling the loss along random directions: exact answers on linear and quadratic losses, the
// per-layer shape of the directions, weights restored bit for bit, bad input refused.
#include <cmath>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "gengap/core/error.hpp"
#include "gengap/train/landscape.hpp"

using namespace gengap::train;

namespace {
torch::nn::Linear double_linear(std::uint64_t seed) {
  torch::manual_seed(seed);
  torch::nn::Linear l(10, 3);
  l->to(torch::kDouble);
  return l;
}
}  // namespace

TEST_CASE("landscape probe: a linear loss gives (L(w + r u) - L(w))^2 = r^2 (c.u)^2, alpha = 2 at every r", "[landscape]") {
  torch::nn::Linear l = double_linear(1);
  const torch::Tensor cw = torch::linspace(-1, 1, 30, torch::kDouble).reshape({3, 10}), cb = torch::tensor({0.5, -2.0, 1.0}, torch::kDouble);
  auto loss = [&] { return ((l->weight * cw).sum() + (l->bias * cb).sum()).item<double>(); };
  LandscapeProbeOptions o;
  o.radii = {1e-3, 1e-2, 0.1, 1.0, 10.0};
  o.directions = 6;
  for (DirectionScale scale : {DirectionScale::kGlobal, DirectionScale::kPerLayer}) {
    o.scale = scale;
    const auto sq = loss_increments(*l, loss, o);
    REQUIRE(sq.size() == 6);
    for (const auto& row : sq) {
      REQUIRE(row.size() == 5);
      REQUIRE(row[0] > 0);
      for (std::size_t k = 1; k < row.size(); ++k) CHECK(row[k] / row[0] == Approx(std::pow(o.radii[k] / o.radii[0], 2)).epsilon(1e-7));
    }
  }
}

TEST_CASE("landscape probe: a quadratic well at its minimum gives r^4 / 4 (unit directions), and the per-layer shape", "[landscape]") {
  torch::nn::Linear l = double_linear(2);
  {
    torch::NoGradGuard ng;
    l->weight.zero_();
    l->bias.zero_();
  }
  auto half_sq = [&] { return 0.5 * (l->weight.square().sum() + l->bias.square().sum()).item<double>(); };
  LandscapeProbeOptions o;
  o.radii = {0.1, 1.0, 3.0};
  o.directions = 4;
  for (const auto& row : loss_increments(*l, half_sq, o))
    for (std::size_t k = 0; k < row.size(); ++k) CHECK(row[k] == Approx(std::pow(o.radii[k], 4) / 4).epsilon(1e-12));

  // Per layer: the weight tensor's share of a unit direction is ||W||^2 / (||W||^2 + ||b||^2), so a
  // loss on W alone, ||W - W_0||^2, rises by r^2 times that share.
  torch::nn::Linear m = double_linear(3);
  const torch::Tensor w0 = m->weight.detach().clone();
  const double wn2 = w0.square().sum().item<double>(), bn2 = m->bias.square().sum().item<double>();
  auto on_w = [&] { return (m->weight - w0).square().sum().item<double>(); };
  o.scale = DirectionScale::kPerLayer;
  for (const auto& row : loss_increments(*m, on_w, o))
    for (std::size_t k = 0; k < row.size(); ++k)
      CHECK(row[k] == Approx(std::pow(o.radii[k] * o.radii[k] * wn2 / (wn2 + bn2), 2)).epsilon(1e-10));
}

TEST_CASE("landscape probe: the weights come back bit for bit, also when the loss throws", "[landscape]") {
  torch::nn::Linear l = double_linear(4);
  const torch::Tensor w = l->weight.detach().clone(), b = l->bias.detach().clone();
  LandscapeProbeOptions o;
  o.radii = {0.5, 5.0};
  auto loss = [&] { return l->weight.sum().item<double>(); };
  (void)loss_increments(*l, loss, o);
  CHECK(torch::equal(l->weight, w));
  CHECK(torch::equal(l->bias, b));
  int calls = 0;
  auto failing = [&] {
    if (++calls == 4) throw std::runtime_error("evaluation failed");
    return loss();
  };
  CHECK_THROWS_WITH(loss_increments(*l, failing, o), "evaluation failed");
  CHECK(torch::equal(l->weight, w));
  CHECK(torch::equal(l->bias, b));
  auto nan_loss = [&] { return calls++ > 0 ? std::nan("") : 1.0; };
  calls = 0;
  CHECK_THROWS_AS(loss_increments(*l, nan_loss, o), gengap::core::RuntimeError);
  CHECK(torch::equal(l->weight, w));
  // Deterministic in the seed; another seed draws other directions.
  calls = 0;
  const auto a1 = loss_increments(*l, loss, o), a2 = loss_increments(*l, loss, o);
  CHECK(a1 == a2);
  o.seed = 2;
  CHECK(loss_increments(*l, loss, o) != a1);
}

TEST_CASE("landscape probe: bad requests are refused with the field named", "[landscape][errors]") {
  torch::nn::Linear l = double_linear(5);
  auto loss = [&] { return l->weight.sum().item<double>(); };
  LandscapeProbeOptions o;
  CHECK_THROWS_WITH(loss_increments(*l, loss, o), Catch::Contains("radii"));
  o.radii = {1.0, 0.5};
  CHECK_THROWS_WITH(loss_increments(*l, loss, o), Catch::Contains("increasing"));
  o.radii = {1.0};
  o.directions = 0;
  CHECK_THROWS_WITH(loss_increments(*l, loss, o), Catch::Contains("directions = 0"));
}

TEST_CASE("fixed probe loss: batch norm on its running statistics, the module's mode restored", "[landscape]") {
  torch::manual_seed(6);
  torch::nn::Sequential net(torch::nn::Linear(4, 8), torch::nn::BatchNorm1d(8), torch::nn::Linear(8, 3));
  const torch::Tensor x = torch::randn({2500, 4}), y = torch::randint(0, 3, {2500}, torch::kLong);
  (void)net->forward(x.narrow(0, 0, 64));  // running statistics move away from (0, 1)
  net->train();
  const double l = fixed_probe_loss(*net, [&](const torch::Tensor& t) { return net->forward(t); }, x, y);
  CHECK(net->is_training());
  net->eval();
  torch::NoGradGuard ng;
  const double expected = torch::nn::functional::cross_entropy(net->forward(x), y).item<double>();
  CHECK(l == Approx(expected).epsilon(1e-5));
  CHECK_THROWS_WITH(fixed_probe_loss(*net, [&](const torch::Tensor& t) { return net->forward(t); }, x, y.narrow(0, 0, 10)),
                    Catch::Contains("probe"));
}

TEST_CASE("segment losses: the loss along a straight path between two weight vectors, weights restored", "[landscape]") {
  torch::nn::Linear l = double_linear(7);
  const torch::Tensor w = l->weight.detach().clone(), bias = l->bias.detach().clone();
  // (s^2 - 1)^2 with s the sum of the weights: from s = -1 to s = 1 the path crosses s = 0, a barrier of 1.
  auto well = [&] {
    const double s = l->weight.sum().item<double>();
    return (s * s - 1) * (s * s - 1);
  };
  const torch::Tensor a = torch::full({3, 10}, -1.0 / 30, torch::kDouble), b = torch::full({3, 10}, 1.0 / 30, torch::kDouble);
  const std::vector<double> p = segment_losses(*l, well, {a, bias}, {b, bias}, 21);
  REQUIRE(p.size() == 21);
  CHECK(p.front() == Approx(0).margin(1e-12));
  CHECK(p.back() == Approx(0).margin(1e-12));
  CHECK(p[10] == Approx(1.0).margin(1e-12));
  CHECK(p[5] == Approx(std::pow(0.25 - 1, 2)).epsilon(1e-12));
  CHECK(torch::equal(l->weight, w));
  CHECK(torch::equal(l->bias, bias));
  CHECK_THROWS_WITH(segment_losses(*l, well, {a}, {b, bias}, 5), Catch::Contains("one tensor per trainable parameter"));
  CHECK_THROWS_WITH(segment_losses(*l, well, {a, bias}, {b, bias}, 2), Catch::Contains("points = 2"));
}
