/// @file memory.hpp
/// @brief Refusing, before any work starts, requests that the machine cannot hold: an estimate of
/// the bytes a request needs is compared with the machine's memory.
#pragma once

#include <cstdint>
#include <string>

namespace gengap::core {

/// The memory a single request may use, in bytes: the machine's physical memory, or less where the
/// process's address-space limit (RLIMIT_AS, `ulimit -v`) leaves less to map; or the value of the
/// environment variable GENGAP_MEMORY_LIMIT (bytes, with an optional K, M, G or T suffix, powers of
/// 1024) when it is set. Read once per call.
double memory_budget_bytes();

/// The bytes this process may still map under its address-space limit (RLIMIT_AS minus its current
/// virtual size); infinity when there is no limit.
double address_space_left_bytes();

/// A byte count for messages: "1.5 GiB".
std::string format_bytes(double bytes);

/// Throws InvalidArgument(field, value, ...) when `bytes` (an estimate of what the request needs;
/// `what` says how it is made, e.g. "environments x times x 24 B") exceeds memory_budget_bytes().
/// Non-finite estimates (overflow) are refused too.
void require_memory(const std::string& field, const std::string& value, double bytes, const std::string& what);

/// Makes the C allocator keep freed memory for reuse instead of handing it back to the operating
/// system at once (glibc: blocks up to 32 MiB come from the heap, the heap is trimmed only when more
/// than 1 GiB sits free at its top). A training step allocates and frees tensors of several MiB; with
/// the defaults each becomes a fresh mmap whose pages fault in one by one, which on virtual machines
/// made LibTorch's BatchNorm forward+backward 5-20x slower (see docs/pages/performance.md). The price
/// is that the process keeps its peak memory. Call once, early, from a program's main(); a no-op
/// where the C library is not glibc. Returns true when the settings took effect.
bool keep_freed_memory() noexcept;

}  // namespace gengap::core
