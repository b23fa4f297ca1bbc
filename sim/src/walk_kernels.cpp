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

static_assert(sizeof(HopThresholds) == 8 && offsetof(HopThresholds, right) == 4,
              "the gathered kernels read a site's thresholds as one 64-bit word, left in the low half");

constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox4x32 multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Philox4x32 key increments

inline std::uint32_t counter1(const LaneStreams& s, std::uint64_t blk) noexcept {
  return (static_cast<std::uint32_t>(blk >> 32) & 0x00FFFFFFu) | s.purpose;
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

// ---- AVX2: the 8 lanes' Philox in one vector, hops lane by lane -------------------------------
#define GENGAP_TARGET_AVX2 __attribute__((target("avx2")))
constexpr int kAvx2Lanes = 8;

GENGAP_TARGET_AVX2 void philox8(const LaneStreams& s, std::uint64_t blk, std::uint32_t (&out)[4][kAvx2Lanes]) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kM1));
  __m256i c0 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(blk)));
  __m256i c1 = _mm256_set1_epi32(static_cast<int>(counter1(s, blk)));
  __m256i c2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(s.walker));
  __m256i c3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(s.env));
  std::uint32_t k0 = s.key0, k1 = s.key1;
  for (int r = 0; r < 10; ++r) {
    // 32x32 -> 64-bit products of even and odd lanes, split into high and low words.
    const __m256i e0 = _mm256_mul_epu32(c0, m0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(c0, 32), m0);
    const __m256i e1 = _mm256_mul_epu32(c2, m1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(c2, 32), m1);
    const __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
    const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
    const __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
    const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
    c1 = lo1;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[0]), c0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[1]), c1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[2]), c2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[3]), c3);
}

GENGAP_TARGET_AVX2 void advance_avx2(const LaneStreams& s, const HopThresholds** p, std::uint64_t t, std::uint64_t end) {
  constexpr int L = kAvx2Lanes;
  const HopThresholds* q[L];
  std::copy_n(p, L, q);
  alignas(32) std::uint32_t u[4][L];
  while (t < end) {
    const unsigned w0 = static_cast<unsigned>(t & 3);
    const unsigned w1 = static_cast<unsigned>(std::min<std::uint64_t>(4, w0 + (end - t)));
    philox8(s, t >> 2, u);
    if (w0 == 0 && w1 == 4) {
      hop_lanes<L>(q, u[0]);
      hop_lanes<L>(q, u[1]);
      hop_lanes<L>(q, u[2]);
      hop_lanes<L>(q, u[3]);
    } else {
      for (unsigned w = w0; w < w1; ++w) hop_lanes<L>(q, u[w]);
    }
    t += w1 - w0;
  }
  std::copy_n(q, L, p);
}

// ---- AVX-512: Philox for 16 lanes per vector, hops as gathers of the lanes' thresholds; 64 lanes --
// (8 independent gather chains: with 16 lanes the loop waited on the gathers' latency).
#define GENGAP_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
constexpr int kAvx512Vectors = 4;
constexpr int kAvx512Lanes = 16 * kAvx512Vectors;

// The per-call constants of a 16-lane group: its counter words 2 and 3 and the 10 round keys.
struct Philox16Consts {
  __m512i walker, env;
  __m512i k0[10], k1[10];
};

GENGAP_TARGET_AVX512 inline void philox16_consts(const LaneStreams& s, int first, Philox16Consts& c) {
  c.walker = _mm512_load_si512(s.walker + first);
  c.env = _mm512_load_si512(s.env + first);
  std::uint32_t k0 = s.key0, k1 = s.key1;
  for (int r = 0; r < 10; ++r, k0 += kW0, k1 += kW1) {
    c.k0[r] = _mm512_set1_epi32(static_cast<int>(k0));
    c.k1[r] = _mm512_set1_epi32(static_cast<int>(k1));
  }
}

GENGAP_TARGET_AVX512 inline void philox16(const Philox16Consts& k, const LaneStreams& s, std::uint64_t blk, __m512i (&out)[4]) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kM1));
  __m512i c0 = _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(blk)));
  __m512i c1 = _mm512_set1_epi32(static_cast<int>(counter1(s, blk)));
  __m512i c2 = k.walker;
  __m512i c3 = k.env;
