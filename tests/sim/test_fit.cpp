// Fits: exact recovery on synthetic series, noise, model choice on real walks, bootstrap coverage.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/fit.hpp"
#include "gengap/sim/flat.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/times.hpp"

using namespace gengap::sim;

namespace {
std::vector<double> times(double t0, double t1, int n) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) t.push_back(t0 * std::pow(t1 / t0, static_cast<double>(i) / (n - 1)));
  return t;
}
}  // namespace

TEST_CASE("fits recover the parameters of exact synthetic series", "[fit]") {
  const auto t = times(10, 1e7, 40);
  std::vector<double> a(t.size()), b(t.size()), c(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    a[i] = std::pow(0.8 * (std::log(t[i]) + 1.5), 4);  // log-fixed, A = 0.8, c = -1.5
    b[i] = 3.0 * std::pow(std::log(t[i]) - 0.5, 2.5);   // log-free, B = 3, c = 0.5, k = 2.5
    c[i] = 0.2 * std::pow(t[i], 0.6);                   // power, C = 0.2, beta = 0.6
  }
  const auto fa = fit_log_fixed(t, a, 4);
  CHECK(fa.param("A") == Approx(0.8).epsilon(1e-6));
  CHECK(fa.param("c") == Approx(-1.5).epsilon(1e-5));
  CHECK(fa.predict(1000.0) == Approx(std::pow(0.8 * (std::log(1000.0) + 1.5), 4)).epsilon(1e-5));
  const auto fb = fit_log_free(t, b);
  CHECK(fb.param("B") == Approx(3.0).epsilon(1e-4));
  CHECK(fb.param("c") == Approx(0.5).epsilon(1e-4));
  CHECK(fb.param("k") == Approx(2.5).epsilon(1e-5));
  const auto fc = fit_power(t, c);
  CHECK(fc.param("C") == Approx(0.2).epsilon(1e-10));
  CHECK(fc.param("beta") == Approx(0.6).epsilon(1e-10));
  CHECK(compare_models(t, a).front().model != "power");
  CHECK(compare_models(t, c).front().model == "power");
}

TEST_CASE("fits with 2% multiplicative noise stay close and prefer the true family", "[fit]") {
  const auto t = times(10, 1e6, 50);
  const Stream st(3, StreamPurpose::kStart, 0, 0);
  std::vector<double> logy(t.size()), powy(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto z = to_normal2(st(i));
    logy[i] = std::pow(std::log(t[i]) + 1, 4) * std::exp(0.02 * z[0]);
    powy[i] = std::sqrt(t[i]) * std::exp(0.02 * z[1]);  // diffusion: d = sqrt(t)
  }
  const auto fl = compare_models(t, logy, 4);
  CHECK(fl.front().model != "power");
  const auto free_fit = fit_log_free(t, logy);
  CHECK(free_fit.param("k") == Approx(4).margin(0.5));
  const auto fp = compare_models(t, powy, 4);
  CHECK(fp.front().model == "power");
  CHECK(fp.front().param("beta") == Approx(0.5).margin(0.01));
}

TEST_CASE("model comparison: log growth for Sinai walks, t^1 for a flat potential", "[fit][ensemble]") {
  EnsembleConfig c;
  c.environments = 1000;
  c.walkers_per_env = 4;
  c.times = log_times(1 << 18, 6);
  c.seed = 11;
  c.quantile_levels.clear();
  auto fit_from = [](const EnsembleResult& r) {
    std::vector<double> t, y;
    for (std::size_t i = 0; i < r.times.size(); ++i)
      if (r.times[i] >= 100) {
        t.push_back(static_cast<double>(r.times[i]));
        y.push_back(r.msd[i]);
      }
    return compare_models(t, y, 4);
  };
  const auto sinai = fit_from(run_ensemble(SinaiPotential(SinaiPotential::Increments::kGaussian, 2.0), Metropolis{}, c));
  CHECK(sinai.front().model != "power");
  double power_aic = 0, best = sinai.front().aic;
  for (const auto& f : sinai)
    if (f.model == "power") power_aic = f.aic;
  CHECK(power_aic - best > 10);  // decisively worse
  c.environments = 100;
  const auto flat = fit_from(run_ensemble(FlatPotential{}, Metropolis{}, c));
  REQUIRE(flat.front().model == "power");
  CHECK(flat.front().param("beta") == Approx(1.0).margin(0.02));
}

