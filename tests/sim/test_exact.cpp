// The exact solver: closed forms with rates far below 1e-16, naive stepping, long double, the
// Boltzmann limit, Monte Carlo on the same chain, the mean first-passage time formula.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/exact.hpp"
#include "gengap/sim/first_passage.hpp"
#include "gengap/sim/hop_table.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/theory.hpp"

using namespace gengap::sim;

namespace {
BirthDeathChain sinai_chain(double s, std::int64_t hw, std::uint64_t env, double temperature = 1.0) {
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, s);
  return chain_from_landscape(pot.sample(7, env, hw), Metropolis{}, temperature);
}
}  // namespace

TEST_CASE("exact: a two-site chain with hop probabilities 1e-30 and 1e-25 keeps every digit up to t = 2^62", "[exact]") {
  BirthDeathChain c;
  c.lo = 0;
  const double a = 1e-30, b = 1e-25;
  c.right = {a, 0.0};
  c.left = {0.0, b};
  ExactOptions opt;
  opt.octaves = 62;
  opt.per_octave = 4;
  const ExactPropagation p = propagate_exact(c, opt);
  REQUIRE(p.times.size() == p.ln_t.size());
  REQUIRE(p.times.back() == std::ldexp(1.0, 62));
  for (std::size_t i = 0; i < p.times.size(); ++i) {
    // P(0 -> 1 in t steps) = a / (a + b) (1 - (1 - a - b)^t), evaluated without cancellation.
    const double t = p.times[i];
    const double exact = a / (a + b) * -std::expm1(t * std::log1p(-(a + b)));
    INFO("t = " << t);
    CHECK(p.distribution(static_cast<Eigen::Index>(i), 1) == Approx(exact).epsilon(1e-13));
  }
  CHECK(p.mass_defect < 1e-15);
}

TEST_CASE("exact: equals naive stepping of the master equation on a small Sinai window", "[exact]") {
  const BirthDeathChain c = sinai_chain(1.0, 6, 2);
  ExactOptions opt;
  opt.start = 1;
  opt.octaves = 10;
  const ExactPropagation p = propagate_exact(c, opt);
  const std::size_t n = c.right.size();
  std::vector<double> q(n, 0.0), nq(n);
  q[static_cast<std::size_t>(opt.start - c.lo)] = 1.0;
  std::size_t next = 0;
  for (std::uint64_t t = 1; next < p.times.size(); ++t) {
    for (std::size_t i = 0; i < n; ++i) {
      nq[i] = q[i] * (1.0 - c.right[i] - c.left[i]) + (i > 0 ? q[i - 1] * c.right[i - 1] : 0.0) +
              (i + 1 < n ? q[i + 1] * c.left[i + 1] : 0.0);
    }
    q.swap(nq);
    if (static_cast<double>(t) == p.times[next]) {
      for (std::size_t i = 0; i < n; ++i) {
        CHECK(p.distribution(static_cast<Eigen::Index>(next), static_cast<Eigen::Index>(i)) ==
              Approx(q[i]).margin(1e-13));
      }
      ++next;
    }
  }
  // 1, 2, 3 (1.5 x 2), 4, 5, 6, 7 (1.75 x 4), 8, ... : per_octave 4 from t = 4 on.
  CHECK(p.times[0] == 1);
  CHECK(p.times[1] == 2);
  CHECK(p.times[2] == 3);
  CHECK(p.times[3] == 4);
  CHECK(p.times[4] == 5);
}

TEST_CASE("exact: double and long double agree at ln t = 40, probability is conserved to 1e-12", "[exact]") {
  const BirthDeathChain c = sinai_chain(3.0, 60, 11);
  ExactOptions opt;
  opt.octaves = 58;
  const ExactPropagation d = propagate_exact(c, opt);
  opt.extended = true;
  const ExactPropagation ld = propagate_exact(c, opt);
  REQUIRE(d.ln_t.back() >= 40.0);
  CHECK((d.distribution - ld.distribution).cwiseAbs().maxCoeff() < 1e-13);
  CHECK(d.mass_defect < 1e-12);
  CHECK(d.squaring_defect < 1e-13);
  for (std::size_t i = 0; i < d.msd.size(); ++i) CHECK(d.msd[i] == Approx(ld.msd[i]).epsilon(1e-11));
}

