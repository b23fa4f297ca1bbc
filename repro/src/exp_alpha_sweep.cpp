// Experiment "alpha_sweep": walks on fBm landscapes for several alpha, the exponent of ln t against 4/alpha.
#include <cmath>
#include <iomanip>
#include <sstream>

#include "common.hpp"
#include "gengap/core/io.hpp"

namespace gengap::repro {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;

struct AlphaSweepConfig {
  std::vector<double> alphas;
  WalkSpec walk;
  double relative_tolerance = 0;

  static AlphaSweepConfig parse(const json& c, const std::string& file) {
    AlphaSweepConfig s;
    core::ObjectReader r(c, in_file(file));
    read_header(r);
    r.required("alphas", s.alphas);
    s.walk.read(r, true);
    core::ObjectReader cl = r.child("claims");
    core::ObjectReader e = cl.child("exponent");
    e.required("relative_tolerance", s.relative_tolerance);
    e.ignore_notes();
    e.finish();
    cl.finish();
    r.finish();
    sim::require(!s.alphas.empty(), "alphas", "[]", "need at least one alpha " + in_file(file));
    sim::require(s.relative_tolerance > 0 && std::isfinite(s.relative_tolerance), "claims.exponent.relative_tolerance",
                 s.relative_tolerance, "must be > 0 " + in_file(file));
    for (double a : s.alphas) s.walk.check(sim::FbmPotential(a, s.walk.sigma));
    return s;
  }
};

json run(const Context& x) {
  const AlphaSweepConfig c = AlphaSweepConfig::parse(x.config, x.file);
  const fs::path& dir = x.dir;
  json out;
  out["alphas"] = json::array();
  out["verdicts"] = json::array();
  const double rel = c.relative_tolerance;
  std::ostringstream summary;
  summary << std::setprecision(8) << "alpha,predicted,k,k_lo,k_hi\n";
  for (double alpha : c.alphas) {
    const sim::FbmPotential pot(alpha, c.walk.sigma);
    const Walk w = walk(pot, c.walk, "fbm walk, alpha = " + fmt(alpha, 3));
    const double pred = sim::predicted_msd_exponent(alpha);
    const auto b = bootstrap(w, pred, c.walk.seed);
    std::size_t mi = 0;
    const auto& f = model(b, "log-free", &mi);
    const double k = f.param("k");
    const auto ci = b.intervals[mi][2];
    write_series_csv(dir / ("series_alpha_" + fmt(alpha, 3) + ".csv"), w.r, 1.0);
    summary << alpha << ',' << pred << ',' << k << ',' << ci.lo << ',' << ci.hi << '\n';
    out["alphas"].push_back({{"alpha", alpha}, {"predicted_k", pred}, {"k", k}, {"k_ci", {ci.lo, ci.hi}}, {"fits", b},
                             {"largest_half_width", w.r.largest_half_width}, {"seconds", w.r.seconds}});
    out["verdicts"].push_back(Verdict{x.name, "<x^2> ~ (ln t)^(4/alpha), alpha = " + fmt(alpha, 3), fmt(pred),
                                      fmt(k) + " [" + fmt(ci.lo) + ", " + fmt(ci.hi) + "]", "rel. " + fmt(rel, 3),
                                      std::abs(k - pred) <= rel * pred});
  }
  core::write_file_atomic((dir / "exponents.csv").string(), summary.str());
  return out;
}

}  // namespace

ExperimentKind alpha_sweep_kind() {
  return {"alpha_sweep", [](const Context& x) { (void)AlphaSweepConfig::parse(x.config, x.file); }, run};
}

}  // namespace gengap::repro
