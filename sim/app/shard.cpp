// Shard files: ids, ranges, exact binary arrays, checksums and the checks of gengap-sim merge.
#include "shard.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <set>

#include "gengap/core/error.hpp"
#include "gengap/core/hash.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;
using core::InvalidArgument;

static_assert(sizeof(double) == 8 && CHAR_BIT == 8, "shard arrays hold IEEE doubles");

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool little_endian() {
  const std::uint16_t one = 1;
  unsigned char b = 0;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

std::string base64(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t a = p[i], b = i + 1 < n ? p[i + 1] : 0, c = i + 2 < n ? p[i + 2] : 0;
    const std::uint32_t v = (a << 16) | (b << 8) | c;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < n ? kB64[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kB64[v & 63] : '=';
  }
  return out;
}

std::vector<unsigned char> unbase64(const std::string& s, const std::string& what) {
  if (s.size() % 4 != 0) throw InvalidArgument(what, std::to_string(s.size()) + " characters", "is not base64 (damaged shard)");
  int table[256];
  std::fill(std::begin(table), std::end(table), -1);
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kB64[i])] = i;
  std::vector<unsigned char> out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char ch = s[i + static_cast<std::size_t>(k)];
      if (ch == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      v[k] = table[static_cast<unsigned char>(ch)];
      if (v[k] < 0 || pad > 0) throw InvalidArgument(what, "character " + std::to_string(i + static_cast<std::size_t>(k)), "is not base64 (damaged shard)");
    }
    const std::uint32_t w = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                            (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<unsigned char>(w >> 16));
    if (pad < 2) out.push_back(static_cast<unsigned char>((w >> 8) & 255));
    if (pad < 1) out.push_back(static_cast<unsigned char>(w & 255));
  }
  return out;
}

template <class T>
json encode(const T* p, std::size_t n, const char* type) {
  if (!little_endian()) throw std::runtime_error("shard files are written on little-endian machines only");
  return json{{"type", type}, {"n", n}, {"base64", base64(reinterpret_cast<const unsigned char*>(p), n * sizeof(T))}};
}

template <class T>
std::vector<T> decode(const json& j, const std::string& what, const char* type, std::size_t n) {
  if (!little_endian()) throw std::runtime_error("shard files are read on little-endian machines only");
  if (!j.is_object() || !j.contains("type") || !j.contains("n") || !j.contains("base64") || !j["base64"].is_string() ||
      !j["n"].is_number_unsigned())
    throw InvalidArgument(what, core::json_excerpt(j), "expected {\"type\", \"n\", \"base64\"} (damaged shard)");
  if (j["type"] != type) throw InvalidArgument(what + ".type", core::json_excerpt(j["type"]), std::string("expected \"") + type + "\"");
  const auto count = j["n"].get<std::uint64_t>();
  if (n != SIZE_MAX && count != n)
    throw InvalidArgument(what + ".n", std::to_string(count), "expected " + std::to_string(n) + " values (the run's parameters give that many)");
  const std::vector<unsigned char> bytes = unbase64(j["base64"].get<std::string>(), what);
  if (bytes.size() % sizeof(T) != 0 || bytes.size() / sizeof(T) != count)  // no count * size: it could overflow
    throw InvalidArgument(what, std::to_string(bytes.size()) + " bytes",
                          "expected " + std::to_string(count) + " values of " + std::to_string(sizeof(T)) + " bytes (damaged shard)");
  std::vector<T> v(count);
  if (count > 0) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

std::string hex64(std::uint64_t h) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[static_cast<std::size_t>(i)] = digits[h & 15];
  return s;
}

std::string checksum_of(const json& doc_without_checksum) { return "fnv1a64:" + hex64(core::fnv1a64(doc_without_checksum.dump())); }

/// A field of a shard document, or a one-line refusal naming the shard.
const json& field(const json& doc, const std::string& key, const std::string& name) {
  if (!doc.contains(key)) throw InvalidArgument(name, "(no " + key + ")", "is not a complete gengap-sim shard: the field " + key + " is missing");
  return doc[key];
}

}  // namespace

