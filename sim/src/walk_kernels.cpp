// The ensemble runner's inner loop, one implementation per instruction set. The AVX2 and AVX-512
// kernels are compiled with target attributes, not with the build's -m flags, and chosen at run
// time from the CPU: a binary built anywhere runs the widest path the machine it runs on has.
//
// Every kernel computes the same thing: lane l draws Philox4x32-10 block t >> 2 of its stream and
// takes word t & 3 as the uniform of step t; the walker moves left when u < left, right when
// u > right (HopThresholds). Positions are therefore bitwise the same on every path.
#include "walk_kernels.hpp"

#include <algorithm>
#include <cstddef>
#include <string>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define GENGAP_X86_KERNELS 1
#include <immintrin.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 warns about the `undefined` placeholder inside its own AVX-512 intrinsics when they are
// inlined (GCC bug 105593); the kernels themselves read nothing uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace gengap::sim {

std::string simd_path_name(SimdPath path) {
  switch (path) {
    case SimdPath::kAuto: return "auto";
    case SimdPath::kScalar: return "scalar";
    case SimdPath::kAvx2: return "avx2";
    case SimdPath::kAvx512: return "avx512";
  }
  return "?";
}

SimdPath parse_simd_path(const std::string& name) {
  for (SimdPath p : {SimdPath::kAuto, SimdPath::kScalar, SimdPath::kAvx2, SimdPath::kAvx512}) {
    if (name == simd_path_name(p)) return p;
  }
  throw InvalidArgument("simd", name, "must be auto, scalar, avx2 or avx512");
}

std::vector<SimdPath> available_simd_paths() {
  std::vector<SimdPath> out{SimdPath::kScalar};
#if defined(GENGAP_X86_KERNELS)
  __builtin_cpu_init();
  // libgcc's checks include the operating system's support (XCR0) for the wider registers.
  if (__builtin_cpu_supports("avx2")) out.push_back(SimdPath::kAvx2);
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    out.push_back(SimdPath::kAvx512);
  }
#endif
  return out;
}

