// The log-time and overlap decisions on controls whose truth is known: laws in ln t (the claim),
// power laws, saturation and a peak (not the claim), with noise like the measured seed-to-seed
// spread of F1's weight distances, and with little noise (where the decision must be decisive).
#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <Eigen/Cholesky>
#include <catch2/catch.hpp>

#include "gengap/sim/claims.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/sim/power.hpp"

using gengap::sim::Outcome;

namespace {

// The overlap controls' noise: a factor per run (sd 4%) and a smooth shape in ln t.
constexpr double kScaleSd = 0.04, kShapeLength = 0.7;

std::vector<double> log_grid(double lo, double hi, int per_decade) {
  std::vector<double> t;
  const int n = static_cast<int>(std::lround(per_decade * std::log10(hi / lo)));
  for (int i = 0; i <= n; ++i) t.push_back(lo * std::pow(hi / lo, i / double(n)));
  return t;
}

// `runs` curves f(t) x (1 + scale) x (1 + smooth shape noise), seeded.
Eigen::MatrixXd runs_of(const std::vector<double>& t, const std::function<double(double)>& f, int runs, double shape_sd,
                        std::uint64_t seed) {
  const auto n = static_cast<Eigen::Index>(t.size());
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      const double du = (std::log(t[static_cast<std::size_t>(i)]) - std::log(t[static_cast<std::size_t>(j)])) / kShapeLength;
      k(i, j) = shape_sd * shape_sd * std::exp(-0.5 * du * du) + (i == j ? 1e-12 : 0.0);
    }
  const Eigen::MatrixXd l = k.llt().matrixL();
  Eigen::MatrixXd out(runs, n);
  for (int r = 0; r < runs; ++r) {
    const gengap::sim::Stream st(seed, gengap::sim::StreamPurpose::kStart, static_cast<std::uint32_t>(r), 0xC0u);
    Eigen::VectorXd z(n);
    for (Eigen::Index i = 0; i < n; ++i) z(i) = gengap::sim::to_normal2(st(static_cast<std::uint64_t>(i)))[0];
    const double scale = 1 + kScaleSd * gengap::sim::to_normal2(st(1000000))[1];
    const Eigen::VectorXd shape = l * z;
    for (Eigen::Index i = 0; i < n; ++i) out(r, i) = f(t[static_cast<std::size_t>(i)]) * scale * (1 + shape(i));
  }
  return out;
}

using gengap::sim::PowerConfig;
using gengap::sim::PowerCount;

// Counts of one family by name.
const PowerCount& row(const std::vector<PowerCount>& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r.family == name) return r;
  FAIL("no family " << name);
  return rows.front();
}

// The kinds whose outcome the rule must get right on 1.5-2 decades: laws in ln t with 1 <= k <= 4,
// and t^beta (beta >= 0.25), linear growth, saturation and a peak.
bool must_support(const PowerCount& r) { return r.kind == "ln t" && r.in_claim && r.family != "sqrt(ln t)"; }
bool must_not_support(const PowerCount& r) {
  return r.kind == "power" || r.kind == "linear" || r.kind == "saturation" || r.kind == "peak";
}

}  // namespace

TEST_CASE("log-time: the inverse exponent w = d(1/beta)/d ln t is 1/k on every law in ln t and 0 on powers of t", "[claims][log-time]") {
  const auto t = log_grid(100, 3750, 20);
  const double um = 0.5 * (std::log(100.0) + std::log(3750.0));
  for (double k : {0.5, 1.0, 2.0, 3.0, 4.0})
    for (double c : {-10.0, -3.0, 0.0, 3.6}) {
      std::vector<double> d;
      for (double tt : t) d.push_back(2.5 * std::pow(std::log(tt) - c, k));
      const auto f = gengap::sim::fit_inverse_exponent(t, d);
      INFO("k = " << k << ", c = " << c);
      CHECK(f.converged);
      CHECK(f.w == Approx(1 / k).epsilon(1e-6));
      CHECK(f.b == Approx(k / (um - c)).epsilon(1e-6));  // beta at the centre
      const auto s = gengap::sim::log_time_statistic(t, d);
      CHECK(s.w_end == Approx(1 / k).epsilon(1e-5));  // the same on the second half: w does not depend on where ln t sits
    }
  for (double beta : {0.1, 0.25, 0.5, 1.0}) {
    std::vector<double> d;
    for (double tt : t) d.push_back(0.3 * std::pow(tt, beta));
    const auto f = gengap::sim::fit_inverse_exponent(t, d);
    INFO("beta = " << beta);
    CHECK(f.w == Approx(0).margin(1e-7));
    CHECK(f.b == Approx(beta).epsilon(1e-7));
  }
  // A positive offset makes beta grow (w < 0); saturation makes it fall fast at the end (w_end >> 1).
  std::vector<double> off, sat;
  for (double tt : t) {
    off.push_back(3 + std::pow(tt, 0.25));
    sat.push_back(1 - std::exp(-tt / 300));
  }
  CHECK(gengap::sim::fit_inverse_exponent(t, off).w < -0.3);
  CHECK(gengap::sim::log_time_statistic(t, sat).w_end > 10);
  CHECK_THROWS_WITH(gengap::sim::fit_inverse_exponent({1, 2, 3, 4}, {1, 2, 0, 4}), Catch::StartsWith("d = 0"));
}

