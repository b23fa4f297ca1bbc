// Potentials and dynamics by name.
#include "gengap/sim/factory.hpp"

#include "gengap/sim/error.hpp"
#include "gengap/sim/fbm.hpp"
#include "gengap/sim/flat.hpp"
#include "gengap/sim/heat_bath.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/sinai.hpp"

namespace gengap::sim {

std::unique_ptr<Potential> make_potential(const std::string& name, double alpha, double sigma) {
  require(alpha > 0 && alpha < 2, "alpha", alpha, "must lie in (0, 2)");
  if (name == "sinai-gaussian" || name == "sinai-binary") {
    require(alpha == 1.0, "alpha", alpha, "Sinai potentials have alpha = 1; use potential = fbm for other values");
    return std::make_unique<SinaiPotential>(
        name == "sinai-gaussian" ? SinaiPotential::Increments::kGaussian : SinaiPotential::Increments::kBinary, sigma);
  }
  if (name == "fbm") return std::make_unique<FbmPotential>(alpha, sigma);
  if (name == "flat") return std::make_unique<FlatPotential>();
  throw InvalidArgument("potential", name, "expected sinai-gaussian, sinai-binary, fbm or flat");
}

std::unique_ptr<Dynamics> make_dynamics(const std::string& name) {
  if (name == "metropolis") return std::make_unique<Metropolis>();
  if (name == "heat-bath") return std::make_unique<HeatBath>();
  throw InvalidArgument("dynamics", name, "expected metropolis or heat-bath");
}

}  // namespace gengap::sim
