// Shared by the libFuzzer targets: the input as text, and the rule that bad input must end in our
// one-line error types (core::InputError) or a DataError, never in a crash, an abort or a leak.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gengap/core/error.hpp"

namespace gengap::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

/// Runs `f`; bad input must be refused with core::InputError (which every message type of ours for
/// bad input derives from). Any other exception escaping is a finding: abort so libFuzzer keeps it.
template <class F>
void expect_refused_or_ok(F&& f) {
  try {
    f();
  } catch (const core::InputError&) {
  }
}

}  // namespace gengap::fuzz