TEST_CASE("log-time: the power asked of the rule, on the default and paper windows (0.5% noise per point)", "[claims][log-time]") {
  // 4-5 runs, a random factor of sd 3.5% per run, 0.5% independent noise per point, 200 draws per
  // family: laws in ln t with k <= 4 supported in >= 90%; t^beta (beta >= 0.25), linear growth,
  // saturation and a peak supported in <= 2.5% and falsified in >= 90%. On three decades a peak in the
  // last tenth of the window must still be seen (a cubic over the window missed it).
  for (const auto& [t0, t1, runs] : std::vector<std::tuple<double, double, int>>{{100, 3750, 4}, {50, 4690, 5}, {100, 1e4, 5}, {100, 1e5, 5}}) {
    PowerConfig c;
    c.t0 = t0;
    c.t1 = t1;
    c.runs = runs;
    c.draws = 200;
    c.seed = 7;
    const auto rows = gengap::sim::log_time_power(c);
    for (const auto& r : rows) {
      INFO(r.family << " on [" << t0 << ", " << t1 << "], " << runs << " runs: " << r.supported << " / " << r.falsified << " / " << r.undecided);
      if (must_support(r)) CHECK(r.supported >= 180);
      if (must_not_support(r)) {
        CHECK(r.supported <= 5);
        CHECK(r.falsified >= 180);
      }
      if (r.in_claim) CHECK(r.falsified <= 10);
    }
    // The families no window of this length separates are not decided for the claim's side by chance:
    // t^0.15 is never supported.
    CHECK(row(rows, "t^0.15").supported <= 5);
  }
}

TEST_CASE("log-time: at the seed-to-seed spread measured on F1 it errs at no more than its nominal rate", "[claims][log-time]") {
  // Measured on F1 / Fashion-MNIST, B = 32, 3 seeds, t in [100, 3750]: a factor (sd 4%) and a
  // smooth shape (sd 2.4%, correlation length 0.7 in ln t). The rule may say undecided, but it must
  // not support a negation in more than 2.5% of draws, nor falsify a law in ln t in more than 5%
  // (two one-sided tests at 2.5%: the whole window and its second half).
  PowerConfig c;
  c.t0 = 100;
  c.t1 = 3750;
  c.runs = 4;
  c.noise.factor_sd = 0.04;
  c.noise.point_sd = 0;
  c.noise.shape_sd = 0.024;
  c.draws = 200;
  c.seed = 11;
  for (const auto& r : gengap::sim::log_time_power(c)) {
    INFO(r.family << ": " << r.supported << " / " << r.falsified << " / " << r.undecided);
    if (must_not_support(r) || r.kind == "slow power") CHECK(r.supported <= 5);
    if (r.in_claim) CHECK(r.falsified <= 12);
  }
}

