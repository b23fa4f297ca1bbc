// The ensemble runner's inner loops (sim/src/walk_kernels.hpp), each against the walk written out
// from its definition: lane l takes word t & 3 of Philox4x32-10 block t >> 2 of its stream and hops
// by its site's thresholds. Step numbers near the counter's 32-bit carry (the vector kernels fold the
// counter's high word into per-call constants) and at the end of the 64-bit range.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/hop_table.hpp"
#include "gengap/sim/philox.hpp"
#include "walk_kernels.hpp"

using namespace gengap::sim;

namespace {

// Lane l's site after steps [t0, t1) from `start`, from the definition.
std::int64_t reference_walk(const std::vector<HopThresholds>& table, const detail::LaneStreams& s, int l, std::int64_t start,
                            std::uint64_t t0, std::uint64_t t1) {
  std::int64_t x = start;
  for (std::uint64_t t = t0; t < t1; ++t) {
    const std::uint64_t blk = t >> 2;
    const std::uint32_t c1 = (static_cast<std::uint32_t>(blk >> 32) & 0x00FFFFFFu) | s.purpose;
    const Block4x32 b = philox4x32_10({static_cast<std::uint32_t>(blk), c1, s.walker[l], s.env[l]}, {s.key0, s.key1});
    x = hop(table.data(), x, b[t & 3]);
  }
  return x;
}

}  // namespace

TEST_CASE("walk kernels: every path steps each lane as its Philox stream says, across the counter's carries",
          "[ensemble][simd]") {
  // Thresholds drawn at random, with sites that never move left, never move right, or (almost)
  // always move one way.
  std::mt19937_64 gen(77);
  const std::int64_t n_sites = 4001, start = 2000;
  std::vector<HopThresholds> table(static_cast<std::size_t>(n_sites));
  for (auto& h : table) {
    const auto a = static_cast<std::uint32_t>(gen() >> 33), b = static_cast<std::uint32_t>(gen() >> 32);
    h = {std::min(a, b), std::max(a, b)};
  }
  table[start + 3] = {0, 0x80000000u};
  table[start - 3] = {0x80000000u, 0xFFFFFFFFu};
  table[start + 1] = {0, 0};
  table[start - 1] = {0xFFFFFFFFu, 0xFFFFFFFFu};

  detail::LaneStreams s;
  s.key0 = 0x01234567u;
  s.key1 = 0x89ABCDEFu;
  s.purpose = 0x05000000u;
  for (int l = 0; l < detail::kMaxLanes; ++l) {
    s.walker[l] = static_cast<std::uint32_t>(gen());
    s.env[l] = static_cast<std::uint32_t>(gen());
  }
  s.walker[1] = 0xFFFFFFFFu;
  s.env[2] = 0xFFFFFFFFu;

  constexpr std::uint64_t kCarry = std::uint64_t{1} << 34;  // block 2^32: the counter's second word changes
  struct Range {
    std::uint64_t t0, split, t1;  // advanced as [t0, split) then [split, t1)
  };
  const std::vector<Range> ranges = {{0, 0, 203},
                                     {1, 6, 7},
                                     {kCarry - 37, kCarry - 37, kCarry + 91},
                                     {kCarry - 2, kCarry + 1, kCarry + 2},
                                     {5 * kCarry + 1, 5 * kCarry + 3, 5 * kCarry + 130},
                                     {UINT64_MAX - 150, UINT64_MAX - 149, UINT64_MAX}};
  for (SimdPath path : available_simd_paths()) {
    const detail::WalkKernel k = detail::walk_kernel(path);
    REQUIRE(k.lanes <= detail::kMaxLanes);
    for (const Range& r : ranges) {
      INFO("path " << simd_path_name(path) << ", steps [" << r.t0 << ", " << r.t1 << ") split at " << r.split);
      const HopThresholds* p[detail::kMaxLanes];
      std::fill(p, p + detail::kMaxLanes, table.data() + start);
      if (r.split > r.t0) k.advance(s, p, r.t0, r.split);
      k.advance(s, p, r.split, r.t1);
      std::vector<std::int64_t> sites;
      for (int l = 0; l < k.lanes; ++l) {
        INFO("lane " << l);
        sites.push_back(p[l] - table.data());
        CHECK(sites.back() == reference_walk(table, s, l, start, r.t0, r.t1));
      }
      // The walks go somewhere, and not all to the same site: the comparison is not vacuous.
      if (r.t1 - r.t0 > 100) CHECK(std::count(sites.begin(), sites.end(), sites.front()) < k.lanes);
    }
  }
}