#pragma GCC unroll 10
  for (int r = 0; r < 10; ++r) {
    const __m512i e0 = _mm512_mul_epu32(c0, m0), o0 = _mm512_mul_epu32(_mm512_srli_epi64(c0, 32), m0);
    const __m512i e1 = _mm512_mul_epu32(c2, m1), o1 = _mm512_mul_epu32(_mm512_srli_epi64(c2, 32), m1);
    const __m512i lo0 = _mm512_mask_blend_epi32(0xAAAA, e0, _mm512_slli_epi64(o0, 32));
    const __m512i hi0 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(e0, 32), o0);
    const __m512i lo1 = _mm512_mask_blend_epi32(0xAAAA, e1, _mm512_slli_epi64(o1, 32));
    const __m512i hi1 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(e1, 32), o1);
    // 0x96: a ^ b ^ c in one instruction.
    c0 = _mm512_ternarylogic_epi32(hi1, c1, k.k0[r], 0x96);
    c2 = _mm512_ternarylogic_epi32(hi0, c3, k.k1[r], 0x96);
    c1 = lo1;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// One step of 8 lanes held as 64-bit site addresses in P, with their uniforms u.
GENGAP_TARGET_AVX512 inline void hop8(__m512i& P, __m256i u) {
  const __m512i g = _mm512_i64gather_epi64(P, nullptr, 1);  // {left, right} of each lane's site
  const __m512i uu = _mm512_cvtepu32_epi64(u);
  const __m512i left = _mm512_and_si512(g, _mm512_set1_epi64(0xFFFFFFFF));
  const __m512i right = _mm512_srli_epi64(g, 32);
  const __mmask8 up = _mm512_cmpgt_epu64_mask(uu, right);
  const __mmask8 down = _mm512_cmplt_epu64_mask(uu, left);
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(sizeof(HopThresholds)));
  P = _mm512_mask_add_epi64(P, up, P, step);
  P = _mm512_mask_sub_epi64(P, down, P, step);
}

GENGAP_TARGET_AVX512 inline void hop16(__m512i& P0, __m512i& P1, __m512i u) {
  hop8(P0, _mm512_castsi512_si256(u));
  hop8(P1, _mm512_extracti64x4_epi64(u, 1));
}

template <int V>  // V vectors of 16 lanes: 2 V independent chains of gathers
GENGAP_TARGET_AVX512 void advance_avx512(const LaneStreams& s, const HopThresholds** p, std::uint64_t t, std::uint64_t end) {
  static_assert(sizeof(const HopThresholds*) == 8, "lanes hold 64-bit addresses");
  __m512i P[2 * V];
  for (int h = 0; h < 2 * V; ++h) P[h] = _mm512_loadu_si512(p + 8 * h);
  Philox16Consts consts[V];
  for (int v = 0; v < V; ++v) philox16_consts(s, 16 * v, consts[v]);
  __m512i u[V][4];
  while (t < end) {
    const unsigned w0 = static_cast<unsigned>(t & 3);
    const unsigned w1 = static_cast<unsigned>(std::min<std::uint64_t>(4, w0 + (end - t)));
    for (int v = 0; v < V; ++v) philox16(consts[v], s, t >> 2, u[v]);
    if (w0 == 0 && w1 == 4) {
#pragma GCC unroll 4
      for (int w = 0; w < 4; ++w)
        for (int v = 0; v < V; ++v) hop16(P[2 * v], P[2 * v + 1], u[v][w]);
    } else {
      for (unsigned w = w0; w < w1; ++w)
        for (int v = 0; v < V; ++v) hop16(P[2 * v], P[2 * v + 1], u[v][w]);
    }
    t += w1 - w0;
  }
  for (int h = 0; h < 2 * V; ++h) _mm512_storeu_si512(p + 8 * h, P[h]);
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
    case SimdPath::kAvx2: return {SimdPath::kAvx2, kAvx2Lanes, &advance_avx2};
    case SimdPath::kAvx512: return {SimdPath::kAvx512, kAvx512Lanes, &advance_avx512<kAvx512Vectors>};
#endif
    default: return {SimdPath::kScalar, kScalarLanes, &advance_scalar};
  }
}

}  // namespace detail
}  // namespace gengap::sim
