// Internal helpers of gengap::train's sources: the one way they refuse a bad value.
#pragma once

#include <sstream>
#include <string>

#include "gengap/core/error.hpp"

namespace gengap::train::detail {

/// Throws core::InvalidArgument "field = value: why".
[[noreturn]] inline void bad(const std::string& field, const std::string& value, const std::string& why) {
  throw core::InvalidArgument(field, value, why);
}

/// A number as the messages print it (the stream's default format).
inline std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace gengap::train::detail
