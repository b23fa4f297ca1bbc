// Fuzzes the CSV reader of `gengap-sim fit` and what it feeds: column selection and the model
// comparison on whatever finite numbers come out.
#include "commands.hpp"
#include "fuzz_common.hpp"
#include "gengap/core/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = gengap::fuzz::text(data, size);
  gengap::fuzz::expect_refused_or_ok([&] {
    const gengap::core::CsvTable t = gengap::core::parse_csv(text, "fuzz.csv");
    for (const auto& c : t.cols)
      if (c.size() != t.cols.front().size()) __builtin_trap();
    const auto in = gengap::sim::app::select_fit_input(t, "", "", false, 0, 0);
    if (in.t.size() > 64) return;  // the fit itself is the library's; keep each input quick
    const Eigen::VectorXd y = in.values.row(0).transpose();
    (void)gengap::sim::compare_models(in.t, std::vector<double>(y.data(), y.data() + y.size()), 4.0);
  });
  return 0;
}
