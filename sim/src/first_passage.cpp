// Mean first-passage times: the exact birth-death formula and Monte Carlo on the same table.
#include "gengap/sim/first_passage.hpp"

#include <cmath>
#include <vector>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

double mfpt_exact(const HopTable& table, std::int64_t n) {
  require(n >= 1, "n", n, "must be >= 1");
  require(table.lo() <= 0 && table.lo() + table.size() > n, "n", n, "sites 0..n must lie in the table");
  // log pi_j with pi_0 = 1; S_j = log sum_{i<=j} pi_i.
  double log_pi = 0, log_s = 0, total = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    if (j > 0) {
      log_pi += std::log(table.p_right(j - 1)) - std::log(table.p_left(j));
      log_s = std::max(log_s, log_pi) + std::log1p(std::exp(-std::abs(log_s - log_pi)));
    }
    total += std::exp(log_s - log_pi - std::log(table.p_right(j)));
  }
  return total;
}

MfptEstimate mfpt_monte_carlo(const HopTable& table, std::int64_t n, std::uint32_t walkers, std::uint64_t seed) {
  require(n >= 1, "n", n, "must be >= 1");
  require(walkers >= 2, "walkers", walkers, "must be >= 2");
  require(table.lo() <= 0 && table.lo() + table.size() > n, "n", n, "sites 0..n must lie in the table");
  HopTable walled = table;
  walled.reflect_left(0);
  const HopThresholds* origin = walled.origin();
  double sum = 0, sum2 = 0;
  for (std::uint32_t w = 0; w < walkers; ++w) {
    const Stream st(seed, StreamPurpose::kWalk, w, 0);
    std::int64_t x = 0;
    std::uint64_t t = 0;
    while (x < n) {
      const Block4x32 u = st(t >> 2);
      x = hop(origin, x, u[t & 3]);
      ++t;
    }
    sum += static_cast<double>(t);
    sum2 += static_cast<double>(t) * static_cast<double>(t);
  }
  const double mean = sum / walkers;
  const double var = (sum2 - walkers * mean * mean) / (walkers - 1);
  return {mean, std::sqrt(var / walkers)};
}

}  // namespace gengap::sim
