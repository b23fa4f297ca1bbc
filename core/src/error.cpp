// Error types: one-line, printable messages.
#include "gengap/core/error.hpp"

#include <cstdio>

namespace gengap::core {

std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), max_chars) + 16);
  std::size_t used = 0;
  for (; used < text.size() && out.size() < max_chars; ++used) {
    const auto c = static_cast<unsigned char>(text[used]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (used < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

InputError::InputError(const std::string& message) : std::invalid_argument(printable(message, 2000)) {}

InvalidArgument::InvalidArgument(std::string field, std::string value, const std::string& expected)
    : InputError(printable(field, 120) + " = " + printable(value) + ": " + expected),
      field_(printable(field, 120)),
      value_(printable(value)) {}

}  // namespace gengap::core