namespace detail {
namespace {

constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox4x32 multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Philox4x32 key increments

inline std::uint32_t counter1(const LaneStreams& s, std::uint64_t blk) noexcept {
  return (static_cast<std::uint32_t>(blk >> 32) & 0x00FFFFFFu) | s.purpose;
}

// The end of the steps from t (< end) whose blocks share blk >> 32 = t >> 34, the counter word that
// the vector kernels fold into per-call constants.
inline std::uint64_t segment_end(std::uint64_t t, std::uint64_t end) noexcept {
  const std::uint64_t next = (t >> 34) + 1;
  return next < (std::uint64_t{1} << 30) ? std::min(end, next << 34) : end;
}

// One step of L lanes with the uniforms u[0 .. L).
template <int L>
inline void hop_lanes(const HopThresholds** p, const std::uint32_t* u) noexcept {
#pragma GCC unroll 16
  for (int l = 0; l < L; ++l) {
    const HopThresholds h = *p[l];
    p[l] += static_cast<std::ptrdiff_t>(u[l] > h.right) - static_cast<std::ptrdiff_t>(u[l] < h.left);
  }
}

// ---- scalar: portable C++ ---------------------------------------------------------------------
constexpr int kScalarLanes = 8;

void advance_scalar(const LaneStreams& s, const HopThresholds** p, std::uint64_t t, std::uint64_t end) {
  constexpr int L = kScalarLanes;
  const HopThresholds* q[L];
  std::copy_n(p, L, q);
  std::uint32_t u[4][L];
  while (t < end) {
    const std::uint64_t blk = t >> 2;
    const unsigned w0 = static_cast<unsigned>(t & 3);
    const unsigned w1 = static_cast<unsigned>(std::min<std::uint64_t>(4, w0 + (end - t)));
    for (int l = 0; l < L; ++l) {
      const Block4x32 b = philox4x32_10({static_cast<std::uint32_t>(blk), counter1(s, blk), s.walker[l], s.env[l]}, {s.key0, s.key1});
      for (int w = 0; w < 4; ++w) u[w][l] = b[static_cast<std::size_t>(w)];
    }
    for (unsigned w = w0; w < w1; ++w) hop_lanes<L>(q, u[w]);
    t += w1 - w0;
  }
  std::copy_n(q, L, p);
}

#if defined(GENGAP_X86_KERNELS)

// ---- AVX2: Philox for 4 lanes per vector, hops lane by lane; 32 lanes -----------------------------
// The AVX-512 kernel's design (below) on 256-bit vectors: each 32-bit word in the low half of a
// 64-bit element, the first two rounds' fixed products made once per call, 32 lanes of scalar hops
// in flight (8 lanes, one vector of 32-bit words with blends, ran at 0.68e9 steps/s on the Zen 5;
// this runs at 1.08e9).
#define GENGAP_TARGET_AVX2 __attribute__((target("avx2")))
constexpr int kAvx2Vectors = 8;
constexpr int kAvx2Lanes = 4 * kAvx2Vectors;

GENGAP_TARGET_AVX2 inline __m256i bcast64x4(std::uint32_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }

// Philox8Consts (below) for a 4-lane group.
struct Philox4Consts {
  __m256i ek, x1, x2, x3;
  __m256i k0[10], k1[10];
};

GENGAP_TARGET_AVX2 inline void philox4_consts(const LaneStreams& s, int first, std::uint32_t h, Philox4Consts& c) {
  std::uint32_t k0 = s.key0, k1 = s.key1;
  for (int r = 0; r < 10; ++r, k0 += kW0, k1 += kW1) {
    c.k0[r] = bcast64x4(k0);
    c.k1[r] = bcast64x4(k1);
  }
  const __m256i walker = _mm256_cvtepu32_epi64(_mm_load_si128(reinterpret_cast<const __m128i*>(s.walker + first)));
  const __m256i env = _mm256_cvtepu32_epi64(_mm_load_si128(reinterpret_cast<const __m128i*>(s.env + first)));
  const __m256i q = _mm256_mul_epu32(walker, bcast64x4(kM1));
  const __m256i a = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(q, 32), bcast64x4(h)), c.k0[0]);
  const __m256i pa = _mm256_mul_epu32(a, bcast64x4(kM0));
  c.ek = _mm256_xor_si256(env, c.k1[0]);
  c.x1 = _mm256_xor_si256(q, c.k0[1]);
  c.x2 = _mm256_xor_si256(_mm256_srli_epi64(pa, 32), c.k1[1]);
  c.x3 = pa;
}

// Philox4x32-10 block blk of the 4 lanes (blk >> 32 as when k was made): word w of lane l is
// out[w][2 l].
GENGAP_TARGET_AVX2 inline void philox4(const Philox4Consts& k, std::uint64_t blk, std::uint32_t (&out)[4][8]) {
  const __m256i m0 = bcast64x4(kM0);
  const __m256i m1 = bcast64x4(kM1);
  const std::uint64_t pb = std::uint64_t{static_cast<std::uint32_t>(blk)} * kM0;
  const __m256i q = _mm256_mul_epu32(_mm256_xor_si256(k.ek, bcast64x4(static_cast<std::uint32_t>(pb >> 32))), m1);
  __m256i c0 = _mm256_xor_si256(_mm256_srli_epi64(q, 32), k.x1);
  __m256i c1 = q;
  __m256i c2 = _mm256_xor_si256(k.x2, bcast64x4(static_cast<std::uint32_t>(pb)));
  __m256i c3 = k.x3;
#pragma GCC unroll 8
  for (int r = 2; r < 10; ++r) {
    const __m256i p0 = _mm256_mul_epu32(c0, m0), p1 = _mm256_mul_epu32(c2, m1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1), k.k0[r]);
    c2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3), k.k1[r]);
    c1 = p1;
    c3 = p0;
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[0]), c0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[1]), c1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[2]), c2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[3]), c3);
}

