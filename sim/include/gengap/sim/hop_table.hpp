/// @file hop_table.hpp
/// @brief Per-site hop thresholds: one 32-bit uniform decides a step, branch-free.
#pragma once

#include <cstdint>
#include <vector>

#include "gengap/sim/dynamics.hpp"
#include "gengap/sim/landscape.hpp"

namespace gengap::sim {

/// Thresholds for one site: with u a uniform 32-bit word, the walker moves left when
/// u < left, right when u > right, and stays otherwise: P(left) = left / 2^32 and
/// P(right) = (2^32 - 1 - right) / 2^32. Probabilities are rounded to the nearest multiple of
/// 2^-32 (about 2.3e-10): over t steps this moves at most t * 2^-33 expected hops per walker,
/// which is why the ensemble runner caps t at 2^32 (use the exact solver beyond).
struct HopThresholds {
  std::uint32_t left;   ///< u < left: move to x - 1
  std::uint32_t right;  ///< u > right: move to x + 1
};

/// The hop thresholds of every site of a landscape for one dynamics and temperature.
/// The two end sites of the window have thresholds that never leave it; the ensemble runner
/// keeps walkers away from them.
class HopTable {
 public:
  HopTable() = default;
  /// @param land the potential
  /// @param dyn the hopping rule
  /// @param temperature T > 0, energy units
  HopTable(const Landscape& land, const Dynamics& dyn, double temperature);
  /// First site.
  std::int64_t lo() const noexcept { return lo_; }
  /// Number of sites.
  std::int64_t size() const noexcept { return static_cast<std::int64_t>(t_.size()); }
  /// Pointer p such that p[x] are the thresholds of site x (x in [lo, lo + size())).
  const HopThresholds* origin() const noexcept { return t_.data() - lo_; }
  /// Thresholds of site x.
  const HopThresholds& at(std::int64_t x) const noexcept { return t_[static_cast<std::size_t>(x - lo_)]; }
  /// Makes site x reflecting on its left side (no moves to x - 1): a wall between x-1 and x.
  void reflect_left(std::int64_t x) noexcept { t_[static_cast<std::size_t>(x - lo_)].left = 0; }
  /// P(x -> x-1) as represented.
  double p_left(std::int64_t x) const noexcept { return at(x).left * 0x1p-32; }
  /// P(x -> x+1) as represented.
  double p_right(std::int64_t x) const noexcept { return (0x1p32 - 1.0 - at(x).right) * 0x1p-32; }

 private:
  std::int64_t lo_ = 0;
  std::vector<HopThresholds> t_;
};

/// One step: the new position of a walker at x drawing the uniform word u.
inline std::int64_t hop(const HopThresholds* origin, std::int64_t x, std::uint32_t u) noexcept {
  const HopThresholds h = origin[x];
  return x + static_cast<std::int64_t>(u > h.right) - static_cast<std::int64_t>(u < h.left);
}

/// Probability, represented as a 32-bit threshold, rounded to nearest and clamped to [0, 2^32-1].
std::uint32_t probability_to_threshold(double p) noexcept;

}  // namespace gengap::sim
