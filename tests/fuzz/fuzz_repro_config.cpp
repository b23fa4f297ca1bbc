// Fuzzes gengap-repro's experiment configs: a profile resolved from the JSON (merge patch), the kind
// looked up, and its typed config parsed and validated as before a run (training configs included).
#include "fuzz_common.hpp"
#include "gengap/core/json.hpp"
#include "gengap/repro/experiment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = gengap::fuzz::text(data, size);
  gengap::fuzz::expect_refused_or_ok([&] {
    const nlohmann::json raw = gengap::core::parse_json(text, "fuzz.json");
    nlohmann::json c = raw;
    if (raw.is_object() && raw.contains("profiles") && raw["profiles"].is_object() && raw["profiles"].contains("quick")) {
      c.erase("profiles");
      c.merge_patch(raw["profiles"]["quick"]);
    }
    if (!c.is_object() || !c.contains("kind")) return;
    const std::string kind = gengap::core::json_as<std::string>(c["kind"], "kind", "");
    const auto& k = gengap::repro::experiment_kind(kind, "fuzz.json");
    // No data root and an output folder that is never created: the checks only plan.
    k.check(gengap::repro::Context{c, "fuzz.json", "fuzz", "/nonexistent/gengap-fuzz", "", ""});
  });
  return 0;
}
