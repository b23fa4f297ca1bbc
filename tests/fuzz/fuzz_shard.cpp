// Fuzzes the shard files of gengap-sim merge: a document (its checksum recomputed, so that the fuzzer
// gets past it) checked as a one-shard set, and every binary array in its data decoded.
#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "gengap/core/json.hpp"
#include "shard.hpp"

namespace {
using nlohmann::json;
namespace app = gengap::sim::app;

void decode_all(const json& j, int depth) {
  if (depth > 8) return;
  if (j.is_object() && j.contains("type") && j.contains("base64")) {
    const std::string type = j["type"].is_string() ? j["type"].get<std::string>() : "";
    if (type == "i32") (void)app::decode_int32(j, "a");
    else if (type == "i64") (void)app::decode_int64(j, "a");
    else (void)app::decode_doubles(j, "a");
    return;
  }
  if (j.is_object() && j.contains("rows") && j.contains("cols") && j["rows"].is_number_integer() && j["cols"].is_number_integer()) {
    const auto r = j["rows"].get<std::int64_t>(), c = j["cols"].get<std::int64_t>();
    if (r >= 0 && c >= 0 && r <= 4096 && c <= 4096) {
      (void)app::decode_matrix(j, "m", r, c);
      (void)app::decode_int64_matrix(j, "m", r, c);
    }
    return;
  }
  if (j.is_structured())
    for (const auto& v : j) decode_all(v, depth + 1);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = gengap::fuzz::text(data, size);
  gengap::fuzz::expect_refused_or_ok([&] {
    json doc = gengap::core::parse_json(text, "fuzz.shard");
    if (doc.is_object()) {
      doc.erase("checksum");
      doc["checksum"] = app::shard_checksum(doc);
    }
    gengap::fuzz::expect_refused_or_ok([&] { (void)app::check_shards({{"fuzz.shard", doc}}); });
    if (doc.is_object() && doc.contains("data")) decode_all(doc["data"], 0);
  });
  gengap::fuzz::expect_refused_or_ok([&] { (void)app::parse_shard(text.substr(0, 64)); });  // --shard I/N as typed
  return 0;
}
