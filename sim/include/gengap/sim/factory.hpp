/// @file factory.hpp
/// @brief Potentials and dynamics by name, as the command-line tools and config files spell them.
#pragma once

#include <memory>
#include <string>

#include "gengap/sim/dynamics.hpp"
#include "gengap/sim/potential.hpp"

namespace gengap::sim {

/// "sinai-gaussian", "sinai-binary" (alpha must be 1), "fbm" (alpha in (0, 2)) or "flat", with
/// increment standard deviation `sigma`. Throws InvalidArgument naming the field otherwise.
std::unique_ptr<Potential> make_potential(const std::string& name, double alpha = 1.0, double sigma = 1.0);
/// "metropolis" or "heat-bath". Throws InvalidArgument otherwise.
std::unique_ptr<Dynamics> make_dynamics(const std::string& name);

}  // namespace gengap::sim