template <int V>  // V vectors of 4 lanes
GENGAP_TARGET_AVX2 void advance_avx2(const LaneStreams& s, const HopThresholds** p, std::uint64_t t, std::uint64_t end) {
  static_assert(4 * V <= kMaxLanes, "lanes");
  const HopThresholds* q[4 * V];
  std::copy_n(p, 4 * V, q);
  Philox4Consts consts[V];
  alignas(32) std::uint32_t u[V][4][8];
  while (t < end) {
    const std::uint64_t seg_end = segment_end(t, end);
    for (int v = 0; v < V; ++v) philox4_consts(s, 4 * v, counter1(s, t >> 2), consts[v]);
    while (t < seg_end) {
      const unsigned w0 = static_cast<unsigned>(t & 3);
      const unsigned w1 = static_cast<unsigned>(std::min<std::uint64_t>(4, w0 + (seg_end - t)));
      for (int v = 0; v < V; ++v) philox4(consts[v], t >> 2, u[v]);
      for (unsigned w = w0; w < w1; ++w) {
#pragma GCC unroll 64
        for (int l = 0; l < 4 * V; ++l) {
          const HopThresholds h = *q[l];
          const std::uint32_t x = u[l >> 2][w][2 * (l & 3)];
          q[l] += static_cast<std::ptrdiff_t>(x > h.right) - static_cast<std::ptrdiff_t>(x < h.left);
        }
      }
      t += w1 - w0;
    }
  }
  std::copy_n(q, 4 * V, p);
}

// ---- AVX-512: Philox for 8 lanes per vector, hops lane by lane; 64 lanes ------------------------
// Each 32-bit Philox word sits in the low half of a 64-bit element: _mm512_mul_epu32 reads only low
// halves, so a product's low word is the product itself and its high word one shift away (no
// blends); the high halves carry garbage that nothing reads. The hops are scalar: on the AMD Zen 5
// this was measured on, a gather of 8 sites' thresholds cost more than 8 loads and compares
// (1.3e9 steps/s with gathers, 1.5e9 with scalar hops, same Philox; docs/pages/performance.md).
#define GENGAP_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
constexpr int kAvx512Vectors = 8;
constexpr int kAvx512Lanes = 8 * kAvx512Vectors;

GENGAP_TARGET_AVX512 inline __m512i bcast64(std::uint32_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }

// What the first two Philox rounds of an 8-lane group owe to nothing but the lanes' streams. The
// counter is {blk, h, walker, env}, h = counter1(blk) fixed while blk >> 32 is. Round 1 multiplies
// walker (fixed) and blk (the same in every lane: one scalar product); round 2 multiplies round 1's
// c0 = hi(walker M1) ^ h ^ key0 (fixed) and round 1's c2 (the only vector product of the two rounds
// that depends on blk).
struct Philox8Consts {
  __m512i ek;  ///< env ^ k1[0]: round 1 gives c2 = ek ^ hi(blk M0)
  __m512i x1;  ///< lo(walker M1) ^ k0[1]: round 2 gives c0 = x1 ^ hi(c2 M1)
  __m512i x2;  ///< hi(a M0) ^ k1[1], a = hi(walker M1) ^ h ^ k0[0]: round 2 gives c2 = x2 ^ lo(blk M0)
  __m512i x3;  ///< lo(a M0): round 2's c3
  __m512i k0[10], k1[10];  ///< round keys
};

GENGAP_TARGET_AVX512 inline void philox8_consts(const LaneStreams& s, int first, std::uint32_t h, Philox8Consts& c) {
  std::uint32_t k0 = s.key0, k1 = s.key1;
  for (int r = 0; r < 10; ++r, k0 += kW0, k1 += kW1) {
    c.k0[r] = bcast64(k0);
    c.k1[r] = bcast64(k1);
  }
  const __m512i walker = _mm512_cvtepu32_epi64(_mm256_load_si256(reinterpret_cast<const __m256i*>(s.walker + first)));
  const __m512i env = _mm512_cvtepu32_epi64(_mm256_load_si256(reinterpret_cast<const __m256i*>(s.env + first)));
  const __m512i q = _mm512_mul_epu32(walker, bcast64(kM1));
  // 0x96: a ^ b ^ c in one instruction.
  const __m512i a = _mm512_ternarylogic_epi64(_mm512_srli_epi64(q, 32), bcast64(h), c.k0[0], 0x96);
  const __m512i pa = _mm512_mul_epu32(a, bcast64(kM0));
  c.ek = _mm512_xor_si512(env, c.k1[0]);
  c.x1 = _mm512_xor_si512(q, c.k0[1]);
  c.x2 = _mm512_xor_si512(_mm512_srli_epi64(pa, 32), c.k1[1]);
  c.x3 = pa;
}

