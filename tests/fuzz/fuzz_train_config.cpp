// Fuzzes gengap-train's JSON config: strict parsing (core::parse_json, apply_json) and validate(),
// what the trainer runs before it touches any file.
#include "fuzz_common.hpp"
#include "gengap/core/json.hpp"
#include "gengap/train/trainer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = gengap::fuzz::text(data, size);
  gengap::fuzz::expect_refused_or_ok([&] {
    gengap::train::TrainConfig c;
    gengap::train::apply_json(gengap::core::parse_json(text, "fuzz.json"), c, "in fuzz.json");
    c.validate();
    // A checkpoint's config is compared field by field on resume: any parsed config must compare.
    (void)gengap::train::resume_mismatches(c, nlohmann::json(c));
  });
  return 0;
}