std::string shard_checksum(const json& doc_without_checksum) { return checksum_of(doc_without_checksum); }

ShardSpec parse_shard(const std::string& text) {
  ShardSpec s;
  if (text.empty()) return s;
  const auto slash = text.find('/');
  auto number = [&](const std::string& part) -> std::uint64_t {
    if (part.empty() || part.size() > 7 || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (part.size() > 1 && part[0] == '0'))
      throw InvalidArgument("shard", core::printable(text, 40), "expected I/N with whole numbers 0 <= I < N (e.g. 2/8)");
    return std::stoull(part);
  };
  if (slash == std::string::npos) throw InvalidArgument("shard", core::printable(text, 40), "expected I/N with whole numbers 0 <= I < N (e.g. 2/8)");
  const std::uint64_t i = number(text.substr(0, slash)), n = number(text.substr(slash + 1));
  if (n < 1 || n > (1u << 20)) throw InvalidArgument("shard", text, "the count N must lie in [1, 2^20]");
  if (i >= n) throw InvalidArgument("shard", text, "the index I must lie in [0, N - 1] (shards are numbered from 0)");
  s.index = static_cast<std::uint32_t>(i);
  s.count = static_cast<std::uint32_t>(n);
  return s;
}

std::pair<std::uint32_t, std::uint32_t> shard_range(const ShardSpec& s, std::uint32_t items) {
  if (!s.active()) return {0, items};
  const auto lo = static_cast<std::uint32_t>(std::uint64_t{s.index} * items / s.count);
  const auto hi = static_cast<std::uint32_t>((std::uint64_t{s.index} + 1) * items / s.count);
  return {lo, hi};
}

void require_shardable(const ShardSpec& s, std::uint64_t items, const std::string& field) {
  if (s.active() && s.count > items)
    throw InvalidArgument("shard", s.text(),
                          "more shards than " + field + " (" + std::to_string(items) + "): a shard would compute nothing");
}

void add_shard_option(cli::Options& opts, std::string& shard) {
  opts.add("--shard", "shard", shard,
           "compute only shard I/N of the run (a contiguous block of its environments) and write a shard file to --json; "
           "gengap-sim merge joins the N shards into this run's exact output");
}

bool is_run_setting(const std::string& key) {
  static const std::set<std::string> keys{"json", "csv", "quiet", "threads", "shard", "simd"};
  return keys.count(key) > 0;
}

std::string build_target() {
  std::string s =
#if defined(__x86_64__)
      "x86-64";
#elif defined(__aarch64__)
      "aarch64";
#else
      "other";
#endif
#if defined(__AVX512F__)
  s += " avx512";
#endif
#if defined(__AVX2__)
  s += " avx2";
#endif
#if defined(__FMA__)
  s += " fma";
#endif
  return s;
}

json encode_array(const std::vector<double>& v) { return encode(v.data(), v.size(), "f64"); }
json encode_array(const std::vector<std::int32_t>& v) { return encode(v.data(), v.size(), "i32"); }
json encode_array(const std::vector<std::int64_t>& v) { return encode(v.data(), v.size(), "i64"); }

json encode_matrix(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v[static_cast<std::size_t>(i * m.cols() + c)] = m(i, c);
  return json{{"rows", m.rows()}, {"cols", m.cols()}, {"data", encode_array(v)}};
}

json encode_matrix(const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>& m) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v[static_cast<std::size_t>(i * m.cols() + c)] = m(i, c);
  return json{{"rows", m.rows()}, {"cols", m.cols()}, {"data", encode_array(v)}};
}

std::vector<double> decode_doubles(const json& j, const std::string& what, std::size_t n) { return decode<double>(j, what, "f64", n); }
std::vector<std::int32_t> decode_int32(const json& j, const std::string& what, std::size_t n) { return decode<std::int32_t>(j, what, "i32", n); }
std::vector<std::int64_t> decode_int64(const json& j, const std::string& what, std::size_t n) { return decode<std::int64_t>(j, what, "i64", n); }