TEST_CASE("exact: the long-time limit is the Boltzmann distribution of the window", "[exact]") {
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 1.0);
  const Landscape land = pot.sample(3, 5, 15);
  const double temperature = 0.7;
  const BirthDeathChain c = chain_from_landscape(land, Metropolis{}, temperature);
  ExactOptions opt;
  opt.octaves = 62;
  opt.per_octave = 1;
  const ExactPropagation p = propagate_exact(c, opt);
  double vmin = 1e300;
  for (double v : land.v) vmin = std::min(vmin, v);
  double z = 0;
  for (double v : land.v) z += std::exp(-(v - vmin) / temperature);
  for (std::size_t i = 0; i < land.v.size(); ++i) {
    const double pi = std::exp(-(land.v[i] - vmin) / temperature) / z;
    CHECK(p.distribution(p.distribution.rows() - 1, static_cast<Eigen::Index>(i)) == Approx(pi).epsilon(1e-10));
  }
}

TEST_CASE("exact: agrees with Monte Carlo on the same chain for ln t <= 14", "[exact]") {
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 1.5);
  const Metropolis dyn;
  EnsembleConfig cfg;
  cfg.seed = 21;
  cfg.environments = 1;
  cfg.walkers_per_env = 2000;
  for (int k = 0; k <= 20; ++k) cfg.times.push_back(std::uint64_t{1} << k);
  cfg.quantile_levels.clear();
  cfg.threads = 2;
  const EnsembleResult mc = run_ensemble(pot, dyn, cfg);
  const HopTable table(pot.sample(cfg.seed, 0, 600), dyn, 1.0);
  ExactOptions opt;
  opt.octaves = 20;
  opt.per_octave = 1;
  const ExactPropagation ex = propagate_exact(chain_from_table(table), opt);
  REQUIRE(ex.times.size() == cfg.times.size());
  const Eigen::Index n = ex.distribution.cols();
  CHECK(ex.distribution.row(ex.distribution.rows() - 1).head(75).sum() + ex.distribution.row(ex.distribution.rows() - 1).tail(75).sum() < 1e-9);
  int checked = 0;
  for (std::size_t i = 0; i < ex.times.size(); ++i) {
    // The standard error of the walkers' mean x^2, from the exact fourth moment.
    double m4 = 0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const double x = static_cast<double>(ex.lo + j);
      m4 += ex.distribution(static_cast<Eigen::Index>(i), j) * x * x * x * x;
    }
    const double se = std::sqrt((m4 - ex.msd[i] * ex.msd[i]) / cfg.walkers_per_env);
    INFO("t = " << ex.times[i] << ", exact <x^2> = " << ex.msd[i] << ", Monte Carlo " << mc.msd[i] << " +- " << se);
    if (se > 0) {
      CHECK(std::abs(mc.msd[i] - ex.msd[i]) < 4.5 * se);
      ++checked;
    }
  }
  CHECK(checked >= 20);
  CHECK(ex.ln_t.back() > 13.8);
}

TEST_CASE("exact: the mean first-passage time by propagation equals the closed form", "[exact]") {
  for (double s : {1.0, 2.5}) {
    const SinaiPotential pot(SinaiPotential::Increments::kGaussian, s);
    const HopTable table(pot.sample(4, 1, 40), Metropolis{}, 1.0);
    const BirthDeathChain c = chain_from_table(table);
    for (std::int64_t n : {1, 5, 20}) {
      const double closed = mfpt_exact(table, n);
      INFO("s = " << s << ", n = " << n << ", closed form " << closed);
      CHECK(mfpt_by_propagation(c, 0, n) == Approx(closed).epsilon(1e-10));
    }
  }
}

TEST_CASE("exact: the ensemble of exact averages does not depend on the thread count", "[exact]") {
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 3.0);
  ExactEnsembleConfig cfg;
  cfg.environments = 5;
  cfg.octaves = 30;
  cfg.half_width = 40;
  cfg.threads = 1;
  const ExactEnsembleResult one = run_exact_ensemble(pot, Metropolis{}, cfg);
  cfg.threads = 3;
  const ExactEnsembleResult three = run_exact_ensemble(pot, Metropolis{}, cfg);
  CHECK(one.env_msd == three.env_msd);
  CHECK(one.msd == three.msd);
  // Environment e is the runner's environment e: its exact <x^2> equals a direct propagation.
  ExactOptions opt;
  opt.octaves = 30;
  const ExactPropagation p = propagate_exact(chain_from_landscape(pot.sample(cfg.seed, 3, 40), Metropolis{}, 1.0), opt);
  for (std::size_t i = 0; i < p.msd.size(); ++i) CHECK(one.env_msd(3, static_cast<Eigen::Index>(i)) == p.msd[i]);
  CHECK(one.sigma2 == 9.0);
  CHECK(one.squaring_defect < 1e-13);
}

