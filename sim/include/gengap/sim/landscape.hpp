/// @file landscape.hpp
/// @brief One sampled potential on a window of lattice sites [lo, hi].
#pragma once

#include <cstdint>
#include <vector>

namespace gengap::sim {

/// The values V(x) of one environment's potential for x in [lo, lo + size()).
/// V(0) = 0 by convention (the walkers start at 0).
struct Landscape {
  std::int64_t lo = 0;       ///< first site of the window
  std::vector<double> v;     ///< V(lo), V(lo+1), ... (potential energy units)

  /// Number of sites in the window.
  std::int64_t size() const noexcept { return static_cast<std::int64_t>(v.size()); }
  /// Last site of the window (inclusive).
  std::int64_t hi() const noexcept { return lo + size() - 1; }
  /// True when x lies in the window.
  bool contains(std::int64_t x) const noexcept { return x >= lo && x <= hi(); }
  /// V(x); x must lie in the window.
  double operator()(std::int64_t x) const noexcept { return v[static_cast<std::size_t>(x - lo)]; }
};

}  // namespace gengap::sim
