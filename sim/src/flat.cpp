// The flat potential V = 0: free diffusion, the control case.
#include "gengap/sim/flat.hpp"

#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"

namespace gengap::sim {

Landscape FlatPotential::sample(std::uint64_t, std::uint64_t, std::int64_t hw) const {
  require(hw >= 1, "half_width", hw, "must be >= 1");
  return Landscape{-hw, std::vector<double>(static_cast<std::size_t>(2 * hw + 1), 0.0)};
}

void FlatPotential::to_json(nlohmann::json& j) const { j = {{"name", "flat"}}; }

}  // namespace gengap::sim
