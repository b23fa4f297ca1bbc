// Internal: the ensemble runner's inner loop (Philox draws and hops of a group of lanes), one
// implementation per instruction set, chosen at run time from the CPU (walk_kernels.cpp).
#pragma once

#include <cstdint>

#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/hop_table.hpp"

namespace gengap::sim::detail {

/// The most lanes any kernel steps together.
constexpr int kMaxLanes = 64;

/// The Philox streams of a group of lanes: lane l draws block i as
/// philox4x32_10({i_lo, i_hi | purpose, walker[l], env[l]}, {key0, key1}), word i & 3 for step i.
struct LaneStreams {
  std::uint32_t key0 = 0, key1 = 0, purpose = 0;
  alignas(64) std::uint32_t walker[kMaxLanes] = {};
  alignas(64) std::uint32_t env[kMaxLanes] = {};
};

/// Steps lanes [0, lanes) of the kernel from step t to step end (t < end): p[l] points to lane l's
/// current site in its environment's hop table and is moved along. Every kernel gives bitwise the
/// same positions: a walker's draws depend only on its stream and the step number.
using AdvanceFn = void (*)(const LaneStreams& streams, const HopThresholds** p, std::uint64_t t, std::uint64_t end);

/// One implementation of the inner loop.
struct WalkKernel {
  SimdPath path = SimdPath::kScalar;  ///< its instruction set
  int lanes = 8;                      ///< walkers it steps together (<= kMaxLanes)
  AdvanceFn advance = nullptr;        ///< the loop
};

/// The kernel for `path`; kAuto takes the widest this CPU runs.
/// @throws InvalidArgument when this CPU cannot run `path`
WalkKernel walk_kernel(SimdPath path);

}  // namespace gengap::sim::detail
