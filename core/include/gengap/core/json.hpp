/// @file json.hpp
/// @brief Strict JSON for configs: parsing that refuses duplicate keys and out-of-range numbers,
/// conversions that refuse a fraction for an integer, a negative number for an unsigned one, a value
/// out of range or of another type, and a reader for config objects that refuses unknown keys.
/// Every error is an InvalidArgument naming the field (with its path, e.g. `claims.gap.min_gap_points`),
/// the value and the file.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "gengap/core/error.hpp"

namespace gengap::core {

/// The deepest nesting parse_json() accepts (arrays and objects): deeper documents are refused with
/// one line instead of exhausting the stack of whatever walks them.
inline constexpr int kMaxJsonDepth = 64;

/// A short, printable excerpt of `v` for an error message: scalars as JSON, arrays and objects by
/// their first elements and their size (never a recursive dump). At most about `max_chars` characters.
std::string json_excerpt(const nlohmann::json& v, std::size_t max_chars = 80);

/// Parses JSON text. `where` names the source in errors (a file name). Duplicate keys in an object,
/// numbers beyond the range of a double, malformed text and trailing garbage are InvalidArgument
/// ("config = FILE: ...").
nlohmann::json parse_json(std::string_view text, const std::string& where);

/// read_file() (at most 64 MiB) + parse_json(); `field` names the file in errors (e.g. "config").
nlohmann::json read_json_file(const std::string& path, const std::string& field = "config");

namespace detail {
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
[[noreturn]] void bad_json_value(const std::string& field, const nlohmann::json& v, const std::string& expected,
                                 const std::string& where);
}  // namespace detail

/// Converts JSON value `v` of config field `field` to T, strictly:
/// - bool: only true / false;
/// - std::string: only a string;
/// - integers: a JSON integer, or a number with no fractional part, within T's range (no negative
///   number for an unsigned T);
/// - floating point: any number (JSON has no NaN or infinity);
/// - std::vector<U>: an array, each element converted as U (errors name `field[i]`);
/// - nlohmann::json: anything.
/// `where` is appended to messages (e.g. "in walk.json"; may be empty).
template <class T>
T json_as(const nlohmann::json& v, const std::string& field, const std::string& where) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    return v;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) detail::bad_json_value(field, v, "expected true or false", where);
    return v.get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) detail::bad_json_value(field, v, "expected a string", where);
    return v.get<std::string>();
  } else if constexpr (std::is_integral_v<T>) {
    using L = std::numeric_limits<T>;
    const std::string range = "expected an integer in [" + std::to_string(L::min()) + ", " + std::to_string(L::max()) + "]";
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(L::max())) detail::bad_json_value(field, v, range, where);
      return static_cast<T>(u);
    }
    if (v.is_number_integer()) {
      const auto i = v.get<std::int64_t>();
      if (i < 0 && !L::is_signed) detail::bad_json_value(field, v, range, where);
      if (L::is_signed && (i < static_cast<std::int64_t>(L::min()) || i > static_cast<std::int64_t>(L::max())))
        detail::bad_json_value(field, v, range, where);
      if (!L::is_signed && static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(L::max()))
        detail::bad_json_value(field, v, range, where);
      return static_cast<T>(i);
    }
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (!std::isfinite(d) || d != std::floor(d)) detail::bad_json_value(field, v, range + " (no fractional part)", where);
      // 2^63 and 2^64 are exact in double: compare against them, not against max() (rounded up).
      const double hi = L::is_signed ? std::ldexp(1.0, L::digits) : std::ldexp(1.0, L::digits);
      const double lo = L::is_signed ? -std::ldexp(1.0, L::digits) : 0.0;
      if (d < lo || d >= hi) detail::bad_json_value(field, v, range, where);
      return static_cast<T>(d);
    }
    detail::bad_json_value(field, v, range, where);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) detail::bad_json_value(field, v, "expected a number", where);
    return static_cast<T>(v.get<double>());
  } else if constexpr (detail::is_vector<T>::value) {
    if (!v.is_array()) detail::bad_json_value(field, v, "expected an array", where);
    T out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i)
      out.push_back(json_as<typename T::value_type>(v[i], field + "[" + std::to_string(i) + "]", where));
    return out;
  } else {
    static_assert(sizeof(T) == 0, "json_as: unsupported type");
  }
}

/// Reads the fields of one JSON object into typed variables and, at finish(), refuses every key it
/// was not asked for. Field names in errors carry `prefix` (e.g. "claims.gap.").
///
///     ObjectReader r(j, "in my.json");
///     r.required("environments", cfg.environments);
///     r.optional("seed", cfg.seed);          // keeps the default when absent
///     r.finish();                            // unknown keys: InvalidArgument naming the key
class ObjectReader {
 public:
  /// @param obj must be a JSON object (else InvalidArgument naming `prefix` or "config")
  /// @param where appended to messages, e.g. "in walk.json"
  /// @param prefix prepended to field names, e.g. "claims.gap."
  ObjectReader(const nlohmann::json& obj, std::string where, std::string prefix = "");
  /// Reads `key` into `out`; a missing key is an error.
  template <class T>
  void required(const std::string& key, T& out) {
    seen_.insert(key);
    if (!obj_.contains(key)) throw InvalidArgument(prefix_ + key, "(missing)", "required field" + suffix());
    out = json_as<T>(obj_.at(key), prefix_ + key, where_);
  }
  /// Reads `key` into `out` when present; returns whether it was.
  template <class T>
  bool optional(const std::string& key, T& out) {
    seen_.insert(key);
    if (!obj_.contains(key)) return false;
    out = json_as<T>(obj_.at(key), prefix_ + key, where_);
    return true;
  }
  /// Whether `key` is present (marks it as known).
  bool has(const std::string& key);
  /// A reader for the object under `key` (required).
  ObjectReader child(const std::string& key);
  /// Marks `key` as known without reading it.
  void ignore(const std::string& key) { seen_.insert(key); }
  /// Marks the commentary keys as known: "note", "description" and every key ending in "_note".
  void ignore_notes();
  /// Throws InvalidArgument for the first key that was neither read nor ignored, listing the known ones.
  void finish() const;
  /// The object being read.
  const nlohmann::json& object() const { return obj_; }

 private:
  std::string suffix() const { return where_.empty() ? std::string() : " " + where_; }
  const nlohmann::json& obj_;
  std::string where_, prefix_;
  std::set<std::string> seen_;
};

}  // namespace gengap::core
