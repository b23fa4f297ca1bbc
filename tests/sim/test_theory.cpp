// Theory: Kesten's law (numerical integration against the closed forms), Gamma-extrema on hand-made
// paths, Golosov's valley bottoms against Kesten's law, exact mean first-passage times vs Monte Carlo.
#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/fbm.hpp"
#include "gengap/sim/first_passage.hpp"
#include "gengap/sim/heat_bath.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/theory.hpp"

using namespace gengap::sim;

namespace {
// Simpson's rule on [a, b] with n (even) intervals.
template <class F>
double simpson(F f, double a, double b, int n) {
  const double h = (b - a) / n;
  double s = f(a) + f(b);
  for (int i = 1; i < n; ++i) s += f(a + i * h) * ((i % 2) ? 4 : 2);
  return s * h / 3;
}
}  // namespace

TEST_CASE("Kesten's density: normalized, moments 5/6 and 61/45, CDF its integral", "[theory][kesten]") {
  // The density has a cusp at 0; integrate [1e-9, 40] on a fine grid, the tail beyond is < 1e-40.
  const double norm = 2 * simpson(kesten_pdf, 1e-9, 40, 40000);
  const double m1 = 2 * simpson([](double b) { return b * kesten_pdf(b); }, 1e-9, 40, 40000);
  const double m2 = 2 * simpson([](double b) { return b * b * kesten_pdf(b); }, 1e-9, 40, 40000);
  CHECK(norm == Approx(1.0).epsilon(1e-6));
  CHECK(m1 == Approx(5.0 / 6).epsilon(1e-6));
  CHECK(m2 == Approx(61.0 / 45).epsilon(1e-6));
  CHECK(kesten_abs_moment(0) == Approx(1.0).epsilon(1e-12));
  CHECK(kesten_abs_moment(1) == Approx(5.0 / 6).epsilon(1e-12));
  CHECK(kesten_abs_moment(2) == Approx(61.0 / 45).epsilon(1e-12));
  // The relative spread of b^2, behind the 2.2/sqrt(N) standard error of <x^2> with one walker per
  // environment: E b^4 by quadrature and by the moment formula, Var(b^2)/(E b^2)^2 = 4.819.
  const double m4 = 2 * simpson([](double b) { return b * b * b * b * kesten_pdf(b); }, 1e-9, 60, 60000);
  CHECK(m4 == Approx(kesten_abs_moment(4)).epsilon(1e-6));
  const double rel_var = kesten_abs_moment(4) / (kesten_abs_moment(2) * kesten_abs_moment(2)) - 1;
  CHECK(rel_var == Approx(4.8188).epsilon(1e-4));
  CHECK(std::sqrt(rel_var) == Approx(2.2).epsilon(0.003));
  CHECK(kesten_pdf(0) == 0.5);
  CHECK(kesten_cdf(0) == Approx(0.5).margin(1e-15));
  CHECK(kesten_cdf(50) == Approx(1.0).margin(1e-15));
  for (double b : {-2.0, -0.3, 0.05, 0.4, 1.0, 3.0}) {
    const double h = 1e-5;
    CHECK((kesten_cdf(b + h) - kesten_cdf(b - h)) / (2 * h) == Approx(kesten_pdf(b)).epsilon(1e-6));
    CHECK(kesten_cdf(b) + kesten_cdf(-b) == Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("predicted exponents", "[theory]") {
  CHECK(predicted_msd_exponent(1.0) == 4.0);
  CHECK(predicted_distance_exponent(0.5) == 4.0);
  CHECK_THROWS_WITH(predicted_msd_exponent(2.0), Catch::StartsWith("alpha = 2"));
}

TEST_CASE("Gamma-extrema of a hand-made zigzag", "[theory][valley]") {
  //                      0  1  2  3  4  5  6  7  8  9 10 11 12
  const std::vector<double> v{0, 1, 5, 4, 6, 1, 2, 0, 3, 2, 8, 7, 1};
  const auto e = gamma_extrema(v, 3.0);
  // minimum 0 at 0 (confirmed at 2), max 6 at 4, min 0 at 7, max 8 at 10, then the drop to 1.
  REQUIRE(e.size() == 4);
  CHECK((e[0].x == 0 && !e[0].is_max));
  CHECK((e[1].x == 4 && e[1].is_max));
  CHECK((e[2].x == 7 && !e[2].is_max));
  CHECK((e[3].x == 10 && e[3].is_max));
  // Small wiggles (< Gamma) are ignored.
  CHECK(gamma_extrema(v, 20.0).empty());
}

TEST_CASE("valley bottom of a hand-made landscape", "[theory][valley]") {
  // Sites -6..6: a deep valley at -2 enclosed by maxima at -5 and 3; the start (0) is on its slope.
  Landscape l{-6, {0, 4, 10, 4, 2, -3, 1, 3, 6, 12, 7, 2, 6}};
  // maxima at -4 (10) and 3 (12); minimum -3 at -1; before -4 a min at -6, after 3 a min at 5.
  // Prepend and append extra zigzags so the maxima are not the window's first extrema.
  Landscape big{-12, {}};
  for (double x : {0.0, 9.0, 0.0, 9.0, 0.0, 4.0}) big.v.push_back(x);
  for (double x : l.v) big.v.push_back(x);
  for (double x : {14.0, 0.0, 14.0, 0.0}) big.v.push_back(x);
  big.lo = -12;
  // big(-12..-7) prefix, big(-6..6) = l, big(7..10) suffix.
  CHECK(big(-1) == -3.0);
  const auto b = valley_bottom(big, 5.0);
  REQUIRE(b.has_value());
  CHECK(*b == -1);
  CHECK_FALSE(valley_bottom(l, 100.0).has_value());
}

TEST_CASE("valley bottoms follow Kesten's law (N = 4000, Gamma = 60, KS at the 1% level)", "[theory][valley]") {
  // sigma^2 b_Gamma / Gamma^2 -> Kesten's law (Golosov). N = 4000 samples, Gamma/sigma = 60:
  // lattice corrections are O(sigma/Gamma) ~ 2%, below the 1% KS critical value 1.63/sqrt(N) = 0.026.
  const double sigma = 1.0, gamma = 60.0;
  const std::uint32_t n = 4000;
  const auto b = sample_valley_bottoms(SinaiPotential(SinaiPotential::Increments::kGaussian, sigma), gamma, n, 99);
  std::vector<double> scaled;
  double m2 = 0;
  for (auto x : b) {
    scaled.push_back(sigma * sigma * static_cast<double>(x) / (gamma * gamma));
    m2 += scaled.back() * scaled.back();
  }
  m2 /= n;
  const double d = ks_distance(scaled, kesten_cdf);
  INFO("KS distance " << d << ", E b^2 = " << m2 << " (61/45 = 1.3556)");
  CHECK(d < 1.63 / std::sqrt(static_cast<double>(n)));
  // E b^2: Var(b^2) = E b^4 - (E b^2)^2 from the closed-form moments; 4 standard errors.
  const double se = std::sqrt((kesten_abs_moment(4) - std::pow(kesten_abs_moment(2), 2)) / n);
  CHECK(std::abs(m2 - kKestenSecondMoment) < 4 * se);
}

TEST_CASE("fBm valley bottoms are not biased toward small valleys: alpha = 1 fBm and Sinai's walk, one law", "[theory][valley]") {
  // fBm with alpha = 1 has i.i.d. Gaussian increments: the same law as sinai-gaussian. Sinai's path
  // extends when the window grows; an fBm path does not (a new window is a new path), so growing it
  // after a failure redraws exactly the samples whose valleys are large. Before the fix this gave
  // E b^2 = 418 +- 8 against 556 +- 21 (Gamma = 20, s = 6): the two samples below differed by far
  // more than 4 standard errors.
  const double s = 6.0, gamma = 20.0;
  const std::uint32_t n = 3000;
  const auto f = sample_valley_bottoms(FbmPotential(1.0, s), gamma, n, 11);
  const auto g = sample_valley_bottoms(SinaiPotential(SinaiPotential::Increments::kGaussian, s), gamma, n, 12);
  auto moments = [](const std::vector<std::int64_t>& b) {
    double m = 0, m2 = 0;
    for (auto x : b) {
      const double v = static_cast<double>(x) * static_cast<double>(x);
      m += v;
      m2 += v * v;
    }
    m /= static_cast<double>(b.size());
    return std::pair<double, double>(m, std::sqrt((m2 / static_cast<double>(b.size()) - m * m) / static_cast<double>(b.size())));
  };
  const auto [mf, sf] = moments(f);
  const auto [mg, sg] = moments(g);
  INFO("E b^2: fBm " << mf << " +- " << sf << ", Sinai " << mg << " +- " << sg);
  CHECK(std::abs(mf - mg) < 4 * std::hypot(sf, sg));
  // Two-sample Kolmogorov-Smirnov on b, at the 0.1% level (critical value 1.95 sqrt(2/n)).
  std::vector<double> a(f.begin(), f.end()), c(g.begin(), g.end());
  std::sort(a.begin(), a.end());
  std::sort(c.begin(), c.end());
  double d = 0;
  for (std::size_t i = 0, j = 0; i < a.size() && j < c.size();) {
    const double x = std::min(a[i], c[j]);
    while (i < a.size() && a[i] <= x) ++i;
    while (j < c.size() && c[j] <= x) ++j;
    d = std::max(d, std::abs(static_cast<double>(i) / a.size() - static_cast<double>(j) / c.size()));
  }
  CHECK(d < 1.95 * std::sqrt(2.0 / n));
  // The fixed window: valley_window_factor reaches, growing with alpha.
  CHECK(valley_window_factor(1.0) == 64);
  CHECK(valley_window_factor(0.5) == 16);
  CHECK(valley_window_factor(1.5) == 256);
}

TEST_CASE("valley curves: many depths on the same paths agree with single-depth sampling", "[theory][valley]") {
  const SinaiPotential p(SinaiPotential::Increments::kGaussian, 1.0);
  const std::vector<double> gammas{5, 10, 20};
  const ValleyCurves vc = sample_valley_curves(p, gammas, 200, 4);
  REQUIRE(vc.bottoms.rows() == 200);
  for (std::size_t g = 0; g < gammas.size(); ++g) {
    CHECK(vc.undecided[g] == 0);
    // On an extendable path the single-depth search sees the same path: the same bottoms.
    const auto b = sample_valley_bottoms(p, gammas[g], 200, 4);
    for (Eigen::Index i = 0; i < 200; ++i) CHECK(vc.bottoms(i, static_cast<Eigen::Index>(g)) == static_cast<double>(b[static_cast<std::size_t>(i)]));
  }
  // A window too small to decide leaves NaN, counted, never redrawn.
  const ValleyCurves small = sample_valley_curves(FbmPotential(1.0, 1.0), {30.0}, 50, 4, 64);
  CHECK(small.undecided[0] > 0);
  CHECK(small.half_width == 64);
  CHECK_THROWS_WITH(sample_valley_curves(p, {}, 10, 1), Catch::StartsWith("gammas = []"));
  CHECK_THROWS_WITH(sample_valley_curves(p, {1.0, -2.0}, 10, 1), Catch::StartsWith("gammas = -2"));
}

TEST_CASE("valley exponent: E b^2 = C (Gamma/s - c)^k recovered exactly, and 4 for Sinai's valleys", "[theory][valley]") {
  // Exact curves: b_i(x) = u_i (x - c)^(k/2), so E b^2 = E u^2 (x - c)^k on every resample.
  ValleyCurves vc;
  for (int i = 0; i < 10; ++i) vc.gammas.push_back(2.0 * std::pow(10.0, i / 9.0));  // s = 2: x in [1, 10]
  vc.bottoms.resize(50, 10);
  for (Eigen::Index r = 0; r < 50; ++r)
    for (Eigen::Index g = 0; g < 10; ++g)
      vc.bottoms(r, g) = (1 + 0.1 * static_cast<double>(r)) * std::pow(vc.gammas[static_cast<std::size_t>(g)] / 2 + 1.3, 1.7);
  vc.undecided.assign(10, 0);
  const ValleyExponent e = valley_exponent(vc, 2.0, 50, 0.95, 3);
  CHECK(e.exponent == Approx(3.4).epsilon(1e-4));
  CHECK(e.offset == Approx(-1.3).epsilon(1e-3));
  CHECK(e.ci.lo == Approx(3.4).epsilon(1e-3));
  CHECK(e.paths == 50);
  // Sinai's valleys (alpha = 1): the exponent of E b^2 against Gamma/sigma is 4 (Kesten: E b^2 = 61/45 (Gamma/sigma)^4).
  const SinaiPotential p(SinaiPotential::Increments::kGaussian, 1.0);
  std::vector<double> gammas;
  for (int i = 0; i < 10; ++i) gammas.push_back(1.5 * std::pow(20 / 1.5, i / 9.0));
  const ValleyExponent s = valley_exponent(sample_valley_curves(p, gammas, 2000, 8), 1.0, 100, 0.95, 9);
  INFO("k = " << s.exponent << " [" << s.ci.lo << ", " << s.ci.hi << "], c = " << s.offset);
  CHECK(std::abs(s.exponent - 4) < 0.3);
  CHECK(s.ci.lo < s.exponent);
  CHECK(s.ci.hi > s.exponent);
  // Too few depths.
  ValleyCurves two = vc;
  two.gammas.resize(2);
  two.bottoms.conservativeResize(50, 2);
  CHECK_THROWS_WITH(valley_exponent(two, 2.0), Catch::StartsWith("gammas = 2"));
}

TEST_CASE("valley bottoms are deterministic, and binary potentials work too", "[theory][valley]") {
  const SinaiPotential p(SinaiPotential::Increments::kBinary, 1.0);
  const auto a = sample_valley_bottoms(p, 10.0, 50, 3, 1);
  const auto b = sample_valley_bottoms(p, 10.0, 50, 3, 2);
  CHECK(a == b);
  CHECK_THROWS_WITH(sample_valley_bottoms(p, -1.0, 5, 1), Catch::StartsWith("gamma = -1"));
  CHECK_THROWS_WITH(sample_valley_bottoms(p, 1.0, 0, 1), Catch::StartsWith("samples = 0"));
}

TEST_CASE("exact mean first-passage time agrees with Monte Carlo within 3 standard errors", "[theory][mfpt]") {
  for (const Dynamics* d : {static_cast<const Dynamics*>(new Metropolis), static_cast<const Dynamics*>(new HeatBath)}) {
    const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 1.0);
    const HopTable table(pot.sample(8, 1, 40), *d, 1.0);
    const std::int64_t n = 12;
    const double exact = mfpt_exact(table, n);
    const auto mc = mfpt_monte_carlo(table, n, 20000, 5);
    INFO(d->name() << ": exact " << exact << ", Monte Carlo " << mc.mean << " +- " << mc.standard_error);
    CHECK(std::abs(mc.mean - exact) < 3 * mc.standard_error);
    delete d;
  }
}

TEST_CASE("mean first-passage time on a flat lattice is the closed form", "[theory][mfpt]") {
  // Metropolis on a flat potential: p = q = 1/2 (p_0 = 1/2, stay 1/2 at the wall):
  // T(0 -> n) = sum_j 2 (j + 1) = n (n + 1).
  const Landscape flat{-5, std::vector<double>(40, 0.0)};
  const HopTable table(flat, Metropolis{}, 1.0);
  CHECK(mfpt_exact(table, 10) == Approx(110.0).epsilon(1e-12));
  CHECK_THROWS_WITH(mfpt_exact(table, 100), Catch::StartsWith("n = 100"));
}
