// The reproduction's verdict rows on synthetic inputs whose right answer is known: three outcomes,
// each with its reason.
#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "gengap/repro/verdicts.hpp"
#include "gengap/sim/field.hpp"
#include "gengap/sim/roughness.hpp"

using namespace gengap;
using sim::Outcome;

namespace {
// `runs` noisy copies of y(t) (multiplicative noise of relative size `noise`), on log-spaced t.
Eigen::MatrixXd copies(const std::vector<double>& t, double (*y)(double), int runs, double noise, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  Eigen::MatrixXd m(runs, static_cast<Eigen::Index>(t.size()));
  for (int r = 0; r < runs; ++r)
    for (std::size_t i = 0; i < t.size(); ++i) m(r, static_cast<Eigen::Index>(i)) = y(t[i]) * (1 + noise * z(rng));
  return m;
}
std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) t.push_back(lo * std::pow(hi / lo, i / double(n - 1)));
  return t;
}
double log_growth(double t) { return 0.5 + 2.0 * std::log(t); }
double sqrt_growth(double t) { return 0.3 * std::sqrt(t); }
double log3_growth(double t) { return std::pow(std::log(t) - 3.0, 2); }
}  // namespace

TEST_CASE("the distance fits use the theory's form, unbiased on its own family", "[verdicts]") {
  // A true (ln t - 3)^2 (t from 25, where ln t > 3): a + b (ln t)^k returned k = 3.17 on such a
  // range; A (ln t - c)^k recovers it.
  const auto t = log_grid(25, 1e4, 40);
  const auto f = repro::fit_diffusion(t, copies(t, log3_growth, 4, 0.0, 1), 50, 7, 2.0);
  CHECK(f.k == Approx(2).margin(0.02));
  CHECK(f.c == Approx(3).margin(0.05));
  const auto s = repro::fit_diffusion(log_grid(10, 1e4, 40), copies(log_grid(10, 1e4, 40), sqrt_growth, 4, 0.01, 2), 100, 7);
  CHECK(s.beta == Approx(0.5).margin(0.02));  // d = a + C t^0.5
}

TEST_CASE("the log-time verdict over batch sizes: all supported, any falsified, else undecided", "[verdicts]") {
  const auto t = log_grid(100, 3750, 30);
  const sim::LogTimeRule rule;
  const auto yes = sim::decide_log_time(t, copies(t, log_growth, 4, 1e-4, 1), 100, 3750, rule);
  const auto no = sim::decide_log_time(t, copies(t, sqrt_growth, 4, 1e-4, 2), 100, 3750, rule);
  const auto open = sim::decide_log_time(t, copies(t, log_growth, 2, 1e-4, 3), 100, 3750, rule);  // 2 runs: no interval
  REQUIRE(yes.outcome == Outcome::kSupported);
  REQUIRE(no.outcome == Outcome::kFalsified);
  REQUIRE(open.outcome == Outcome::kUndecided);
  CHECK(repro::log_time_verdict("x", {yes, yes}, {"B = 64", "B = 128"}, rule).outcome == Outcome::kSupported);
  const auto mixed = repro::log_time_verdict("x", {yes, no, yes}, {"B = 64", "B = 128", "B = 256"}, rule);
  CHECK(mixed.outcome == Outcome::kFalsified);
  CHECK(mixed.reason.rfind("B = 128: d grows like a power of t", 0) == 0);
  const auto undecided = repro::log_time_verdict("x", {yes, open}, {"B = 64", "B = 128"}, rule);
  CHECK(undecided.outcome == Outcome::kUndecided);
  CHECK(undecided.reason.find("B = 128: 2 run(s)") == 0);
}