TEST_CASE("bootstrap intervals cover the truth and are deterministic", "[fit]") {
  // 200 noisy samples of an exact power law; the 95% interval of beta must hold 0.7.
  const auto t = times(10, 1e5, 20);
  Eigen::MatrixXd s(200, static_cast<Eigen::Index>(t.size()));
  for (Eigen::Index r = 0; r < s.rows(); ++r) {
    const Stream st(4, StreamPurpose::kStart, static_cast<std::uint32_t>(r), 0);
    for (Eigen::Index i = 0; i < s.cols(); ++i)
      s(r, i) = 2 * std::pow(t[static_cast<std::size_t>(i)], 0.7) * std::exp(0.3 * to_normal2(st(static_cast<std::uint64_t>(i)))[0]);
  }
  const auto b = bootstrap_fits(t, s, 200, 0.95, 1, 4);
  const auto b2 = bootstrap_fits(t, s, 200, 0.95, 1, 4);
  for (std::size_t m = 0; m < b.fits.size(); ++m) {
    if (b.fits[m].model != "power") continue;
    INFO("beta in [" << b.intervals[m][1].lo << ", " << b.intervals[m][1].hi << "]");
    CHECK(b.intervals[m][1].lo < 0.7);
    CHECK(b.intervals[m][1].hi > 0.7);
    CHECK(b.intervals[m][1].hi - b.intervals[m][1].lo < 0.05);
    CHECK(b.intervals[m][1].lo == b2.intervals[m][1].lo);
  }
  double total = 0;
  for (double f : b.preferred_fraction) total += f;
  CHECK(total == Approx(1.0));
}

TEST_CASE("fits reject bad series", "[fit][errors]") {
  CHECK_THROWS_WITH(compare_models({2, 3, 4}, {1, 2, 3}), Catch::StartsWith("points = 3"));
  CHECK_THROWS_WITH(compare_models({2, 3, 4, 5}, {1, -2, 3, 4}), Catch::StartsWith("y = -2"));
  CHECK_THROWS_WITH(compare_models({1, 3, 4, 5}, {1, 2, 3, 4}), Catch::StartsWith("t = 1"));
  CHECK_THROWS_WITH(fit_log_fixed({2, 3, 4}, {1, 2}, 4), Catch::StartsWith("y = 2"));
}

TEST_CASE("distance models: A (ln t - c)^k and a + C t^beta recovered exactly, with covering bootstrap intervals", "[fit][distance]") {
  const auto t = times(10, 1e6, 40);
  std::vector<double> exact(t.size()), power(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    exact[i] = 0.7 * std::pow(std::log(t[i]) + 2.0, 2.0);
    power[i] = 5 + 0.3 * std::sqrt(t[i]);
  }
  const auto fe = fit_log_c(t, exact);
  CHECK(fe.param("A") == Approx(0.7).epsilon(1e-3));
  CHECK(fe.param("c") == Approx(-2.0).epsilon(1e-3));
  CHECK(fe.param("k") == Approx(2.0).epsilon(1e-3));
  CHECK(fe.predict(1e3) == Approx(exact[0] * 0 + 0.7 * std::pow(std::log(1e3) + 2, 2)).epsilon(1e-4));
  const auto ff = fit_log_c_fixed(t, exact, 2.0);
  CHECK(ff.param("c") == Approx(-2.0).epsilon(1e-4));
  CHECK(ff.rss < 1e-10);
  const auto fp = fit_power_offset(t, power);
  CHECK(fp.param("a") == Approx(5).epsilon(1e-4));
  CHECK(fp.param("C") == Approx(0.3).epsilon(1e-4));
  CHECK(fp.param("beta") == Approx(0.5).epsilon(1e-5));
  CHECK(compare_distance_models(t, power).front().model == "power-offset");
  // The 95% bootstrap interval of k must cover the truth in most of 20 independent data sets
  // (P(fewer than 15 of 20) = 3e-4 for a correct 95% interval).
  int covered = 0;
  const ModelComparer comparer = [](const std::vector<double>& tt, const std::vector<double>& yy) { return compare_distance_models(tt, yy, 2.0); };
  for (std::uint32_t rep = 0; rep < 20; ++rep) {
    Eigen::MatrixXd rows(30, static_cast<Eigen::Index>(t.size()));
    for (Eigen::Index r = 0; r < rows.rows(); ++r) {
      const Stream noise(9, StreamPurpose::kStart, static_cast<std::uint32_t>(r), rep);
      for (Eigen::Index i = 0; i < rows.cols(); ++i)
        rows(r, i) = exact[static_cast<std::size_t>(i)] * (1 + 0.05 * to_normal2(noise(static_cast<std::uint64_t>(i)))[0]);
    }
    const auto b = bootstrap_fits(t, rows, 100, 0.95, rep, comparer);
    for (std::size_t m = 0; m < b.fits.size(); ++m)
      if (b.fits[m].model == "log-c") covered += (b.intervals[m][2].lo < 2.0 && b.intervals[m][2].hi > 2.0) ? 1 : 0;
  }
  CHECK(covered >= 15);
}

