// Philox4x32-10 against Random123's own implementation and its known-answer vectors.
#include <Random123/philox.h>

#include <catch2/catch.hpp>

#include "gengap/sim/philox.hpp"

using namespace gengap::sim;

TEST_CASE("philox4x32 matches Random123's known-answer vectors", "[philox]") {
  // From Random123's kat_vectors (philox4x32, 10 rounds).
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) == Block4x32{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}) ==
        Block4x32{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}) ==
        Block4x32{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("philox4x32 equals Random123 on many counters and keys", "[philox]") {
  r123::Philox4x32 ref;
  std::uint32_t x = 12345;
  auto next = [&x] { return x = x * 1664525u + 1013904223u; };
  for (int i = 0; i < 2000; ++i) {
    r123::Philox4x32::ctr_type c = {{next(), next(), next(), next()}};
    r123::Philox4x32::key_type k = {{next(), next()}};
    const auto want = ref(c, k);
    const auto got = philox4x32_10({c[0], c[1], c[2], c[3]}, {k[0], k[1]});
    for (int w = 0; w < 4; ++w) REQUIRE(got[w] == want[w]);
  }
}

TEST_CASE("streams of different purposes and indices differ, and uniforms are in (0,1)", "[philox]") {
  const Stream a(7, StreamPurpose::kWalk, 0, 0), b(7, StreamPurpose::kLandscape, 0, 0), c(7, StreamPurpose::kWalk, 1, 0);
  CHECK(a(0) != b(0));
  CHECK(a(0) != c(0));
  CHECK(to_open01(0) > 0);
  CHECK(to_open01(0xffffffffu) < 1);
  // Box-Muller normals: mean 0, variance 1 within 5 standard errors on 2e5 draws.
  double s = 0, s2 = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const auto z = to_normal2(a(static_cast<std::uint64_t>(i)));
    s += z[0] + z[1];
    s2 += z[0] * z[0] + z[1] * z[1];
  }
  CHECK(std::abs(s / (2 * n)) < 5 / std::sqrt(2.0 * n));
  CHECK(std::abs(s2 / (2 * n) - 1) < 5 * std::sqrt(2.0 / (2 * n)));
}
