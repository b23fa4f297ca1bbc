// Potentials: Sinai increments, exact fBm structure functions, Gaussian increments, window growth.
#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/fbm.hpp"
#include "gengap/sim/flat.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/theory.hpp"

using namespace gengap::sim;

namespace {
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Least-squares slope of ln S(r) against ln r.
double loglog_slope(const std::vector<double>& r, const std::vector<double>& s) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    mx += std::log(r[i]);
    my += std::log(s[i]);
  }
  mx /= static_cast<double>(r.size());
  my /= static_cast<double>(r.size());
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    sxx += std::pow(std::log(r[i]) - mx, 2);
    sxy += (std::log(r[i]) - mx) * (std::log(s[i]) - my);
  }
  return sxy / sxx;
}
}  // namespace

TEST_CASE("Sinai windows of different sizes agree where they overlap (extendable)", "[potential]") {
  for (auto kind : {SinaiPotential::Increments::kGaussian, SinaiPotential::Increments::kBinary}) {
    const SinaiPotential p(kind, 1.5);
    const Landscape small = p.sample(42, 3, 100), big = p.sample(42, 3, 1000);
    CHECK(small(0) == 0.0);
    for (std::int64_t x = -100; x <= 100; ++x) REQUIRE(small(x) == big(x));
    const Landscape other = p.sample(42, 4, 100);
    CHECK(other(50) != small(50));
  }
}

TEST_CASE("Sinai increments have mean 0 and variance s^2, and binary ones are +-s", "[potential]") {
  const double s = 2.0;
  const SinaiPotential g(SinaiPotential::Increments::kGaussian, s), b(SinaiPotential::Increments::kBinary, s);
  const int n = 200000;
  double m = 0, v = 0;
  for (int x = -n / 2; x < n / 2; ++x) {
    const double d = g.increment(9, 0, x);
    m += d;
    v += d * d;
    const double e = b.increment(9, 0, x);
    REQUIRE(std::abs(std::abs(e) - s) < 1e-15);
  }
  m /= n;
  v /= n;
  CHECK(std::abs(m) < 5 * s / std::sqrt(n));
  CHECK(std::abs(v / (s * s) - 1) < 5 * std::sqrt(2.0 / n));
}

TEST_CASE("fBm structure function recovers alpha within 0.05 and its amplitude", "[potential][fbm]") {
  for (double alpha : {0.5, 1.0, 1.5}) {
    const double s = 0.7;
    const FbmPotential p(alpha, s);
    const std::int64_t hw = 2048;
    std::vector<double> lags{1, 2, 4, 8, 16, 32, 64, 128, 256}, sf(lags.size(), 0.0);
    const int envs = 40;
    for (int e = 0; e < envs; ++e) {
      const Landscape l = p.sample(5, static_cast<std::uint64_t>(e), hw);
      for (std::size_t k = 0; k < lags.size(); ++k) {
        const auto r = static_cast<std::int64_t>(lags[k]);
        double acc = 0;
        for (std::int64_t x = -hw; x + r <= hw; ++x) acc += std::pow(l(x + r) - l(x), 2);
        sf[k] += acc / static_cast<double>(2 * hw + 1 - r) / envs;
      }
    }
    INFO("alpha = " << alpha);
    CHECK(std::abs(loglog_slope(lags, sf) - alpha) < 0.05);
    CHECK(std::abs(sf[0] / (s * s) - 1) < 0.05);
    CHECK(p.sample(5, 0, hw)(0) == 0.0);
  }
}

TEST_CASE("fBm increments are Gaussian (Kolmogorov-Smirnov, n = 3000 independent draws)", "[potential][fbm]") {
  for (double alpha : {0.5, 1.5}) {
    const FbmPotential p(alpha, 1.0);
    std::vector<double> inc;
    for (int e = 0; e < 1000; ++e) {
      const Landscape l = p.sample(11, static_cast<std::uint64_t>(e), 32);
      // Three increments per environment, far apart: nearly independent.
      for (std::int64_t x : {-30, 0, 29}) inc.push_back(l(x + 1) - l(x));
    }
    INFO("alpha = " << alpha);
    // 1% critical value 1.63/sqrt(n); the three draws per environment are weakly correlated.
    CHECK(ks_distance(inc, normal_cdf) < 1.63 / std::sqrt(static_cast<double>(inc.size())));
  }
}

TEST_CASE("potentials reject bad parameters with the field named", "[potential][errors]") {
  CHECK_THROWS_WITH(FbmPotential(2.0), Catch::Contains("alpha = 2"));
  CHECK_THROWS_WITH(FbmPotential(0.0), Catch::Contains("alpha = 0"));
  CHECK_THROWS_WITH(FbmPotential(1.0, -1.0), Catch::Contains("sigma = -1"));
  CHECK_THROWS_AS(SinaiPotential(SinaiPotential::Increments::kGaussian, 0.0), InvalidArgument);
  CHECK_THROWS_WITH(sample_fgn(1.0, 10, 1, 0), Catch::Contains("hurst = 1"));
  CHECK(FlatPotential().sample(1, 1, 10)(7) == 0.0);
}