TEST_CASE("exponent verdicts: inside the band, outside it, or straddling", "[verdicts]") {
  CHECK(repro::exponent_verdict("x", "k", 1.2, {1.1, 1.25}, 1.0, 0.3).outcome == Outcome::kSupported);
  CHECK(repro::exponent_verdict("x", "k", 1.5, {1.4, 1.6}, 1.0, 0.3).outcome == Outcome::kFalsified);
  CHECK(repro::exponent_verdict("x", "k", 1.2, {0.9, 1.4}, 1.0, 0.3).outcome == Outcome::kUndecided);
  CHECK(repro::exponent_verdict("x", "k", std::nan(""), {0, 0}, 1.0, 0.3).outcome == Outcome::kUndecided);  // not measured
  CHECK(repro::exponent_verdict("x", "k", 1.2, {1.2, 1.2}, 1.0, 0.3).outcome == Outcome::kSupported);        // one run: the point
}

TEST_CASE("accuracy verdicts use Welch intervals over seeds, or the point with one seed", "[verdicts]") {
  CHECK(repro::gap_verdict("x", {98.3}, {97.0}, 1.0).outcome == Outcome::kSupported);
  CHECK(repro::gap_verdict("x", {98.3}, {97.9}, 1.0).outcome == Outcome::kFalsified);
  CHECK(repro::gap_verdict("x", {98.3, 98.2, 98.4}, {97.0, 97.1, 96.9}, 1.0).outcome == Outcome::kSupported);
  CHECK(repro::gap_verdict("x", {98.3, 97.0, 99.0}, {97.0, 98.1, 96.9}, 1.0).outcome == Outcome::kUndecided);  // wide spread
  CHECK(repro::closed_gap_verdict("x", {98.3}, {98.5}, 0.5).outcome == Outcome::kSupported);  // better than SB
  CHECK(repro::closed_gap_verdict("x", {98.3}, {97.5}, 0.5).outcome == Outcome::kFalsified);
  CHECK(repro::not_worse_verdict("x", "+LR >= LB", {71.7, 71.9}, {85.9, 86.0}, 0.5).outcome == Outcome::kFalsified);
  CHECK(repro::not_worse_verdict("x", "+LR >= LB", {86.5, 86.6}, {85.9, 86.0}, 0.5).outcome == Outcome::kSupported);
  const auto d = repro::difference({1, 2, 3}, {0, 0, 0});
  CHECK(d.value == Approx(2));
  CHECK(d.interval);
  CHECK(d.lo < d.value);
  CHECK(d.hi > d.value);
  // Welch by hand: se = sqrt(1/3), 2 degrees of freedom; resolution (t_0.975 + t_0.80) se = (4.303 + 1.061) / sqrt(3).
  CHECK(d.se == Approx(std::sqrt(1.0 / 3)));
  CHECK(d.dof == Approx(2));
  CHECK(d.resolution() == Approx((4.303 + 1.061) / std::sqrt(3.0)));
  CHECK(std::isinf(repro::difference({1}, {0, 1}).resolution()));
  const auto g = repro::gap_verdict("x", {98.3, 98.2, 98.4}, {97.0, 97.1, 96.9}, 1.0);
  CHECK(g.rule.find("; power at the measured spread (3 and 3 seeds, se ") != std::string::npos);
  CHECK(repro::closed_gap_verdict("x", {98.3}, {98.5}, 0.5).rule.find("no power statement with 1 seed") != std::string::npos);
}

TEST_CASE("the Welch rows' power statement: a true difference one resolution from the bound is decided about 80% of the time", "[verdicts][power]") {
  // 5 seeds a side, unit spread, true difference = bound + (t_0.975 + t_0.80) x the true se at the
  // Welch degrees of freedom of equal variances (8): the interval's lower end clears the bound in
  // about 80% of draws (76% in numpy with 20,000 draws: the noncentral t and the floored degrees of
  // freedom make it a little less), and with the true difference at
  // the bound in about 2.5%.
  std::mt19937_64 rng(20261207);
  std::normal_distribution<double> z(0, 1);
  const double se = std::sqrt(2.0 / 5), at_resolution = (2.306 + 0.889) * se, bound = 1.0;
  int cleared = 0, false_clear = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    std::vector<double> a(5), b(5), c(5);
    for (auto& v : a) v = bound + at_resolution + z(rng);
    for (auto& v : c) v = bound + z(rng);
    for (auto& v : b) v = z(rng);
    cleared += repro::gap_verdict("x", a, b, bound).outcome == Outcome::kSupported;
    false_clear += repro::gap_verdict("x", c, b, bound).outcome == Outcome::kSupported;
  }
  CHECK(cleared > 0.70 * draws);
  CHECK(cleared < 0.86 * draws);
  CHECK(false_clear < 0.045 * draws);
}

