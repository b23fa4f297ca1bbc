// Fuzzes `gengap-sim collapse`'s input: a walk/exact result (JSON) checked field by field, then its
// curve against T ln t / s compared with itself (curve_overlap).
#include <cmath>

#include "commands.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = gengap::fuzz::text(data, size);
  gengap::fuzz::expect_refused_or_ok([&] {
    const auto in = gengap::sim::app::parse_collapse_input(text, "fuzz.json");
    if (in.msd.size() != in.times.size()) __builtin_trap();
    gengap::sim::Curve a;
    for (std::size_t i = 0; i < in.times.size(); ++i) {
      const double x = in.temperature * std::log(in.times[i]) / in.sigma;
      if (in.times[i] <= 1 || !(in.msd[i] > 0) || !std::isfinite(x)) continue;
      a.x.push_back(x);
      a.y.push_back(in.msd[i]);
    }
    if (a.x.size() >= 2) (void)gengap::sim::curve_overlap({a, a});
  });
  return 0;
}
