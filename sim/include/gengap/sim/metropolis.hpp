/// @file metropolis.hpp
/// @brief Metropolis acceptance, min(1, exp(-dV/T)).
#pragma once

#include <cmath>

#include "gengap/sim/dynamics.hpp"

namespace gengap::sim {

/// Metropolis rule: downhill moves always accepted, uphill with probability exp(-dV/T).
class Metropolis final : public Dynamics {
 public:
  std::string name() const override { return "metropolis"; }
  double accept(double u) const override { return u <= 0.0 ? 1.0 : std::exp(-u); }
};

}  // namespace gengap::sim
