// Hop thresholds from a landscape, a dynamics and a temperature.
#include "gengap/sim/hop_table.hpp"

#include <cmath>

#include "gengap/sim/error.hpp"

namespace gengap::sim {

std::uint32_t probability_to_threshold(double p) noexcept {
  const double scaled = std::nearbyint(p * 0x1p32);
  if (!(scaled > 0)) return 0;
  if (scaled >= 0x1p32 - 1) return 0xFFFFFFFFu;
  return static_cast<std::uint32_t>(scaled);
}

HopTable::HopTable(const Landscape& land, const Dynamics& dyn, double temperature) : lo_(land.lo) {
  require(temperature > 0 && std::isfinite(temperature), "temperature", temperature, "must be finite and > 0");
  require(land.size() >= 2, "landscape size", land.size(), "must hold at least 2 sites");
  const std::size_t n = land.v.size();
  t_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double pl = i > 0 ? hop_probability(dyn, (land.v[i - 1] - land.v[i]) / temperature) : 0.0;
    const double pr = i + 1 < n ? hop_probability(dyn, (land.v[i + 1] - land.v[i]) / temperature) : 0.0;
    t_[i].left = probability_to_threshold(pl);
    t_[i].right = 0xFFFFFFFFu - probability_to_threshold(pr);
  }
}

}  // namespace gengap::sim
