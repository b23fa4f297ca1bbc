/// @file flat.hpp
/// @brief A flat potential (V = 0): free diffusion, \<x^2\> grows linearly in t. A control case.
#pragma once

#include "gengap/sim/potential.hpp"

namespace gengap::sim {

/// V(x) = 0 everywhere: the walk is free diffusion, the reference against which the ultra-slow
/// growth is compared (the fits must prefer the power law t^1 here).
class FlatPotential final : public Potential {
 public:
  std::string name() const override { return "flat"; }
  double increment_variance() const override { return 0.0; }
  double alpha() const override { return 0.0; }
  bool extendable() const override { return true; }
  Landscape sample(std::uint64_t seed, std::uint64_t env, std::int64_t hw) const override;
  void to_json(nlohmann::json& j) const override;
};

}  // namespace gengap::sim
