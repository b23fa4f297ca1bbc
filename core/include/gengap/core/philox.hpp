/// @file philox.hpp
/// @brief Philox4x32-10 counter-based generator (Salmon et al., SC'11): every walker, bond
/// and sample gets its own stream, so results never depend on the number of threads.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace gengap::core {

/// Four 32-bit words: a Philox counter or output block.
using Block4x32 = std::array<std::uint32_t, 4>;
/// Two 32-bit words: a Philox key.
using Key2x32 = std::array<std::uint32_t, 2>;

/// Philox4x32 with 10 rounds, bit-identical to Random123's `philox4x32` (checked in the tests
/// against Random123's own implementation and its known-answer vectors).
///
/// @param ctr 128-bit counter
/// @param key 64-bit key
/// @return four uniformly distributed 32-bit words
inline Block4x32 philox4x32_10(Block4x32 ctr, Key2x32 key) noexcept {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      key[0] += kW0;
      key[1] += kW1;
    }
    const std::uint64_t p0 = std::uint64_t{kM0} * ctr[0];
    const std::uint64_t p1 = std::uint64_t{kM1} * ctr[2];
    ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
  }
  return ctr;
}

/// Purposes that separate the streams of one seed (stored in the top byte of counter word 1).
enum class StreamPurpose : std::uint32_t {
  kWalk = 1,       ///< walker steps
  kLandscape = 2,  ///< potential increments
  kBootstrap = 3,  ///< bootstrap resampling
  kValley = 4,     ///< valley-bottom sampling
  kStart = 5,      ///< anything else a component needs
  kField = 6,      ///< modes of continuous random fields
  kNoise = 7,      ///< gradient noise of SGD and Langevin dynamics
};

/// A stream: a key (the seed) and the fixed counter words that name it (a, b).
/// Draw i of the stream is philox4x32_10({i_lo, i_hi | purpose << 24, a, b}, seed).
struct Stream {
  Key2x32 key{};              ///< the seed's two halves
  std::uint32_t a = 0;        ///< first stream index (e.g. walker)
  std::uint32_t b = 0;        ///< second stream index (e.g. environment)
  std::uint32_t purpose = 0;  ///< StreamPurpose, shifted into counter word 1

  /// Builds the stream (seed, purpose, a, b).
  Stream(std::uint64_t seed, StreamPurpose p, std::uint32_t a_, std::uint32_t b_) noexcept
      : key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        a(a_),
        b(b_),
        purpose(static_cast<std::uint32_t>(p) << 24) {}

  /// Block number i of this stream (i < 2^56).
  Block4x32 operator()(std::uint64_t i) const noexcept {
    return philox4x32_10({static_cast<std::uint32_t>(i),
                       (static_cast<std::uint32_t>(i >> 32) & 0x00FFFFFFu) | purpose, a, b},
                      key);
  }
};

/// Uniform double in (0, 1) from 32 random bits (never exactly 0 or 1).
inline double to_open01(std::uint32_t u) noexcept { return (u + 0.5) * 0x1p-32; }

/// Two independent standard normals from one block (Box-Muller, 64-bit uniforms).
inline std::array<double, 2> to_normal2(const Block4x32& b) noexcept {
  const double u1 = (static_cast<double>(static_cast<std::uint64_t>(b[0]) << 21 ^ b[1]) + 0.5) * 0x1p-53;  // < 2^53: exact
  const double u2 = (static_cast<double>(static_cast<std::uint64_t>(b[2]) << 21 ^ b[3]) + 0.5) * 0x1p-53;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double th = 6.283185307179586476925 * u2;
  return {r * std::cos(th), r * std::sin(th)};
}

}  // namespace gengap::core
