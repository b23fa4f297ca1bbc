/// @file roughness.hpp
/// @brief How rough a landscape is, measured along random directions: the structure function
/// S(r) = E_u (L(w + r u) - L(w))^2 and its local exponent alpha(r) = d ln S / d ln r, with a
/// bootstrap band over directions (estimator (b) of docs/pages/landscape.md).
///
/// What the outcomes mean, fixed before any measurement: alpha(r) = 2 at small r is the smoothness
/// of any differentiable loss (L(w + r u) - L(w) = r g.u + O(r^2)), not roughness; a quadratic well
/// at its minimum gives alpha = 4; the random-potential picture of the paper needs alpha < 2 over the
/// distances the weights actually travel. The sampling on a network lives in gengap::train
/// (train/landscape.hpp); this file holds the statistics and the sampling on a sim::Field.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "gengap/sim/field.hpp"
#include "gengap/sim/fit.hpp"

namespace gengap::sim {

/// The structure function along directions and its local exponent.
struct StructureCurve {
  std::vector<double> r;            ///< radii, increasing
  std::vector<double> s;            ///< S(r): the mean over directions of (L(w + r u) - L(w))^2
  std::vector<double> r_mid;        ///< sqrt(r_i r_{i+1}): where each local exponent is reported
  std::vector<double> alpha;        ///< ln(S(r_{i+1}) / S(r_i)) / ln(r_{i+1} / r_i)
  std::vector<Interval> alpha_ci;   ///< percentile bootstrap over directions (resampled with replacement)
  double slope = 0;                 ///< least-squares slope of ln S on ln r over all radii: one exponent for the range
  Interval slope_ci;                ///< its percentile bootstrap interval over directions
  int directions = 0;               ///< directions sampled
  int resamples = 0;                ///< bootstrap resamples
  double level = 0.95;              ///< confidence level of alpha_ci
};

/// Estimator (b) from squared increments `sq` (rows: directions u, columns: radii r_i).
/// Resamples whose S is not > 0 at both ends of a step are left out of that step's interval.
/// Deterministic in `seed`.
/// @throws InvalidArgument for fewer than 2 radii or 2 directions, radii not increasing and > 0, a
/// negative or non-finite entry, resamples < 10 or level outside (0, 1)
StructureCurve structure_curve(const std::vector<double>& radii, const Eigen::MatrixXd& sq, int resamples, double level,
                               std::uint64_t seed);

/// Squared increments (V(w + r u) - V(w))^2 of a Field at w, along `directions` unit directions u
/// (standard normal, normalized; direction j from the Philox stream (seed, start, j, 0x5F)) at each
/// radius: rows = directions, columns = radii.
/// @throws InvalidArgument for a w of the wrong dimension, no radii or directions < 1
Eigen::MatrixXd field_increments(const Field& field, const Eigen::VectorXd& w, const std::vector<double>& radii, int directions,
                                 std::uint64_t seed);

}  // namespace gengap::sim
