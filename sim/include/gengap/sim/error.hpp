/// @file error.hpp
/// @brief Errors raised by gengap::sim for invalid input: they name the field, the value and what was expected.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace gengap::sim {

/// Invalid user input (a parameter, a config field, a data file).
///
/// The message is one line: `<field> = <value>: <what was expected>`, so a CLI can print it
/// as-is and exit with code 2. Example: `temperature = -1: must be > 0`.
class InvalidArgument : public std::invalid_argument {
 public:
  /// @param field the parameter or config field that was wrong (e.g. "alpha")
  /// @param value the offending value, as text
  /// @param expected what a valid value looks like
  InvalidArgument(std::string field, std::string value, const std::string& expected)
      : std::invalid_argument(field + " = " + value + ": " + expected),
        field_(std::move(field)),
        value_(std::move(value)) {}
  /// The field that was wrong.
  const std::string& field() const noexcept { return field_; }
  /// The offending value, as text.
  const std::string& value() const noexcept { return value_; }

 private:
  std::string field_;
  std::string value_;
};

/// A run that cannot continue (e.g. a walker reached the edge of a landscape that cannot grow).
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Formats any streamable value for an error message.
template <class T>
std::string to_text(const T& v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

/// Throws InvalidArgument(field, value, expected) unless `ok`.
template <class T>
void require(bool ok, const char* field, const T& value, const char* expected) {
  if (!ok) throw InvalidArgument(field, to_text(value), expected);
}

/// require() with a composed message (e.g. naming the config file).
template <class T>
void require(bool ok, const char* field, const T& value, const std::string& expected) {
  if (!ok) throw InvalidArgument(field, to_text(value), expected);
}

}  // namespace gengap::sim
