/// @file overlap.hpp
/// @brief How well several growth curves overlap: the paper's claim that d(t) curves of different
/// batch sizes coincide when plotted against iterations (not epochs) is checked with this measure.
#pragma once

#include <vector>

namespace gengap::sim {

/// One curve: increasing x (e.g. iterations) and its values y (e.g. ||w_t - w_0||).
struct Curve {
  std::vector<double> x;  ///< strictly increasing, > 0
  std::vector<double> y;  ///< values, > 0
};

/// The spread of a set of curves on their common range.
struct Overlap {
  double spread = 0;  ///< mean over grid points of std / mean across curves (0 = identical curves)
  double x_lo = 0;    ///< start of the common range
  double x_hi = 0;    ///< end of the common range
  int points = 0;     ///< log-spaced grid points used
};

/// Interpolates every curve linearly in ln x on `points` log-spaced points of the common range
/// [max of the first x, min of the last x] and averages the coefficient of variation (population
/// standard deviation over the mean) across curves. Two curves that differ by a factor r everywhere
/// give |r - 1| / (r + 1).
/// @throws InvalidArgument for fewer than two curves, malformed curves, or no common range
Overlap curve_overlap(const std::vector<Curve>& curves, int points = 50);

}  // namespace gengap::sim