TEST_CASE("log-time: windows too short, too few points or runs, or values <= 0 are undecided, with the reason", "[claims][log-time]") {
  const auto t = log_grid(100, 3750, 20);
  Eigen::MatrixXd runs(4, static_cast<Eigen::Index>(t.size()));
  for (Eigen::Index r = 0; r < 4; ++r)
    for (Eigen::Index i = 0; i < runs.cols(); ++i)
      runs(r, i) = (2 + 3 * std::log(t[static_cast<std::size_t>(i)])) * (1 + 0.01 * r) * (1 + 1e-4 * std::sin(3.0 * i + r));
  const auto short_window = gengap::sim::decide_log_time(t, runs, 100, 2000);  // t1/t0 = 20 < 30
  CHECK(short_window.outcome == Outcome::kUndecided);
  CHECK(short_window.reason.find("t1/t0 = ") != std::string::npos);
  CHECK(short_window.reason.find("less than the 30") != std::string::npos);
  const auto one_run = gengap::sim::decide_log_time(t, runs.topRows(2), 100, 3750);
  CHECK(one_run.outcome == Outcome::kUndecided);
  CHECK(one_run.reason.find("2 run(s)") != std::string::npos);
  const auto supported = gengap::sim::decide_log_time(t, runs, 100, 3750);
  CHECK(supported.outcome == Outcome::kSupported);
  CHECK(supported.reason.rfind("d grows like A (ln t - c)^k", 0) == 0);
  CHECK(supported.k_implied == Approx(1).margin(0.05));
  Eigen::MatrixXd zero = runs;
  zero(2, 5) = 0;
  const auto z = gengap::sim::decide_log_time(t, zero, 100, 3750);
  CHECK(z.outcome == Outcome::kUndecided);
  CHECK(z.reason.find("d > 0") != std::string::npos);
  // Falsified the other way: a power of t (w = 0) and a curve whose log-slope rises (w < 0), each named.
  Eigen::MatrixXd power = runs, rising = runs;
  for (Eigen::Index r = 0; r < 4; ++r)
    for (Eigen::Index i = 0; i < runs.cols(); ++i) {
      const double lt = std::log(t[static_cast<std::size_t>(i)]), wiggle = (1 + 0.01 * r) * (1 + 1e-4 * std::sin(3.0 * i + r));
      power(r, i) = std::sqrt(t[static_cast<std::size_t>(i)]) * wiggle;
      rising(r, i) = std::exp(0.05 * lt * lt) * wiggle;  // beta = 0.1 ln t, w = -10 / (ln t)^2
    }
  const auto as_power = gengap::sim::decide_log_time(t, power, 100, 3750);
  CHECK(as_power.outcome == Outcome::kFalsified);
  CHECK(as_power.reason.rfind("d grows like a power of t on", 0) == 0);
  const auto faster = gengap::sim::decide_log_time(t, rising, 100, 3750);
  CHECK(faster.outcome == Outcome::kFalsified);
  CHECK(faster.mean.w < 0);
  CHECK(faster.reason.rfind("d grows faster than a power of t, its log-slope beta = d ln d/d ln t rising on", 0) == 0);
  CHECK(faster.reason.find("lies below 0 ") != std::string::npos);
  gengap::sim::LogTimeRule bad;
  bad.k_min = 9;  // above k_max
  CHECK_THROWS_WITH(gengap::sim::decide_log_time(t, runs, 100, 3750, bad), Catch::Contains("k_min < k_max"));
}

namespace {
// `runs` curves f(t) x (1 + factor) x (1 + point noise), seeded; factor and point noise as given.
gengap::sim::CurveRuns noisy(const std::vector<double>& t, double scale, int runs, double factor_sd, double point_sd, std::uint64_t seed) {
  gengap::sim::CurveRuns c{t, Eigen::MatrixXd(runs, static_cast<Eigen::Index>(t.size()))};
  for (int r = 0; r < runs; ++r) {
    const gengap::sim::Stream st(seed, gengap::sim::StreamPurpose::kStart, static_cast<std::uint32_t>(r), 0xC1u);
    const double f = 1 + factor_sd * gengap::sim::to_normal2(st(1000000))[0];
    for (std::size_t i = 0; i < t.size(); ++i)
      c.runs(r, static_cast<Eigen::Index>(i)) = scale * (2 + 3 * std::log(t[i])) * f * (1 + point_sd * gengap::sim::to_normal2(st(i))[0]);
  }
  return c;
}
}  // namespace

TEST_CASE("overlap: close curves pass only when clearly closer than the controls", "[claims][overlap]") {
  const auto t = log_grid(100, 3750, 20);
  const auto ref = noisy(t, 1.0, 5, 0.005, 0.002, 1);
  const auto d_close = gengap::sim::max_relative_deviation(ref, {noisy(t, 1.01, 5, 0.005, 0.002, 2), noisy(t, 0.99, 5, 0.005, 0.002, 3)}, 100, 3750);
  const auto d_far = gengap::sim::max_relative_deviation(ref, {noisy(t, 1.3, 5, 0.005, 0.002, 4)}, 100, 3750);
  CHECK(d_close.value < 0.1);
  CHECK(d_close.hi < 0.1);
  CHECK(d_far.value == Approx(0.3).margin(0.03));
  CHECK(d_far.lo > 0.2);
  CHECK(d_far.points.size() == 6);  // the default evaluation points
  CHECK(gengap::sim::decide_overlap(d_close, {{"no scaling", d_far}}, 0.1).first == Outcome::kSupported);
  CHECK(gengap::sim::decide_overlap(d_far, {{"no scaling", d_close}}, 0.1).first == Outcome::kFalsified);
  CHECK(gengap::sim::decide_overlap(d_close, {{"no scaling", d_close}}, 0.1).first == Outcome::kUndecided);
  CHECK(gengap::sim::decide_overlap(d_close, {}, 0.1).first == Outcome::kUndecided);
  // One run: no interval, never falsified.
  const auto one = gengap::sim::max_relative_deviation(ref, {noisy(t, 1.3, 1, 0.005, 0.002, 5)}, 100, 3750);
  CHECK(one.lo == 0);
  CHECK(std::isinf(one.hi));
}