TEST_CASE("exact: bad input gives clear errors", "[exact]") {
  BirthDeathChain c;
  c.right = {0.5, 0.0};
  c.left = {0.0, 0.5};
  ExactOptions opt;
  opt.octaves = 63;
  CHECK_THROWS_WITH(propagate_exact(c, opt), Catch::Contains("octaves = 63"));
  opt.octaves = 4;
  opt.per_octave = 3;
  CHECK_THROWS_WITH(propagate_exact(c, opt), Catch::Contains("per_octave = 3"));
  opt.per_octave = 1;
  opt.start = 2;
  CHECK_THROWS_WITH(propagate_exact(c, opt), Catch::Contains("start = 2: must lie in the chain [0, 1]"));
  opt.start = 0;
  BirthDeathChain leak = c;
  leak.left[0] = 0.1;
  CHECK_THROWS_WITH(propagate_exact(leak, opt), Catch::Contains("the first site reflects"));
  BirthDeathChain bad = c;
  bad.right[0] = 0.7;
  bad.right.push_back(0);
  CHECK_THROWS_WITH(propagate_exact(bad, opt), Catch::Contains("chain.left.size"));
  bad.left.push_back(0.2);
  bad.right[1] = 0.6;
  CHECK_THROWS_WITH(propagate_exact(bad, opt), Catch::Contains("must be <= 1 (site 1)"));
  CHECK_THROWS_WITH(mfpt_by_propagation(c, 1, 1), Catch::Contains("target = 1: must be > start"));
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 0.05);
  ExactEnsembleConfig cfg;
  CHECK_THROWS_WITH(run_exact_ensemble(pot, Metropolis{}, cfg), Catch::Contains("half_width ="));
  cfg.temperature = 0;
  CHECK_THROWS_WITH(run_exact_ensemble(pot, Metropolis{}, cfg), Catch::Contains("temperature = 0"));
}

TEST_CASE("exact: kesten_convergence recovers c and 61/45 from an exact quartic law, with and without valleys", "[exact]") {
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, 2.0);
  ExactEnsembleResult r;
  r.sigma2 = 4.0;
  const double c = 1.5, target = 61.0 / 45.0;
  const int n_env = 6;
  for (int k = 2; k <= 40; ++k) {
    r.ln_t.push_back(k * std::log(2.0));
    r.times.push_back(std::ldexp(1.0, k));
  }
  r.env_msd.resize(n_env, static_cast<Eigen::Index>(r.ln_t.size()));
  for (int e = 0; e < n_env; ++e) {
    for (std::size_t i = 0; i < r.ln_t.size(); ++i) {
      // Environments scattered symmetrically around the law: their mean is the law.
      const double law = target * std::pow(r.ln_t[i] - c, 4) / 16.0;
      r.env_msd(e, static_cast<Eigen::Index>(i)) = law * (1.0 + 0.2 * (e - 2.5));
    }
  }
  const KestenConvergence k = kesten_convergence(r, pot, 1, 1.0, 0, 10.0);
  CHECK(k.c == Approx(c).epsilon(1e-9));
  CHECK(k.amplitude4 == Approx(target).epsilon(1e-9));
  CHECK(k.amplitude4_se > 0);
  for (const auto& p : k.points) {
    if (p.ln_t <= c) {
      CHECK(std::isnan(p.ratio));  // (ln t - c)^4 is not the law before t = e^c
      continue;
    }
    CHECK(p.ratio == Approx(target).epsilon(1e-9));
    CHECK(p.msd_cv == p.msd);
  }
  // With valley bottoms as control variate: mean(Y) - mean of Z over the same environments + mean
  // of Z over 400 other environments (recomputed here from the valley bottoms).
  const KestenConvergence kv = kesten_convergence(r, pot, 1, 1.0, 400, 10.0);
  CHECK(kv.valley_amplitude4 > 0);
  for (std::size_t i : {std::size_t{10}, std::size_t{30}}) {
    const double ln_t = kv.points[i].ln_t;
    const std::vector<std::int64_t> b = sample_valley_bottoms(pot, ln_t, n_env + 400, 1);
    double z_same = 0, z_other = 0;
    for (int e = 0; e < n_env; ++e) z_same += std::pow(static_cast<double>(b[static_cast<std::size_t>(e)]), 2) / n_env;
    for (int e = n_env; e < n_env + 400; ++e) z_other += std::pow(static_cast<double>(b[static_cast<std::size_t>(e)]), 2) / 400;
    INFO("ln t = " << ln_t);
    CHECK(kv.points[i].msd_cv == Approx(kv.points[i].msd - z_same + z_other).epsilon(1e-12));
    CHECK(kv.points[i].valley == Approx(16.0 * z_other / std::pow(ln_t, 4)).epsilon(1e-12));
  }
  CHECK_THROWS_WITH(kesten_convergence(r, pot, 1, 1.0, 0, 100.0), Catch::Contains("fit_from = 100"));
}
