/// @file heat_bath.hpp
/// @brief Heat-bath (Glauber) acceptance, 1 / (1 + exp(dV/T)).
#pragma once

#include <cmath>

#include "gengap/sim/dynamics.hpp"

namespace gengap::sim {

/// Heat-bath rule: a move is accepted with probability 1 / (1 + exp(dV/T)); on flat ground 1/2.
class HeatBath final : public Dynamics {
 public:
  std::string name() const override { return "heat-bath"; }
  double accept(double u) const override {
    return u >= 0.0 ? std::exp(-u) / (1.0 + std::exp(-u)) : 1.0 / (1.0 + std::exp(u));
  }
};

}  // namespace gengap::sim