TEST_CASE("fit_window: times >= tmin with t > 1 and y > 0, the sample rows at them, and the fits bootstrap when they can", "[fit]") {
  const std::vector<std::uint64_t> times{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
  Eigen::MatrixXd samples(3, 10);
  std::vector<double> y(10);
  for (Eigen::Index c = 0; c < 10; ++c) {
    const double lt = std::log(static_cast<double>(times[static_cast<std::size_t>(c)]));
    for (Eigen::Index r = 0; r < 3; ++r) samples(r, c) = std::pow(1.0 + 0.1 * static_cast<double>(r), 4) * std::pow(lt + 1.0, 4);
    y[static_cast<std::size_t>(c)] = samples.col(c).mean();
  }
  y[6] = 0;  // a zero is left out (its logarithm is not taken)
  const FitWindow w = fit_window(times, y, samples, 5);
  REQUIRE(w.t == std::vector<double>{5, 10, 20, 50, 200, 500, 1000});
  REQUIRE(w.columns == std::vector<Eigen::Index>{2, 3, 4, 5, 7, 8, 9});
  REQUIRE(w.samples.rows() == 3);
  REQUIRE(w.samples.cols() == 7);
  CHECK(w.samples.col(4) == samples.col(7));
  CHECK(w.y[4] == y[7]);
  // With rows and resamples: the bootstrap, bitwise bootstrap_fits() on the window.
  const BootstrapFits b = fit_window_models(w, 50, 0.9, 7, 4.0);
  const BootstrapFits direct = bootstrap_fits(w.t, w.samples, 50, 0.9, 7, 4.0);
  CHECK(b.resamples == 50);
  REQUIRE(b.fits.size() == direct.fits.size());
  for (std::size_t m = 0; m < b.fits.size(); ++m) {
    CHECK(b.fits[m].model == direct.fits[m].model);
    CHECK(b.fits[m].params == direct.fits[m].params);
    CHECK(b.intervals[m][0].lo == direct.intervals[m][0].lo);
  }
  // Without (no rows, or resamples 0): compare_models() on the curve, no intervals.
  const FitWindow bare = fit_window(times, y, Eigen::MatrixXd(), 5);
  CHECK(bare.samples.size() == 0);
  const BootstrapFits plain = fit_window_models(bare, 50, 0.95, 7, 4.0);
  CHECK(plain.resamples == 0);
  CHECK(plain.intervals.empty());
  const std::vector<FitResult> cm = compare_models(bare.t, bare.y, 4.0);
  CHECK(plain.fits.front().params == cm.front().params);
  CHECK(plain.fits[model_index(plain.fits, "log-fixed")].model == "log-fixed");
  CHECK_THROWS_WITH(model_index(plain.fits, "nope"), Catch::Contains("model = nope"));
  CHECK_THROWS_AS(fit_window(times, std::vector<double>(3, 1.0), samples, 1), InvalidArgument);
  CHECK_THROWS_AS(fit_window(times, y, Eigen::MatrixXd::Ones(2, 4), 1), InvalidArgument);
}
