// Continuous landscapes and noisy gradient descent: structure functions, exact gradients, the
// Ornstein-Uhlenbeck stationary variance, determinism, errors.
#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/field.hpp"
#include "gengap/sim/sgd.hpp"

using namespace gengap::sim;

TEST_CASE("the Fourier field's gradient matches central finite differences", "[field]") {
  FourierFieldOptions o;
  o.dim = 37;
  o.modes = 200;
  o.alpha = 1.3;
  o.seed = 5;
  const FourierField f(o);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z;
  Eigen::MatrixXd w(o.dim, 3);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = 3 * z(rng);
  Eigen::VectorXd v;
  Eigen::MatrixXd g;
  f.evaluate(w, &v, &g);
  const double h = 1e-5;
  for (Eigen::Index col = 0; col < w.cols(); ++col)
    for (int c = 0; c < o.dim; c += 5) {
      Eigen::MatrixXd wp = w.col(col), wm = w.col(col);
      wp(c, 0) += h;
      wm(c, 0) -= h;
      Eigen::VectorXd vp, vm;
      f.evaluate(wp, &vp, nullptr);
      f.evaluate(wm, &vm, nullptr);
      CHECK(g(c, col) == Approx((vp[0] - vm[0]) / (2 * h)).epsilon(1e-6).margin(1e-8));
    }
  // V(0) = 0 by construction, and the same seed gives the same field.
  Eigen::VectorXd v0;
  f.evaluate(Eigen::MatrixXd::Zero(o.dim, 1), &v0, nullptr);
  CHECK(v0[0] == Approx(0).margin(1e-12));
  Eigen::VectorXd v2;
  FourierField(o).evaluate(w, &v2, nullptr);
  CHECK(v2 == v);
}

TEST_CASE("the Fourier field's structure function is s^2 (r/sqrt(D))^alpha in its scaling range, then saturates", "[field]") {
  for (double alpha : {0.5, 1.0, 1.5}) {
    FourierFieldOptions o;
    o.dim = 64;
    o.modes = 512;
    o.alpha = alpha;
    o.k_min = 0.01;
    o.k_max = 100;
    o.strength = 2;
    const double sd = std::sqrt(64.0);
    // Empirical: 40 fields x 100 (position, direction) pairs at each r, against the modes' own law.
    const std::vector<double> rs = {0.1 * sd, 0.3 * sd, 1 * sd, 3 * sd};
    std::vector<double> emp(rs.size(), 0.0), th(rs.size(), 0.0);
    std::mt19937_64 rng(static_cast<unsigned>(alpha * 10));
    std::normal_distribution<double> z;
    const int fields = 40, pairs = 100;
    for (int i = 0; i < fields; ++i) {
      o.index = static_cast<std::uint32_t>(i);
      const FourierField f(o);
      for (std::size_t q = 0; q < rs.size(); ++q) {
        Eigen::MatrixXd a(o.dim, pairs), b(o.dim, pairs);
        for (int p = 0; p < pairs; ++p) {
          Eigen::VectorXd u(o.dim), x0(o.dim);
          for (int c = 0; c < o.dim; ++c) {
            u[c] = z(rng);
            x0[c] = 20 * z(rng);
          }
          a.col(p) = x0;
          b.col(p) = x0 + rs[q] * u.normalized();
        }
        Eigen::VectorXd va, vb;
        f.evaluate(a, &va, nullptr);
        f.evaluate(b, &vb, nullptr);
        emp[q] += (vb - va).squaredNorm() / (fields * pairs);
        th[q] += f.structure_function(rs[q]) / fields;
      }
    }
    for (std::size_t q = 0; q < rs.size(); ++q) {
      // relative standard error of a mean of ~4000 squared Gaussians: sqrt(2/4000) = 2.2%
      CHECK(emp[q] == Approx(th[q]).epsilon(0.12));
    }
    // s^2 x^alpha (s = 2) at x = r/sqrt(D) = 1, mid-way between the cut-offs 1/k_max and 1/k_min,
    // where the truncated integrals miss at most ~10% (the rest of the range is covered by the slope).
    CHECK(th[2] == Approx(4.0).epsilon(0.15));
    const double slope = std::log(emp[3] / emp[0]) / std::log(rs[3] / rs[0]);
    CHECK(slope == Approx(alpha).margin(0.12));
    // Far beyond sqrt(D)/k_min the field is quasi-periodic: the structure function saturates.
    o.index = 0;
    const FourierField f(o);
    CHECK(f.structure_function(1e4 * sd / o.k_min) == Approx(f.saturation()).epsilon(1e-9));
  }
}

