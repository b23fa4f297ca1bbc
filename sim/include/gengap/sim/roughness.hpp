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

/// Estimator (a), the authors' definition: the uncentred root mean square of the loss change,
/// sqrt(E (L(w_t) - L(w_0))^2) over runs, against the mean distance d(t) over runs; gamma is the
/// least-squares slope of ln RMS on ln d (alpha = 2 gamma).
struct RmsExponent {
  double gamma = 0;      ///< the slope
  Interval gamma_ci;     ///< percentile bootstrap over runs (whole curves resampled: times stay correlated)
  double log_span = 0;   ///< ln(max d / min d) over the times used: the lever arm (small: gamma is not measured)
  int times = 0;         ///< times used (d > 0 and RMS > 0)
  int runs = 0;          ///< runs given
};

/// Estimator (a) from `distance` and `loss_change` (rows: runs, columns: the same times).
/// gamma is NaN (and the interval too) when fewer than 3 times have d > 0 and RMS > 0, or d is constant.
/// Deterministic in `seed`.
/// @throws InvalidArgument for shapes that differ, fewer than 2 runs, non-finite or negative distances,
/// resamples < 10 or level outside (0, 1)
RmsExponent rms_exponent(const Eigen::MatrixXd& distance, const Eigen::MatrixXd& loss_change, int resamples, double level,
                         std::uint64_t seed);

/// Estimator (c): barriers along straight paths. The loss on the segment from a to b at `points`
/// evenly spaced positions (both ends included), lambda = i / (points - 1).
/// @throws InvalidArgument for points < 3 or a, b of the wrong dimension
std::vector<double> segment_profile(const Field& field, const Eigen::VectorXd& a, const Eigen::VectorXd& b, int points);

/// The barrier of a profile: its highest value above the higher of its two ends (>= 0; 0 when the
/// loss never rises above both ends, as on any convex loss).
/// @throws InvalidArgument for fewer than 2 values or a non-finite one
double barrier_height(const std::vector<double>& profile);

/// How barriers grow with the distance between the ends: barrier ~ distance^(alpha / 2) on a rough
/// landscape with structure-function exponent alpha.
struct BarrierScaling {
  double slope = 0;           ///< least-squares slope of ln barrier on ln distance, over pairs with barrier > 0
  Interval slope_ci;          ///< percentile bootstrap over pairs
  double zero_fraction = 0;   ///< share of pairs with no barrier (left out of the slope)
  int pairs = 0;              ///< pairs given
  int resamples = 0;          ///< bootstrap resamples
  double level = 0.95;        ///< confidence level
};

/// Estimator (c) from pairs (distance ||w_t - w_s||, barrier). The slope is NaN when fewer than 3
/// pairs have a barrier or their distances are all equal. Deterministic in `seed`.
/// @throws InvalidArgument for unequal lengths, fewer than 3 pairs, a distance not > 0 or a barrier < 0
BarrierScaling barrier_scaling(const std::vector<double>& distances, const std::vector<double>& barriers, int resamples, double level,
                               std::uint64_t seed);

}  // namespace gengap::sim
