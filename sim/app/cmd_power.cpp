// gengap-sim power: how often the log-time rule supports, falsifies or leaves undecided curves of
// known families on a window, with the noise of real runs (the power table of the repro page).
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "gengap/core/io.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct PowerParams {
  std::string claim = "log-time";
  PowerConfig c;
  std::string json_out;
  std::string csv_out;
};

void validate(const PowerParams& p) {
  require(p.claim == "log-time", "claim", p.claim, "expected log-time (the only rule with controls so far)");
  const LogTimeRule& r = p.c.rule;
  require(r.k_min > 0 && std::isfinite(r.k_min), "k_min", r.k_min, "must be finite and > 0");
  require(r.k_max > r.k_min && std::isfinite(r.k_max), "k_max", r.k_max, "must be finite and > k_min (" + to_text(r.k_min) + ")");
  require(r.level > 0 && r.level < 1, "level", r.level, "must lie in (0, 1)");
  require(r.min_window_ratio > 1 && std::isfinite(r.min_window_ratio), "min_window_ratio", r.min_window_ratio, "must be finite and > 1");
  require(r.min_points >= 8 && r.min_points <= 100000, "min_points", r.min_points, "must lie in [8, 100000]");
  require(r.min_samples >= 2 && r.min_samples <= 1000, "min_samples", r.min_samples, "must lie in [2, 1000]");
  require(std::isfinite(p.c.t0) && p.c.t0 > 0, "tmin", p.c.t0, "must be finite and > 0");
  require(std::isfinite(p.c.t1) && p.c.t1 > p.c.t0, "tmax", p.c.t1, "must be finite and > tmin (" + to_text(p.c.t0) + ")");
  require(p.c.per_decade >= 1 && p.c.per_decade <= 1000, "per_decade", p.c.per_decade, "must lie in [1, 1000]");
  require(p.c.runs >= 2 && p.c.runs <= 1000, "runs", p.c.runs, "must lie in [2, 1000]");
  require(p.c.draws >= 1 && p.c.draws <= 100000, "draws", p.c.draws, "must lie in [1, 100000]");
  const RunNoise& n = p.c.noise;
  require(n.factor_sd >= 0 && n.factor_sd < 0.5, "factor_sd", n.factor_sd, "must lie in [0, 0.5)");
  require(n.point_sd >= 0 && n.point_sd < 0.5, "point_sd", n.point_sd, "must lie in [0, 0.5)");
  require(n.shape_sd >= 0 && n.shape_sd < 0.5, "shape_sd", n.shape_sd, "must lie in [0, 0.5)");
  require(n.shape_length > 0 && n.shape_length <= 100, "shape_length", n.shape_length, "must lie in (0, 100]");
  const double points = p.c.per_decade * std::log10(p.c.t1 / p.c.t0) + 1;
  require(points <= 20000, "per_decade", p.c.per_decade, "gives " + to_text(points) + " times on the window; at most 20000");
  core::check_output_file("json", p.json_out);
  core::check_output_file("csv", p.csv_out);
  core::check_distinct_paths({{"json", p.json_out}, {"csv", p.csv_out}});
}

json document(const PowerParams& p) {
  const std::vector<PowerCount> rows = log_time_power(p.c);
  const LogTimeRule& r = p.c.rule;
  json j;
  j["parameters"] = {{"claim", p.claim},
                     {"window", {p.c.t0, p.c.t1}},
                     {"decades", std::log10(p.c.t1 / p.c.t0)},
                     {"per_decade", p.c.per_decade},
                     {"runs", p.c.runs},
                     {"noise",
                      {{"factor_sd", p.c.noise.factor_sd},
                       {"point_sd", p.c.noise.point_sd},
                       {"shape_sd", p.c.noise.shape_sd},
                       {"shape_length", p.c.noise.shape_length}}},
                     {"draws", p.c.draws},
                     {"seed", p.c.seed},
                     {"rule",
                      {{"k_max", r.k_max}, {"k_min", r.k_min}, {"level", r.level}, {"min_window_ratio", r.min_window_ratio},
                       {"min_points", r.min_points}, {"min_samples", r.min_samples}}}};
  j["families"] = rows;
  return j;
}

