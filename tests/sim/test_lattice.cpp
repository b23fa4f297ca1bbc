// Lattice fields in d = 1, 2, 3: the structure function's exponent, the sampler against the exact
// structure function, walkers against the free random walk, determinism and errors.
#include <array>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/heat_bath.hpp"
#include "gengap/sim/lattice.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/times.hpp"

using namespace gengap::sim;

namespace {
// Least-squares slope of ln D(r) against ln r for r = 1, 2, 4, ..., r_max along axis 0.
double fitted_exponent(const LatticeField& f, std::int64_t r_max) {
  std::vector<double> x, y;
  for (std::int64_t r = 1; r <= r_max; r *= 2) {
    x.push_back(std::log(static_cast<double>(r)));
    y.push_back(std::log(f.structure_function({r, 0, 0})));
  }
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  return sxy / sxx;
}
}  // namespace

TEST_CASE("lattice field: D(e_1) = s^2 and the structure-function exponent is alpha in d = 1, 2, 3", "[lattice]") {
  for (int d = 1; d <= 3; ++d) {
    const std::int64_t box = d == 1 ? 4096 : d == 2 ? 256 : 128;
    for (double alpha : {0.5, 1.0, 1.5}) {
      const LatticeField f({d, box, alpha, 2.0, 3});
      INFO("d = " << d << ", alpha = " << alpha);
      CHECK(f.structure_function({1, 0, 0}) == Approx(4.0).epsilon(1e-12));
      // Isotropic on the axes, and the exponent over the region the walkers may visit.
      if (d > 1) CHECK(f.structure_function({0, 5, 0}) == Approx(f.structure_function({5, 0, 0})).epsilon(1e-12));
      CHECK(std::abs(fitted_exponent(f, box / 8) - alpha) < 0.13);
    }
  }
  // d = 1, alpha = 1 with the lattice Laplacian's symbol is a random walk: D(r) = s^2 r.
  const LatticeField walk({1, 1 << 14, 1.0, 1.0, 6});
  for (std::int64_t r : {1, 2, 10, 100}) CHECK(walk.structure_function({r, 0, 0}) == Approx(static_cast<double>(r)).epsilon(0.01));
  // Without subharmonics the structure function bends down (the box's lowest wave number).
  const LatticeField none({2, 256, 1.0, 1.0, 0}), with({2, 256, 1.0, 1.0, 3});
  CHECK(none.structure_function({64, 0, 0}) < 0.93 * with.structure_function({64, 0, 0}));
}

TEST_CASE("lattice field: sampled fields have the exact structure function (within sampling error)", "[lattice]") {
  const LatticeField f({2, 64, 1.0, 1.5, 3});
  const std::int64_t L = 64;
  const int n_env = 400;
  for (std::int64_t r : {1, 4, 12}) {
    // Mean of (V(x + r e_1) - V(x))^2 over environments and 16 base points x within L / 4 of the
    // origin (where walkers live; the subharmonic modes are not periodic across x = +-L/2).
    double sum = 0, sum2 = 0;
    int n = 0;
    for (int e = 0; e < n_env; ++e) {
      const std::vector<double> v = f.sample(5, static_cast<std::uint64_t>(e));
      CHECK(v[0] == 0.0);
      for (std::int64_t i = 0; i < 16; ++i) {
        const std::int64_t x0 = (i * 3) % 16 - 8, x1 = (i * 5) % 16 - 8;
        auto at = [&](std::int64_t a, std::int64_t b) { return v[static_cast<std::size_t>((a & (L - 1)) + L * (b & (L - 1)))]; };
        const double dv = at(x0 + r, x1) - at(x0, x1);
        sum += dv * dv;
        sum2 += dv * dv * dv * dv;
        ++n;
      }
    }
    const double mean = sum / n, exact = f.structure_function({r, 0, 0});
    // Squares of a Gaussian: variance 2 D^2 per draw; draws within a field are correlated, so the
    // standard error uses the environments as the independent unit (a conservative 16 x).
    const double se = std::sqrt(2.0 * exact * exact * 16.0 / n);
    INFO("r = " << r << ": sampled " << mean << ", exact " << exact);
    CHECK(std::abs(mean - exact) < 4 * se);
  }
  // Deterministic in (seed, env); different environments differ.
  CHECK(f.sample(5, 7) == f.sample(5, 7));
  CHECK(f.sample(5, 7) != f.sample(5, 8));
}

TEST_CASE("lattice walk: on a nearly flat field the walker is the simple random walk, <|x|^2> = t", "[lattice]") {
  for (int d = 1; d <= 3; ++d) {
    const LatticeField f({d, d == 3 ? 128 : 512, 1.0, 1e-12, 3});
    LatticeWalkConfig cfg;
    cfg.environments = 4;
    cfg.walkers_per_env = 500;
    cfg.times = {1, 10, 100};
    if (d < 3) cfg.times.push_back(400);
    const LatticeWalkResult r = run_lattice_walk(f, cfg);
    for (std::size_t i = 0; i < r.times.size(); ++i) {
      const double t = static_cast<double>(r.times[i]);
      // Var |x|^2 of the simple random walk is at most 2 t^2: 2000 walkers.
      INFO("d = " << d << ", t = " << t);
      CHECK(std::abs(r.msd[i] - t) < 4 * std::sqrt(2.0 * t * t / 2000.0));
    }
    CHECK(r.walker_steps == 4u * 500u * cfg.times.back());
  }
}

