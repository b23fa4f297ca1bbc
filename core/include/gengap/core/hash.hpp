/// @file hash.hpp
/// @brief FNV-1a, 64 bit: the hash of configs and programs (repro's cache keys) and of checkpoint
/// payloads (their integrity check). Not cryptographic: it detects accidents, not forgeries.
#pragma once

#include <cstdint>
#include <string_view>

namespace gengap::core {

/// FNV-1a over `data`, continuing from `h` (the offset basis by default).
inline std::uint64_t fnv1a64(std::string_view data, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace gengap::core