int run(const PowerParams& p) {
  const json j = document(p);
  if (!p.csv_out.empty()) {
    std::ostringstream os;
    os << "family,kind,in_claim,supported,falsified,undecided,draws,median_w\n";
    for (const auto& f : j["families"]) {
      os << '"' << f["family"].get<std::string>() << "\"," << f["kind"].get<std::string>() << ',' << (f["in_claim"].get<bool>() ? 1 : 0) << ','
         << f["supported"] << ',' << f["falsified"] << ',' << f["undecided"] << ',' << f["draws"] << ','
         << (f["median_w"].is_null() ? std::string("") : f["median_w"].dump()) << '\n';
    }
    core::write_file_atomic(p.csv_out, os.str());
  }
  if (!p.json_out.empty()) core::write_file_atomic(p.json_out, j.dump(2) + "\n");
  // The table on stdout: supported / falsified / undecided per family.
  std::ostringstream t;
  t << "log-time rule on [" << p.c.t0 << ", " << p.c.t1 << "], " << p.c.runs << " runs, noise: factor " << p.c.noise.factor_sd << ", point "
    << p.c.noise.point_sd << ", shape " << p.c.noise.shape_sd << "; " << p.c.draws << " draws per family (supported / falsified / undecided)\n";
  for (const auto& f : j["families"])
    t << (f["in_claim"].get<bool>() ? "  claim    " : "  not      ") << std::left << std::setw(52) << f["family"].get<std::string>()
      << std::right << std::setw(7) << f["supported"].get<int>() << std::setw(7) << f["falsified"].get<int>() << std::setw(7)
      << f["undecided"].get<int>() << '\n';
  std::cout << t.str();
  std::cout.flush();
  require(static_cast<bool>(std::cout), "stdout", "(closed)", "the table could not be written");
  return 0;
}

}  // namespace

Command power_command() {
  return {"power", "the power of the log-time rule on a window: outcomes on curves of known families", [](cli::Options& o) {
            auto p = std::make_shared<PowerParams>();
            o.add("--claim", "claim", p->claim, "the rule: log-time");
            o.add("--tmin", "tmin", p->c.t0, "the window's start (> 0)");
            o.add("--tmax", "tmax", p->c.t1, "the window's end");
            o.add("--per-decade", "per_decade", p->c.per_decade, "recorded times per decade");
            o.add("--runs", "runs", p->c.runs, "runs (seeds) per decision");
            o.add("--factor-sd", "factor_sd", p->c.noise.factor_sd, "sd of a random factor per run");
            o.add("--point-sd", "point_sd", p->c.noise.point_sd, "sd of independent noise per recorded time");
            o.add("--shape-sd", "shape_sd", p->c.noise.shape_sd, "sd of a smooth random shape per run (F1: 0.024)");
            o.add("--shape-length", "shape_length", p->c.noise.shape_length, "its correlation length in ln t");
            o.add("--draws", "draws", p->c.draws, "decisions per family");
            o.add("-s,--seed", "seed", p->c.seed, "seed of the draws");
            o.add("--k-max", "k_max", p->c.rule.k_max, "the rule's k_max (w >= 1/k_max)");
            o.add("--k-min", "k_min", p->c.rule.k_min, "the rule's k_min (w <= 1/k_min)");
            o.add("--level", "level", p->c.rule.level, "the rule's interval level");
            o.add("--min-window-ratio", "min_window_ratio", p->c.rule.min_window_ratio, "the rule's tmax/tmin");
            o.add("--min-points", "min_points", p->c.rule.min_points, "the rule's minimum number of times in the window");
            o.add("--min-samples", "min_samples", p->c.rule.min_samples, "the rule's minimum number of runs");
            o.add("--json", "json", p->json_out, "write the counts as JSON here");
            o.add("--csv", "csv", p->csv_out, "write the counts as CSV here");
            return Action{[p] { validate(*p); }, [p] { return run(*p); }, [p](const RunHooks&) { return document(*p); }, {}, {}, {}};
          }};
}

}  // namespace gengap::sim::app