TEST_CASE("Langevin and SGD in a quadratic well reach the exact discrete Ornstein-Uhlenbeck variance", "[sgd]") {
  const double kappa = 1, lr = 0.1;
  SgdConfig c;
  c.landscapes = 4;
  c.walkers = 8;
  c.lr = lr;
  c.times.clear();
  for (std::uint64_t t = 200; t <= 3000; t += 20) c.times.push_back(t);  // correlation time 1/(lr kappa) = 10
  auto well = [&](std::uint32_t) { return std::make_unique<QuadraticField>(50, kappa); };
  auto stationary = [&](const SgdResult& r) {
    double s = 0;
    for (double v : r.coordinate_variance) s += v;
    return s / static_cast<double>(r.coordinate_variance.size());
  };
  SECTION("Langevin at T = 0.5: T / (kappa (1 - lr kappa / 2))") {
    c.noise = 0;
    c.temperature = 0.5;
    CHECK(stationary(run_sgd(well, c)) == Approx(0.5 / (kappa * (1 - lr * kappa / 2))).epsilon(0.02));
  }
  SECTION("SGD noise 2 at B = 4: lr noise^2 / (B kappa (2 - lr kappa))") {
    c.noise = 2;
    c.batch = 4;
    CHECK(stationary(run_sgd(well, c)) == Approx(lr * 4 / (4 * kappa * (2 - lr * kappa))).epsilon(0.02));
  }
}

TEST_CASE("noisy descent on Fourier landscapes is bitwise the same on 1 and 2 threads", "[sgd]") {
  FourierFieldOptions o;
  o.dim = 20;
  o.modes = 64;
  auto make = [&](std::uint32_t i) {
    FourierFieldOptions p = o;
    p.index = i;
    return std::make_unique<FourierField>(p);
  };
  SgdConfig c;
  c.landscapes = 5;
  c.walkers = 3;
  c.momentum = 0.5;
  c.times = {1, 10, 100, 500};
  c.threads = 1;
  const SgdResult a = run_sgd(make, c);
  c.threads = 2;
  const SgdResult b = run_sgd(make, c);
  CHECK(a.mean_distance == b.mean_distance);
  CHECK(a.mean_value == b.mean_value);
  CHECK(a.env_distance == b.env_distance);
  CHECK(a.mean_distance.back() > a.mean_distance.front());
}

TEST_CASE("bad field and dynamics settings give errors naming the field", "[field][sgd][errors]") {
  FourierFieldOptions o;
  o.alpha = 2;
  CHECK_THROWS_WITH(FourierField(o), Catch::StartsWith("alpha = 2"));
  o = {};
  o.k_max = o.k_min;
  CHECK_THROWS_WITH(FourierField(o), Catch::StartsWith("k_max"));
  o = {};
  o.modes = 0;
  CHECK_THROWS_WITH(FourierField(o), Catch::StartsWith("modes = 0"));
  CHECK_THROWS_WITH(QuadraticField(3, -1), Catch::StartsWith("kappa = -1"));
  auto well = [](std::uint32_t) { return std::make_unique<QuadraticField>(3, 1.0); };
  SgdConfig c;
  c.times = {1, 2};
  c.lr = 0;
  CHECK_THROWS_WITH(run_sgd(well, c), Catch::StartsWith("lr = 0"));
  c.lr = 0.1;
  c.batch = 0;
  CHECK_THROWS_WITH(run_sgd(well, c), Catch::StartsWith("batch = 0"));
  c.batch = 1;
  c.momentum = 1;
  CHECK_THROWS_WITH(run_sgd(well, c), Catch::StartsWith("momentum = 1"));
  c.momentum = 0;
  c.times = {5, 3};
  CHECK_THROWS_WITH(run_sgd(well, c), Catch::StartsWith("times = 3"));
}
