/// @file sinai.hpp
/// @brief Sinai's potential: a random walk in space, V(x) = sum of i.i.d. increments.
#pragma once

#include "gengap/sim/potential.hpp"

namespace gengap::sim {

/// Sinai's potential: V(0) = 0 and V(x+1) - V(x) i.i.d. with mean 0 and standard deviation s.
///
/// Increments are Gaussian N(0, s^2) or binary +-s with probability 1/2 each. The increment of
/// bond (x, x+1) is a pure function of (seed, env, x), so windows grow without changing the
/// environment. Structure function: E[(V(x)-V(y))^2] = s^2 |x-y| (alpha = 1).
class SinaiPotential final : public Potential {
 public:
  /// Law of one increment.
  enum class Increments { kGaussian, kBinary };
  /// @param kind Gaussian or +-s increments
  /// @param s    standard deviation of one increment (> 0), energy units
  explicit SinaiPotential(Increments kind = Increments::kGaussian, double s = 1.0);
  std::string name() const override;
  double increment_variance() const override { return s_ * s_; }
  double alpha() const override { return 1.0; }
  bool extendable() const override { return true; }
  Landscape sample(std::uint64_t seed, std::uint64_t env, std::int64_t hw) const override;
  void to_json(nlohmann::json& j) const override;
  /// The increment V(x+1) - V(x) of bond x in environment env.
  double increment(std::uint64_t seed, std::uint64_t env, std::int64_t x) const noexcept;

 private:
  Increments kind_;
  double s_;
};

}  // namespace gengap::sim