namespace {
void check_shape(const json& j, const std::string& what, Eigen::Index rows, Eigen::Index cols) {
  if (!j.is_object() || !j.contains("rows") || !j.contains("cols") || !j.contains("data") || !j["rows"].is_number_integer() ||
      !j["cols"].is_number_integer())
    throw InvalidArgument(what, core::json_excerpt(j), "expected {\"rows\", \"cols\", \"data\"} (damaged shard)");
  if (j["rows"].get<std::int64_t>() != rows || j["cols"].get<std::int64_t>() != cols)
    throw InvalidArgument(what, std::to_string(j["rows"].get<std::int64_t>()) + " x " + std::to_string(j["cols"].get<std::int64_t>()),
                          "expected " + std::to_string(rows) + " x " + std::to_string(cols) + " (the run's parameters give that shape)");
}
}  // namespace

Eigen::MatrixXd decode_matrix(const json& j, const std::string& what, Eigen::Index rows, Eigen::Index cols) {
  check_shape(j, what, rows, cols);
  const std::vector<double> v = decode_doubles(j["data"], what + ".data", static_cast<std::size_t>(rows * cols));
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index c = 0; c < cols; ++c) m(i, c) = v[static_cast<std::size_t>(i * cols + c)];
  return m;
}

Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> decode_int64_matrix(const json& j, const std::string& what, Eigen::Index rows,
                                                                              Eigen::Index cols) {
  check_shape(j, what, rows, cols);
  const std::vector<std::int64_t> v = decode_int64(j["data"], what + ".data", static_cast<std::size_t>(rows * cols));
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index c = 0; c < cols; ++c) m(i, c) = v[static_cast<std::size_t>(i * cols + c)];
  return m;
}

json shard_document(const std::string& command, const json& run, const ShardSpec& spec, std::uint32_t begin, std::uint32_t end, json data) {
  json doc;
  doc["format"] = kShardFormat;
  doc["program"] = kProgramVersion;
  doc["build"] = build_target();
  doc["command"] = command;
  doc["run"] = run;
  doc["shard"] = {{"index", spec.index}, {"count", spec.count}, {"begin", begin}, {"end", end}};
  doc["data"] = std::move(data);
  doc["checksum"] = checksum_of(doc);
  return doc;
}

