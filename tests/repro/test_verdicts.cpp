// The reproduction's decision logic on synthetic series whose right answer is known.
#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "gengap/repro/verdicts.hpp"

using namespace gengap;

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
}  // namespace

TEST_CASE("a log-growth series passes the log-time claim, a sqrt(t) series fails it", "[verdicts]") {
  const auto t = log_grid(10, 1e4, 40);
  const auto fl = repro::fit_diffusion(t, copies(t, log_growth, 4, 0.01, 1), 100, 7);
  const auto fs = repro::fit_diffusion(t, copies(t, sqrt_growth, 4, 0.01, 2), 100, 7);
  CHECK(fl.k == Approx(1).margin(0.1));        // d = a + b (ln t)^1
  CHECK(fs.beta == Approx(0.5).margin(0.02));  // d = C t^0.5
  CHECK(fl.delta_aic > 10);
  CHECK(fs.delta_aic < 0);
  CHECK(fl.k_ci.lo <= fl.k);
  CHECK(fl.k <= fl.k_ci.hi);
  CHECK(repro::log_time_verdict("x", {fl}, {"log"}, 10).pass);
  CHECK_FALSE(repro::log_time_verdict("x", {fs}, {"sqrt"}, 10).pass);
  // The claim is for every batch size: one sqrt(t) series among log ones fails it, and is named.
  const auto mixed = repro::log_time_verdict("x", {fl, fs, fl}, {"B = 64", "B = 128", "B = 256"}, 10);
  CHECK_FALSE(mixed.pass);
  CHECK(mixed.measured.find("2/3") != std::string::npos);
  CHECK(mixed.measured.find("B = 128") != std::string::npos);
}

TEST_CASE("curves that overlap in iterations pass the overlap claim, curves that do not fail it", "[verdicts]") {
  // Batch sizes B with N = 60000 samples: epochs = iterations * B / N.
  const std::vector<double> batches = {64, 256, 1024, 4096};
  auto curves = [&](bool overlap) {
    std::vector<sim::Curve> it, ep;
    for (double b : batches) {
      sim::Curve ci, ce;
      for (double t = 1; t <= 2000; t *= 1.2) {
        // overlapping: d depends on iterations only; not overlapping: d depends on epochs only
        const double d = overlap ? 1 + std::log(t) : 1 + std::log(1 + t * b / 60.0);
        ci.x.push_back(t);
        ce.x.push_back(t * b / 60000);
        ci.y.push_back(d);
      }
      ce.y = ci.y;
      it.push_back(ci);
      ep.push_back(ce);
    }
    return repro::check_overlap(it, ep);
  };
  const auto yes = curves(true), no = curves(false);
  CHECK(yes.iterations.spread == Approx(0).margin(1e-12));
  CHECK(yes.epochs.spread > 0.1);
  CHECK(no.iterations.spread > 0.1);
  CHECK(repro::overlap_verdict("x", yes, 0.15, 0.5).pass);
  CHECK_FALSE(repro::overlap_verdict("x", no, 0.15, 0.5).pass);
}

TEST_CASE("exponent, gap and closed-gap verdicts apply their tolerances", "[verdicts]") {
  CHECK(repro::exponent_verdict("x", "k", 1.2, {1.1, 1.3}, 1.0, 0.3).pass);
  CHECK_FALSE(repro::exponent_verdict("x", "k", 1.4, {1.3, 1.5}, 1.0, 0.3).pass);
  CHECK_FALSE(repro::exponent_verdict("x", "k", std::nan(""), {0, 0}, 1.0, 0.3).pass);  // not measured is not a pass
  CHECK(repro::gap_verdict("x", 98.3, 97.0, 1.0).pass);
  CHECK_FALSE(repro::gap_verdict("x", 98.3, 97.9, 1.0).pass);
  CHECK(repro::closed_gap_verdict("x", 98.3, 98.5, 0.5).pass);   // better than SB
  CHECK(repro::closed_gap_verdict("x", 98.3, 97.9, 0.5).pass);
  CHECK_FALSE(repro::closed_gap_verdict("x", 98.3, 97.5, 0.5).pass);
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
