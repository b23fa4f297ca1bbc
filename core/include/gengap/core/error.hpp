/// @file error.hpp
/// @brief The error types of every gengap program: bad input (one line naming the field, the value and
/// what was expected; a CLI prints it and exits with code 2) and runs that cannot continue (exit 1).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gengap::core {

/// Text made safe for a one-line message: bytes outside printable ASCII become `\xNN` (a newline
/// `\n`), and text longer than `max_chars` is cut, ending in "... (N bytes)". Example:
/// `printable("a\x01b")` is `a\x01b` with the byte written as four characters.
std::string printable(std::string_view text, std::size_t max_chars = 160);

/// Base of every error caused by bad input (a flag, a config field, a data file, a checkpoint).
/// The message is one line that names what was wrong; programs catch this one type and exit with 2.
class InputError : public std::invalid_argument {
 public:
  /// @param message one line; control bytes are escaped and very long messages are cut
  explicit InputError(const std::string& message);
};

/// Invalid user input with a name: the message is `<field> = <value>: <what was expected>`, for
/// example `temperature = -1: must be > 0`. Field and value are passed through printable(), so a
/// 1 MB string or raw binary bytes in a config cannot flood the terminal.
class InvalidArgument : public InputError {
 public:
  /// @param field the parameter or config field that was wrong (e.g. "alpha")
  /// @param value the offending value, as text
  /// @param expected what a valid value looks like
  InvalidArgument(std::string field, std::string value, const std::string& expected);
  /// The field that was wrong (as printed).
  const std::string& field() const noexcept { return field_; }
  /// The offending value, as printed.
  const std::string& value() const noexcept { return value_; }

 private:
  std::string field_;
  std::string value_;
};

/// A run that cannot continue (e.g. a walker reached the edge of a landscape that cannot grow, a
/// disk that is full): exit code 1. The message is one line.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Formats any streamable value for an error message (10 significant digits).
template <class T>
std::string to_text(const T& v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

/// Throws InvalidArgument(field, value, expected) unless `ok`.
template <class T>
void require(bool ok, const std::string& field, const T& value, const char* expected) {
  if (!ok) throw InvalidArgument(field, to_text(value), expected);
}

/// require() with a composed message (e.g. naming the config file).
template <class T>
void require(bool ok, const std::string& field, const T& value, const std::string& expected) {
  if (!ok) throw InvalidArgument(field, to_text(value), expected);
}

}  // namespace gengap::core
