// Sinai's potential: increments keyed by bond, so any window of an environment is consistent.
#include "gengap/sim/sinai.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

SinaiPotential::SinaiPotential(Increments kind, double s) : kind_(kind), s_(s) {
  require(s >= 1e-6 && s <= 1e6, "sigma", s, "the increment standard deviation must lie in [1e-6, 1e6] (beyond, sums of increments overflow)");
}

std::string SinaiPotential::name() const {
  return kind_ == Increments::kGaussian ? "sinai-gaussian" : "sinai-binary";
}

double SinaiPotential::increment(std::uint64_t seed, std::uint64_t env, std::int64_t x) const noexcept {
  // One Philox block per pair of bonds: bond x uses block floor(x/2), half x mod 2.
  const Stream st(seed, StreamPurpose::kLandscape, static_cast<std::uint32_t>(env >> 32),
                  static_cast<std::uint32_t>(env));
  const auto ux = static_cast<std::uint64_t>(x);  // two's complement: negative bonds get high blocks
  const Block4x32 b = st(ux >> 1);
  if (kind_ == Increments::kBinary) return (b[ux & 1] & 1u) ? s_ : -s_;
  return s_ * to_normal2(b)[ux & 1];
}

Landscape SinaiPotential::sample(std::uint64_t seed, std::uint64_t env, std::int64_t hw) const {
  require(hw >= 1, "half_width", hw, "must be >= 1");
  Landscape land;
  land.lo = -hw;
  land.v.assign(static_cast<std::size_t>(2 * hw + 1), 0.0);
  double* v0 = land.v.data() + hw;
  for (std::int64_t x = 0; x < hw; ++x) v0[x + 1] = v0[x] + increment(seed, env, x);
  for (std::int64_t x = 0; x > -hw; --x) v0[x - 1] = v0[x] - increment(seed, env, x - 1);
  return land;
}

void SinaiPotential::to_json(nlohmann::json& j) const {
  j = {{"name", name()}, {"sigma", s_}, {"alpha", 1.0},
       {"increments", kind_ == Increments::kGaussian ? "gaussian" : "binary"}};
}

}  // namespace gengap::sim