ShardSet check_shards(const std::vector<std::pair<std::string, json>>& docs) {
  if (docs.empty()) throw InvalidArgument("shards", "(none)", "name the shard files of one run");
  ShardSet set;
  std::map<std::uint32_t, std::size_t> by_index;
  std::string first_name;
  std::string program;
  for (std::size_t k = 0; k < docs.size(); ++k) {
    const std::string& name = docs[k].first;
    json doc = docs[k].second;
    if (!doc.is_object() || !doc.contains("format") || doc["format"] != kShardFormat)
      throw InvalidArgument(name, doc.is_object() && doc.contains("format") ? core::json_excerpt(doc["format"]) : "(no format)",
                            std::string("is not a gengap-sim shard (format ") + kShardFormat + ")");
    const json sum = field(doc, "checksum", name);
    doc.erase("checksum");
    if (!sum.is_string() || sum.get<std::string>() != checksum_of(doc))
      throw InvalidArgument(name, "checksum", "does not match the shard's contents: the file is damaged or was edited");
    const std::string command = field(doc, "command", name).is_string() ? doc["command"].get<std::string>() : "";
    const json& run = field(doc, "run", name);
    const json& sh = field(doc, "shard", name);
    const json& prog = field(doc, "program", name);
    (void)field(doc, "data", name);
    if (!sh.is_object() || !sh.contains("index") || !sh.contains("count") || !sh.contains("begin") || !sh.contains("end") ||
        !sh["index"].is_number_unsigned() || !sh["count"].is_number_unsigned() || !sh["begin"].is_number_unsigned() ||
        !sh["end"].is_number_unsigned())
      throw InvalidArgument(name + ": shard", core::json_excerpt(sh), "expected {index, count, begin, end}");
    const auto index = sh["index"].get<std::uint64_t>(), count = sh["count"].get<std::uint64_t>();
    if (k == 0) {
      first_name = name;
      set.command = command;
      set.run = run;
      set.count = static_cast<std::uint32_t>(count);
      program = prog.is_string() ? prog.get<std::string>() : "";
      if (count < 1 || count > (1u << 20)) throw InvalidArgument(name + ": shard.count", std::to_string(count), "must lie in [1, 2^20]");
    } else {
      if (command != set.command)
        throw InvalidArgument(name + ": command", command, "differs from " + first_name + "'s " + set.command + " (shards of different runs)");
      if (prog != program) throw InvalidArgument(name + ": program", core::json_excerpt(prog), "differs from " + first_name + "'s " + program);
      if (run != set.run) {
        for (const auto& [key, value] : run.items())
          if (!set.run.contains(key) || set.run[key] != value)
            throw InvalidArgument(name + ": run." + key, core::json_excerpt(value),
                                  "differs from " + first_name + "'s " + (set.run.contains(key) ? core::json_excerpt(set.run[key]) : "(none)") +
                                      " (shards of different runs)");
        throw InvalidArgument(name + ": run", core::json_excerpt(run), "differs from " + first_name + "'s (shards of different runs)");
      }
      if (count != set.count)
        throw InvalidArgument(name + ": shard.count", std::to_string(count), "differs from " + first_name + "'s " + std::to_string(set.count));
    }
    if (program != kProgramVersion)
      throw InvalidArgument(name + ": program", program, std::string("made by another version; this is ") + kProgramVersion +
                                                              " (merge with the version that made the shards)");
    if (index >= count) throw InvalidArgument(name + ": shard.index", std::to_string(index), "must be < shard.count = " + std::to_string(count));
    const auto idx = static_cast<std::uint32_t>(index);
    if (by_index.count(idx))
      throw InvalidArgument(name + ": shard.index", std::to_string(index), "appears twice (also in " + docs[by_index[idx]].first + ")");
    by_index[idx] = k;
  }
  if (by_index.size() != set.count) {
    std::string missing;
    int shown = 0;
    for (std::uint32_t i = 0; i < set.count && shown < 8; ++i)
      if (!by_index.count(i)) {
        missing += (missing.empty() ? "" : ", ") + std::to_string(i);
        ++shown;
      }
    throw InvalidArgument("shards", std::to_string(by_index.size()) + " of " + std::to_string(set.count),
                          "shard(s) " + missing + (set.count - by_index.size() > 8 ? ", ..." : "") + " of " + std::to_string(set.count) +
                              " missing");
  }
  for (const auto& [index, k] : by_index) {
    const json& doc = docs[k].second;
    set.names.push_back(docs[k].first);
    set.data.push_back(doc["data"]);
    set.ranges.emplace_back(doc["shard"]["begin"].get<std::uint32_t>(), doc["shard"]["end"].get<std::uint32_t>());
    set.builds.push_back(doc.contains("build") && doc["build"].is_string() ? doc["build"].get<std::string>() : "");
  }
  return set;
}

json parse_shard_text(const std::string& text, const std::string& name) {
  try {
    return core::parse_json(text, name);
  } catch (const core::InputError& e) {
    throw InvalidArgument(name, "(not JSON)", std::string("is not a complete shard (truncated or damaged): ") + e.what());
  }
}

ShardSet read_shards(const std::vector<std::string>& files) {
  std::vector<std::pair<std::string, json>> docs;
  for (const std::string& f : files) docs.emplace_back(f, parse_shard_text(core::read_file(f, "shards", std::uint64_t{1} << 34), f));
  return check_shards(docs);
}

void require_same_run(const ShardSet& set, const json& run, const std::vector<std::string>& keys, const std::string& what) {
  for (const std::string& k : keys) {
    const json have = set.run.contains(k) ? set.run[k] : json();
    const json want = run.contains(k) ? run[k] : json();
    if (have != want)
      throw InvalidArgument(what + ": run." + k, core::json_excerpt(have),
                            "in the shards (" + set.names.front() + ", ...), but the config asks for " + core::json_excerpt(want));
  }
}

}  // namespace gengap::sim::app