TEST_CASE("log_thin keeps one time per slot of a decade from t_min on", "[verdicts]") {
  std::vector<double> t;
  for (int i = 1; i <= 1000; ++i) t.push_back(i);
  const auto k = repro::log_thin(t, 10, 10);
  REQUIRE(k.size() == 21);  // slots 10 ... 30 of 10 per decade: t = 10 ... 1000
  CHECK(t[k.front()] == 10);
  CHECK(t[k.back()] == 1000);
  for (std::size_t i = 1; i < k.size(); ++i) CHECK(t[k[i]] / t[k[i - 1]] < 1.35);  // 10^0.1 = 1.26, plus integer rounding
  CHECK_THROWS(repro::log_thin(t, 1, 0));
}

TEST_CASE("bound verdicts: every interval below, one wholly above, or straddling", "[verdicts]") {
  using repro::Labelled;
  const std::vector<Labelled> below = {{"a", 1.0, {0.8, 1.2}}, {"b", 1.5, {1.3, 1.7}}};
  CHECK(repro::below_bound_verdict("x", "c", below, 1.8).outcome == Outcome::kSupported);
  auto above = below;
  above.push_back({"c", 2.0, {1.9, 2.1}});
  const auto f = repro::below_bound_verdict("x", "c", above, 1.8);
  CHECK(f.outcome == Outcome::kFalsified);
  CHECK(f.reason.find("c:") != std::string::npos);
  auto straddle = below;
  straddle.push_back({"d", 1.75, {1.6, 1.9}});
  CHECK(repro::below_bound_verdict("x", "c", straddle, 1.8).outcome == Outcome::kUndecided);
  CHECK(repro::below_bound_verdict("x", "c", {}, 1.8).outcome == Outcome::kUndecided);
  CHECK(repro::below_bound_verdict("x", "c", {{"n", std::nan(""), {0, 1}}}, 1.8).outcome == Outcome::kUndecided);
}

TEST_CASE("the roughness claim on landscapes of known exponent: a smooth loss fails it, a rough one passes", "[verdicts][landscape]") {
  // Estimator (b) over the radii a walker travels, decided by the rule of weight_distance_f1 (alpha < 1.8).
  const std::vector<double> radii = {1, 2, 4, 8, 16, 32};
  auto decide = [&](const sim::Field& field, const Eigen::VectorXd& w) {
    const Eigen::MatrixXd sq = sim::field_increments(field, w, radii, 32, 3);
    const sim::StructureCurve c = sim::structure_curve(radii, sq, 400, 0.95, 5);
    return repro::below_bound_verdict("x", "rough", {{"field", c.slope, c.slope_ci}}, 1.8).outcome;
  };
  // Negative control: a quadratic bowl, far from its minimum (S ~ r^2, then r^4): FALSIFIED.
  const sim::QuadraticField bowl(50, 1.0);
  CHECK(decide(bowl, Eigen::VectorXd::Constant(50, 20.0)) == Outcome::kFalsified);
  // Positive: a Fourier field with alpha = 1 in its scaling range: SUPPORTED.
  sim::FourierFieldOptions o;
  o.dim = 50;
  o.modes = 4096;
  o.alpha = 1.0;
  o.k_min = 0.014;
  o.k_max = 140;
  o.seed = 11;
  const sim::FourierField rough(o);
  CHECK(decide(rough, Eigen::VectorXd::Zero(50)) == Outcome::kSupported);
}
