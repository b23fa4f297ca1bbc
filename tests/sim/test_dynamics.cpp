// Dynamics: detailed balance, hop tables, free diffusion on a flat potential.
#include <cmath>

#include <catch2/catch.hpp>

#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/exact.hpp"
#include "gengap/sim/flat.hpp"
#include "gengap/sim/heat_bath.hpp"
#include "gengap/sim/hop_table.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/times.hpp"

using namespace gengap::sim;

TEST_CASE("Metropolis and heat-bath satisfy detailed balance", "[dynamics]") {
  const Metropolis m;
  const HeatBath h;
  for (double u : {-7.0, -1.3, -0.2, 0.0, 0.4, 2.5, 11.0}) {
    CHECK(m.accept(u) / m.accept(-u) == Approx(std::exp(-u)).epsilon(1e-12));
    CHECK(h.accept(u) / h.accept(-u) == Approx(std::exp(-u)).epsilon(1e-12));
    CHECK(m.accept(u) <= 1.0);
    CHECK(h.accept(u) + h.accept(-u) == Approx(1.0));
  }
  CHECK(m.accept(0) == 1.0);
  CHECK(h.accept(0) == 0.5);
}

TEST_CASE("hop_probability: the neighbour's share times the acceptance, on the line and on Z^d", "[dynamics]") {
  const Metropolis m;
  const HeatBath h;
  CHECK(hop_probability(m, -2.0) == 0.5);
  CHECK(hop_probability(m, 0.7) == 0.5 * std::exp(-0.7));
  CHECK(hop_probability(h, 0.0) == 0.25);
  CHECK(hop_probability(h, 1.1, 6) == Approx(1.0 / (6.0 * (1.0 + std::exp(1.1)))).epsilon(1e-15));
  // The exact solver's chain and the hop table follow it.
  const SinaiPotential p(SinaiPotential::Increments::kGaussian, 1.0);
  const Landscape l = p.sample(9, 0, 20);
  const BirthDeathChain c = chain_from_landscape(l, h, 0.6);
  for (std::int64_t x = -19; x < 19; ++x) {
    const auto i = static_cast<std::size_t>(x - l.lo);
    CHECK(c.right[i] == hop_probability(h, (l(x + 1) - l(x)) / 0.6));
    CHECK(c.left[i] == hop_probability(h, (l(x - 1) - l(x)) / 0.6));
  }
}

TEST_CASE("hop tables represent the detailed-balance probabilities to 2^-32", "[dynamics]") {
  const SinaiPotential p(SinaiPotential::Increments::kGaussian, 1.0);
  const Landscape l = p.sample(3, 0, 50);
  const double T = 0.8;
  for (const Dynamics* d : {static_cast<const Dynamics*>(new Metropolis), static_cast<const Dynamics*>(new HeatBath)}) {
    const HopTable t(l, *d, T);
    for (std::int64_t x = -49; x < 49; ++x) {
      REQUIRE(std::abs(t.p_right(x) - 0.5 * d->accept((l(x + 1) - l(x)) / T)) <= 0x1p-32);
      REQUIRE(std::abs(t.p_left(x) - 0.5 * d->accept((l(x - 1) - l(x)) / T)) <= 0x1p-32);
      // pi(x) P(x -> x+1) = pi(x+1) P(x+1 -> x), with pi ~ exp(-V/T).
      const double lhs = std::exp(-l(x) / T) * t.p_right(x), rhs = std::exp(-l(x + 1) / T) * t.p_left(x + 1);
      REQUIRE(lhs == Approx(rhs).epsilon(1e-6));
    }
    delete d;
  }
  CHECK(probability_to_threshold(0.0) == 0u);
  CHECK(probability_to_threshold(0.5) == 0x80000000u);
  CHECK(probability_to_threshold(1.0) == 0xFFFFFFFFu);
}

TEST_CASE("flat potential: <x^2> = t (Metropolis) and t/2 (heat-bath), <x> = 0", "[dynamics][ensemble]") {
  EnsembleConfig cfg;
  cfg.environments = 50;
  cfg.walkers_per_env = 200;
  cfg.times = log_times(10000, 3);
  cfg.seed = 17;
  const double n = 50.0 * 200.0;
  for (auto [dyn, factor] : {std::pair<const Dynamics*, double>{new Metropolis, 1.0}, {new HeatBath, 0.5}}) {
    const auto r = run_ensemble(FlatPotential{}, *dyn, cfg);
    for (std::size_t i = 0; i < r.times.size(); ++i) {
      const double want = factor * static_cast<double>(r.times[i]);
      // Var(x^2) = 2 E[x^2]^2 for a Gaussian limit; 5 standard errors (a little more at t = 1, 2).
      const double se = want * std::sqrt(3.0 / n);
      INFO(dyn->name() << " t = " << r.times[i]);
      CHECK(std::abs(r.msd[i] - want) < 5 * se);
      CHECK(std::abs(r.mean_x[i]) < 5 * std::sqrt(want / n));
    }
    delete dyn;
  }
}