TEST_CASE("null tests: two samples of one law are falsified at no more than the nominal rate", "[claims][overlap][null]") {
  // Every two-sample comparison of the repro (the overlap of weight distances and of SGD in silico,
  // the premise's v_B/v_ref, the collapse of the alpha sweep) is max_relative_deviation +
  // decide_overlap. The rule falsifies when some simultaneous interval lies wholly beyond the allowed
  // deviation: for two samples of one law that happens in at most (1 - level)/2 = 2.5% of draws.
  // (The bootstrap of the largest deviation it replaces falsified two halves of one alpha-sweep
  // ensemble: 1.56 [0.46, 5.01] against 0.15.)
  const auto t = log_grid(100, 3750, 20);
  constexpr int kDraws = 400;
  // (a) 4 seeds against 4 seeds at F1's spread (a factor of sd 4% per run, 2.4% per point), 0.1 allowed.
  int falsified = 0, supported = 0;
  for (int d = 0; d < kDraws; ++d) {
    const auto a = noisy(t, 1.0, 4, 0.04, 0.024, 1000 + 2 * d), b = noisy(t, 1.0, 4, 0.04, 0.024, 1001 + 2 * d);
    const auto o = gengap::sim::decide_overlap(gengap::sim::max_relative_deviation(a, {b}, 100, 3750), {{"control", {0, 1, 1, 0, 0, {}}}}, 0.1);
    falsified += o.first == Outcome::kFalsified;
    supported += o.first == Outcome::kSupported;
  }
  INFO("seeds: falsified " << falsified << ", supported " << supported << " of " << kDraws);
  CHECK(falsified <= kDraws / 40);
  // (b) two halves of one ensemble of heavy-tailed environments (the alpha sweep's null): 20 + 20
  // environments whose <x^2> is log-normal (sd 1.5 in ln), the length L = <x^2>^(1/4), 0.1 allowed.
  int falsified_env = 0;
  for (int d = 0; d < kDraws; ++d) {
    gengap::sim::CurveRuns h[2];
    for (int k = 0; k < 2; ++k) {
      h[k] = {t, Eigen::MatrixXd(20, static_cast<Eigen::Index>(t.size()))};
      for (int e = 0; e < 20; ++e) {
        const gengap::sim::Stream st(77, gengap::sim::StreamPurpose::kStart, static_cast<std::uint32_t>(40 * d + 20 * k + e), 0xC2u);
        const double env = std::exp(1.5 * gengap::sim::to_normal2(st(0))[0]);
        for (std::size_t i = 0; i < t.size(); ++i) h[k].runs(e, static_cast<Eigen::Index>(i)) = std::pow(env * std::pow(std::log(t[i]), 4), 0.25);
      }
    }
    const auto dev = gengap::sim::max_relative_deviation(h[0], {h[1]}, 100, 3750);
    falsified_env += dev.lo > 0.1;
  }
  INFO("environments: falsified " << falsified_env << " of " << kDraws);
  CHECK(falsified_env <= kDraws / 40);
  // (c) Paired: the same 40 environments under two settings that change nothing but a little noise:
  // the paired comparison is tight (supported), the unpaired one of other environments is not.
  gengap::sim::CurveRuns p0{t, Eigen::MatrixXd(40, static_cast<Eigen::Index>(t.size()))}, p1 = p0, other = p0;
  for (int e = 0; e < 40; ++e) {
    const gengap::sim::Stream st(78, gengap::sim::StreamPurpose::kStart, static_cast<std::uint32_t>(e), 0xC3u);
    const double env = std::exp(1.5 * gengap::sim::to_normal2(st(0))[0]), env2 = std::exp(1.5 * gengap::sim::to_normal2(st(1))[0]);
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double base = std::log(t[i]);
      p0.runs(e, static_cast<Eigen::Index>(i)) = env * base;
      p1.runs(e, static_cast<Eigen::Index>(i)) = env * base * (1 + 0.01 * gengap::sim::to_normal2(st(10 + i))[0]);
      other.runs(e, static_cast<Eigen::Index>(i)) = env2 * base;
    }
  }
  gengap::sim::DeviationOptions paired;
  paired.paired = true;
  const auto dp = gengap::sim::max_relative_deviation(p0, {p1}, 100, 3750, paired);
  const auto du = gengap::sim::max_relative_deviation(p0, {other}, 100, 3750);
  CHECK(dp.hi < 0.05);
  CHECK(du.hi > 0.3);
  CHECK_THROWS_WITH(gengap::sim::max_relative_deviation(p0, {noisy(t, 1.0, 4, 0, 0, 1)}, 100, 3750, paired), Catch::Contains("paired curves need"));
}
