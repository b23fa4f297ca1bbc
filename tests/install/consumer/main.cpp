// Uses the installed gengap::sim: a small Sinai ensemble, checked against free diffusion.
#include <cmath>
#include <iostream>

#include <gengap/sim.hpp>

int main() {
  namespace sim = gengap::sim;
  sim::EnsembleConfig cfg;
  cfg.environments = 64;
  cfg.walkers_per_env = 4;
  cfg.times = sim::log_times(1000, 3);
  cfg.threads = 1;
  const auto r = sim::run_ensemble(sim::SinaiPotential{}, sim::Metropolis{}, cfg);
  std::cout << "msd(1000) = " << r.msd.back() << ", Kesten E b^2 = " << sim::kesten_abs_moment(2) << '\n';
  // Sinai's walk is sub-diffusive: far below the free value <x^2> = t.
  return (r.msd.back() > 1 && r.msd.back() < 1000 && std::abs(sim::kesten_abs_moment(2) - 61.0 / 45) < 1e-12) ? 0 : 1;
}
