// Strict JSON parsing and the config-object reader.
#include "gengap/core/json.hpp"

#include <vector>

#include "gengap/core/io.hpp"

namespace gengap::core {
using nlohmann::json;

namespace detail {
void bad_json_value(const std::string& field, const json& v, const std::string& expected, const std::string& where) {
  throw InvalidArgument(field, json_excerpt(v), expected + (where.empty() ? std::string() : " " + where));
}
}  // namespace detail

std::string json_excerpt(const json& v, std::size_t max_chars) {
  // Structured values are summarized, never dumped whole: a value nested 10^5 deep (possible in a
  // json built by code, not by parse_json) would exhaust the stack in a recursive dump.
  if (v.is_array()) {
    std::string s = "[";
    std::size_t n = 0;
    for (const auto& e : v) {
      if (s.size() > max_chars || n == 8) {
        s += ", ... (" + std::to_string(v.size()) + " elements)";
        break;
      }
      if (n++ > 0) s += ", ";
      s += e.is_structured() ? (e.is_array() ? std::string("[...]") : std::string("{...}")) : e.dump();
    }
    return printable(s + "]", max_chars + 40);
  }
  if (v.is_object()) {
    std::string s = "{";
    std::size_t n = 0;
    for (const auto& [k, e] : v.items()) {
      if (s.size() > max_chars || n == 8) {
        s += ", ... (" + std::to_string(v.size()) + " keys)";
        break;
      }
      if (n++ > 0) s += ", ";
      s += json(k).dump() + ": " + (e.is_structured() ? (e.is_array() ? std::string("[...]") : std::string("{...}")) : e.dump());
    }
    return printable(s + "}", max_chars + 40);
  }
  return printable(v.dump(), max_chars);
}

json parse_json(std::string_view text, const std::string& where) {
  // A raw NUL byte ends nlohmann's input early: whatever follows (a refused field) would be ignored.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw InvalidArgument("config", where, "malformed JSON (a NUL byte at offset " + std::to_string(nul) + ")");
  }
  // Duplicate keys: nlohmann keeps the last silently; track the keys of every open object.
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    // Deep nesting: refused while parsing (nothing downstream recurses more than kMaxJsonDepth).
    if (depth > kMaxJsonDepth) {
      throw InvalidArgument("config", where, "malformed JSON (nested deeper than " + std::to_string(kMaxJsonDepth) + " levels)");
    }
    switch (ev) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default:
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> from "line" on.
    const auto at = what.find("at line");
    if (at != std::string::npos) what = what.substr(at + 3);
    throw InvalidArgument("config", where, "malformed JSON (" + printable(what, 200) + ")");
  }
  if (!duplicate.empty()) throw InvalidArgument(duplicate, "(given twice)", "duplicate key in " + where);
  return j;
}

json read_json_file(const std::string& path, const std::string& field) {
  return parse_json(read_file(path, field, std::uint64_t{64} << 20), path);
}

ObjectReader::ObjectReader(const json& obj, std::string where, std::string prefix)
    : obj_(obj), where_(std::move(where)), prefix_(std::move(prefix)) {
  if (!obj_.is_object()) {
    const std::string name = prefix_.empty() ? std::string("config") : prefix_.substr(0, prefix_.size() - 1);
    throw InvalidArgument(name, json_excerpt(obj_), "expected a JSON object" + suffix());
  }
}

bool ObjectReader::has(const std::string& key) {
  seen_.insert(key);
  return obj_.contains(key);
}

ObjectReader ObjectReader::child(const std::string& key) {
  seen_.insert(key);
  if (!obj_.contains(key)) throw InvalidArgument(prefix_ + key, "(missing)", "required field" + suffix());
  return ObjectReader(obj_.at(key), where_, prefix_ + key + ".");
}

void ObjectReader::ignore_notes() {
  for (const auto& [k, v] : obj_.items()) {
    const bool note = k == "note" || k == "description" || (k.size() > 5 && k.compare(k.size() - 5, 5, "_note") == 0);
    if (note) seen_.insert(k);
  }
}

void ObjectReader::finish() const {
  for (const auto& [k, v] : obj_.items()) {
    if (seen_.count(k)) continue;
    std::string known;
    for (const auto& s : seen_) known += (known.empty() ? "" : ", ") + s;
    throw InvalidArgument(prefix_ + k, json_excerpt(v), "unknown field" + suffix() + " (known: " + printable(known, 600) + ")");
  }
}

}  // namespace gengap::core