// Philox4x32-10 block blk of the 8 lanes (blk >> 32 as when k was made): word w of lane l is
// out[w][2 l] (the odd entries are garbage).
GENGAP_TARGET_AVX512 inline void philox8(const Philox8Consts& k, std::uint64_t blk, std::uint32_t (&out)[4][16]) {
  const __m512i m0 = bcast64(kM0);
  const __m512i m1 = bcast64(kM1);
  const std::uint64_t pb = std::uint64_t{static_cast<std::uint32_t>(blk)} * kM0;
  const __m512i q = _mm512_mul_epu32(_mm512_xor_si512(k.ek, bcast64(static_cast<std::uint32_t>(pb >> 32))), m1);
  __m512i c0 = _mm512_xor_si512(_mm512_srli_epi64(q, 32), k.x1);
  __m512i c1 = q;
  __m512i c2 = _mm512_xor_si512(k.x2, bcast64(static_cast<std::uint32_t>(pb)));
  __m512i c3 = k.x3;
#pragma GCC unroll 8
  for (int r = 2; r < 10; ++r) {
    const __m512i p0 = _mm512_mul_epu32(c0, m0), p1 = _mm512_mul_epu32(c2, m1);
    c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1, k.k0[r], 0x96);
    c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3, k.k1[r], 0x96);
    c1 = p1;
    c3 = p0;
  }
  _mm512_store_si512(out[0], c0);
  _mm512_store_si512(out[1], c1);
  _mm512_store_si512(out[2], c2);
  _mm512_store_si512(out[3], c3);
}

template <int V>  // V vectors of 8 lanes
GENGAP_TARGET_AVX512 void advance_avx512(const LaneStreams& s, const HopThresholds** p, std::uint64_t t, std::uint64_t end) {
  static_assert(8 * V <= kMaxLanes, "lanes");
  const HopThresholds* q[8 * V];
  std::copy_n(p, 8 * V, q);
  Philox8Consts consts[V];
  alignas(64) std::uint32_t u[V][4][16];
  while (t < end) {
    const std::uint64_t seg_end = segment_end(t, end);
    for (int v = 0; v < V; ++v) philox8_consts(s, 8 * v, counter1(s, t >> 2), consts[v]);
    while (t < seg_end) {
      const unsigned w0 = static_cast<unsigned>(t & 3);
      const unsigned w1 = static_cast<unsigned>(std::min<std::uint64_t>(4, w0 + (seg_end - t)));
      for (int v = 0; v < V; ++v) philox8(consts[v], t >> 2, u[v]);
      for (unsigned w = w0; w < w1; ++w) {
#pragma GCC unroll 64
        for (int l = 0; l < 8 * V; ++l) {
          const HopThresholds h = *q[l];
          const std::uint32_t x = u[l >> 3][w][2 * (l & 7)];
          q[l] += static_cast<std::ptrdiff_t>(x > h.right) - static_cast<std::ptrdiff_t>(x < h.left);
        }
      }
      t += w1 - w0;
    }
  }
  std::copy_n(q, 8 * V, p);
}

#endif  // GENGAP_X86_KERNELS

}  // namespace

WalkKernel walk_kernel(SimdPath path) {
  const std::vector<SimdPath> have = available_simd_paths();
  if (path == SimdPath::kAuto) path = have.back();
  if (std::find(have.begin(), have.end(), path) == have.end()) {
    std::string names;
    for (SimdPath p : have) names += (names.empty() ? "" : ", ") + simd_path_name(p);
    throw InvalidArgument("simd", simd_path_name(path), "this CPU cannot run it (it runs " + names + ")");
  }
  switch (path) {
#if defined(GENGAP_X86_KERNELS)
    case SimdPath::kAvx2: return {SimdPath::kAvx2, kAvx2Lanes, &advance_avx2<kAvx2Vectors>};
    case SimdPath::kAvx512: return {SimdPath::kAvx512, kAvx512Lanes, &advance_avx512<kAvx512Vectors>};
#endif
    default: return {SimdPath::kScalar, kScalarLanes, &advance_scalar};
  }
}

}  // namespace detail
}  // namespace gengap::sim
