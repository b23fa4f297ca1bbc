/// @file first_passage.hpp
/// @brief Mean first-passage time from 0 to N with a reflecting wall at 0: exact formula and
/// Monte Carlo on the same hop probabilities.
#pragma once

#include <cstdint>

#include "gengap/sim/hop_table.hpp"

namespace gengap::sim {

/// Exact mean first-passage time (steps) from 0 to n > 0 of the discrete-time birth-death chain
/// given by the table, with a reflecting wall at 0 (no moves to -1):
/// T(0 -> n) = sum_{j=0}^{n-1} 1/(pi_j p_j) sum_{i=0}^{j} pi_i, with p_j = P(j -> j+1),
/// q_j = P(j -> j-1) and pi_{j+1}/pi_j = p_j / q_{j+1}. Computed in log space.
/// @throws InvalidArgument when sites 0..n are not all in the table or n < 1
double mfpt_exact(const HopTable& table, std::int64_t n);

/// Monte Carlo estimate of the same mean first-passage time.
struct MfptEstimate {
  double mean;            ///< sample mean of the passage times
  double standard_error;  ///< sample standard deviation / sqrt(walkers)
};

/// Runs `walkers` independent walkers from 0 until they first reach n (reflecting wall at 0),
/// each with its own Philox stream of `seed`. Uses the same step kernel as the ensemble runner.
MfptEstimate mfpt_monte_carlo(const HopTable& table, std::int64_t n, std::uint32_t walkers, std::uint64_t seed);

}  // namespace gengap::sim
