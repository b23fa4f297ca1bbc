// Fuzzes the JSON configs of every gengap-sim subcommand: parsed strictly and validated (sizes,
// memory, values) exactly as `gengap-sim NAME --config FILE` does before any work. Input: one byte
// choosing the subcommand, then the JSON text.
#include "commands.hpp"
#include "fuzz_common.hpp"
#include "gengap/core/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto& cmds = gengap::sim::app::commands();
  const std::string name = cmds[data[0] % cmds.size()].name;
  const std::string text = gengap::fuzz::text(data + 1, size - 1);
  gengap::fuzz::expect_refused_or_ok([&] {
    nlohmann::json j = gengap::core::parse_json(text, "fuzz.json");
    // No files: outputs would be checked by creating them (a fuzzer must not write where it likes).
    if (j.is_object()) {
      j.erase("json");
      j.erase("csv");
    }
    gengap::sim::app::check_config(name, j, "fuzz.json");
  });
  return 0;
}