TEST_CASE("lattice walk takes any dynamics: heat bath on a nearly flat field moves half the time, <|x|^2> = t/2", "[lattice][dynamics]") {
  for (int d = 1; d <= 3; ++d) {
    const LatticeField f({d, d == 3 ? 128 : 512, 1.0, 1e-12, 3});
    LatticeWalkConfig cfg;
    cfg.environments = 4;
    cfg.walkers_per_env = 500;
    cfg.times = {10, 100};
    if (d < 3) cfg.times.push_back(400);  // the d = 3 box (128) holds walkers to |x_i| <= 32
    const LatticeWalkResult r = run_lattice_walk(f, HeatBath(), cfg);
    for (std::size_t i = 0; i < r.times.size(); ++i) {
      const double t = static_cast<double>(r.times[i]);
      // A lazy simple random walk: E|x|^2 = t / 2, Var |x|^2 <= 2 (t/2)^2 + t/2; 2000 walkers.
      INFO("d = " << d << ", t = " << t);
      CHECK(std::abs(r.msd[i] - t / 2) < 4 * std::sqrt((t * t / 2 + t / 2) / 2000.0));
    }
    // Metropolis given explicitly is the default, bitwise.
    CHECK(run_lattice_walk(f, Metropolis(), cfg).env_msd == run_lattice_walk(f, cfg).env_msd);
  }
}

TEST_CASE("lattice walk: barriers slow the walker, and results do not depend on the thread count", "[lattice]") {
  const LatticeField f({2, 256, 1.0, 4.0, 3});
  LatticeWalkConfig cfg;
  cfg.environments = 6;
  cfg.walkers_per_env = 20;
  cfg.times = log_times(20000, 4);
  cfg.threads = 1;
  const LatticeWalkResult one = run_lattice_walk(f, cfg);
  cfg.threads = 3;
  const LatticeWalkResult three = run_lattice_walk(f, cfg);
  CHECK(one.env_msd == three.env_msd);
  CHECK(one.max_reach == three.max_reach);
  CHECK(one.msd.back() < 0.2 * 20000.0);  // far below the free walk's t
  CHECK(one.max_reach <= 64);
  // Several temperatures on each field at once are the separate runs, bitwise.
  const std::vector<LatticeWalkResult> both = run_lattice_walks(f, cfg, {1.0, 1.25});
  REQUIRE(both.size() == 2);
  CHECK(both[0].env_msd == one.env_msd);
  CHECK(both[0].max_reach == one.max_reach);
  cfg.temperature = 1.25;
  const LatticeWalkResult hot = run_lattice_walk(f, cfg);
  CHECK(both[1].env_msd == hot.env_msd);
  CHECK(both[1].max_reach == hot.max_reach);
  CHECK(hot.msd.back() > one.msd.back());  // hotter walkers get farther
}

TEST_CASE("lattice: bad input gives clear errors", "[lattice]") {
  CHECK_THROWS_WITH(LatticeField({4, 64, 1.0, 1.0, 3}), Catch::Contains("dim = 4"));
  CHECK_THROWS_WITH(LatticeField({2, 100, 1.0, 1.0, 3}), Catch::Contains("box = 100: must be a power of two"));
  CHECK_THROWS_WITH(LatticeField({3, 512, 1.0, 1.0, 3}), Catch::Contains("box^dim must be <= 2^24"));
  CHECK_THROWS_WITH(LatticeField({2, 64, 2.0, 1.0, 3}), Catch::Contains("alpha = 2"));
  CHECK_THROWS_WITH(LatticeField({2, 64, 1.0, 0.0, 3}), Catch::Contains("s = 0"));
  const LatticeField f({1, 64, 1.0, 1e-9, 0});
  LatticeWalkConfig cfg;
  cfg.times = {10000};
  cfg.environments = 1;
  cfg.walkers_per_env = 4;
  // A free walker goes farther than 64 / 4 = 16 sites in 10^4 steps.
  CHECK_THROWS_WITH(run_lattice_walk(f, cfg), Catch::Contains("farther than box / 4 = 16"));
  cfg.times = {};
  CHECK_THROWS_WITH(run_lattice_walk(f, cfg), Catch::Contains("times"));
  cfg.times = {10};
  cfg.temperature = -1;
  CHECK_THROWS_WITH(run_lattice_walk(f, cfg), Catch::Contains("temperature = -1"));
  CHECK_THROWS_WITH(run_lattice_walks(f, cfg, {}), Catch::Contains("temperatures = []"));
}
