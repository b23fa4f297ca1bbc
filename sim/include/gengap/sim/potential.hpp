/// @file potential.hpp
/// @brief The interface every random potential implements; see sinai.hpp, fbm.hpp, flat.hpp.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gengap/sim/landscape.hpp"

namespace gengap::sim {

/// A law of random potentials on the 1D lattice.
///
/// An implementation samples environment `env` of seed `seed` on a window of half-width `hw`
/// (sites [-hw, hw]). Sampling is deterministic in (seed, env). When extendable() is true, the
/// values on [-hw, hw] do not depend on hw, so the ensemble runner can grow the window under a
/// walker without changing the environment; otherwise a walker reaching the edge stops the run
/// with an error.
class Potential {
 public:
  virtual ~Potential() = default;
  /// Short name, e.g. "sinai-gaussian".
  virtual std::string name() const = 0;
  /// Var(V(x+1) - V(x)), the variance of one increment (s^2).
  virtual double increment_variance() const = 0;
  /// Exponent alpha of the structure function E[(V(x)-V(y))^2] ~ |x-y|^alpha (1 for Sinai).
  virtual double alpha() const = 0;
  /// Whether windows can grow without changing the sampled environment.
  virtual bool extendable() const = 0;
  /// Samples environment `env` on sites [-hw, hw], with V(0) = 0.
  virtual Landscape sample(std::uint64_t seed, std::uint64_t env, std::int64_t hw) const = 0;
  /// The parameters, for result files.
  virtual void to_json(nlohmann::json& j) const = 0;
};

}  // namespace gengap::sim
