// gengap-sim fit: a CSV of t, d(t) fitted with every growth model, compared by AIC/BIC.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "gengap/core/io.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct FitParams {
  std::string csv;
  std::string t_column;
  std::string y_column;
  bool samples = false;
  double tmin = 0;
  double tmax = 0;
  double k = 4;
  int bootstrap = 200;
  std::uint64_t seed = 1;
  std::string json_out;
  std::string claim;   // "" or "log-time"
  LogTimeRule rule;
};

std::size_t column_index(const std::vector<std::string>& names, const std::string& want, std::size_t fallback, const char* field) {
  if (want.empty()) {
    require(fallback < names.size(), field, names.size(), "the CSV has too few columns");
    return fallback;
  }
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == want) return i;
  throw InvalidArgument(field, want, "no such column in the CSV header");
}

void validate(const FitParams& p) {
  require(!p.csv.empty(), "csv", "(none)", "give the CSV file to fit");
  require(p.k > 0 && p.k <= 1000, "fixed_k", p.k, "must lie in (0, 1000]");
  require(std::isfinite(p.tmin), "tmin", p.tmin, "must be finite");
  require(std::isfinite(p.tmax) && p.tmax >= 0, "tmax", p.tmax, "must be finite and >= 0 (0 = no limit)");
  require(p.tmax == 0 || p.tmax > p.tmin, "tmax", p.tmax, "must be > tmin (or 0 = no limit)");
  require(p.bootstrap >= 10 && p.bootstrap <= 100000, "bootstrap", p.bootstrap, "must be in [10, 100000]");
  require(p.claim.empty() || p.claim == "log-time", "claim", p.claim, "expected log-time");
  if (!p.claim.empty()) {
    require(p.samples, "claim", p.claim, "needs --samples (one column per run: the decision's interval is over runs)");
    require(p.rule.k_min > 0 && std::isfinite(p.rule.k_min), "k_min", p.rule.k_min, "must be finite and > 0");
    require(p.rule.k_max > p.rule.k_min && std::isfinite(p.rule.k_max), "k_max", p.rule.k_max, "must be finite and > k_min (" + to_text(p.rule.k_min) + ")");
    require(p.rule.level > 0 && p.rule.level < 1, "level", p.rule.level, "must lie in (0, 1)");
    require(p.rule.min_window_ratio > 1 && std::isfinite(p.rule.min_window_ratio), "min_window_ratio", p.rule.min_window_ratio,
            "must be finite and > 1");
  } else {
    // The rule's options mean nothing without a claim: refused rather than silently ignored.
    const LogTimeRule d;
    require(p.rule.k_max == d.k_max, "k_max", p.rule.k_max, "is an option of --claim log-time; give the claim too");
    require(p.rule.k_min == d.k_min, "k_min", p.rule.k_min, "is an option of --claim log-time; give the claim too");
    require(p.rule.min_window_ratio == d.min_window_ratio, "min_window_ratio", p.rule.min_window_ratio,
            "is an option of --claim log-time; give the claim too");
    require(p.rule.level == d.level, "level", p.rule.level, "is an option of --claim log-time; give the claim too");
  }
  core::check_output_file("json", p.json_out);
  core::check_distinct_paths({{"csv", p.csv}, {"json", p.json_out}});
}

}  // namespace

FitInput select_fit_input(const core::CsvTable& table, const std::string& t_column, const std::string& y_column, bool samples,
                          double tmin, double tmax) {
  const auto& names = table.names;
  const auto& cols = table.cols;
  FitInput in;
  in.t_index = column_index(names, t_column, 0, "t_column");
  std::vector<std::size_t> yi;
  if (samples) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (i != in.t_index) yi.push_back(i);
    require(yi.size() >= 2, "samples", yi.size(), "--samples needs at least 2 value columns");
  } else {
    // A walk's CSV (t, mean_x, msd, ...): the quantity the models describe is msd, not the first column.
    const bool walk_csv = y_column.empty() && std::find(names.begin(), names.end(), "msd") != names.end();
    yi.push_back(column_index(names, walk_csv ? std::string("msd") : y_column, in.t_index == 0 ? 1 : 0, "y_column"));
  }
  for (std::size_t r = 1; r < cols[in.t_index].size(); ++r) {
    require(cols[in.t_index][r] > cols[in.t_index][r - 1], names[in.t_index], cols[in.t_index][r],
            "the time column must increase from row to row (row " + std::to_string(r + 1) + " is not above row " + std::to_string(r) + ")");
  }
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < cols[in.t_index].size(); ++r) {
    const double tt = cols[in.t_index][r];
    if (tt < tmin || (tmax > 0 && tt > tmax) || tt <= 1) continue;
    in.t.push_back(tt);
    rows.push_back(r);
  }
  require(in.t.size() >= 4, "csv", std::to_string(in.t.size()) + " usable rows",
          "need at least 4 rows with t > 1 inside [tmin, tmax]");
  in.values.resize(static_cast<Eigen::Index>(yi.size()), static_cast<Eigen::Index>(rows.size()));
  for (std::size_t c = 0; c < yi.size(); ++c)
    for (std::size_t r = 0; r < rows.size(); ++r) in.values(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(r)) = cols[yi[c]][rows[r]];
  return in;
}

namespace {
/// The result document of fitting `table` (what --json writes); the fits, best first, in `fits_out`.
json document(const FitParams& p, const core::CsvTable& table, std::vector<FitResult>* fits_out = nullptr) {
  const FitInput in = select_fit_input(table, p.t_column, p.y_column, p.samples, p.tmin, p.tmax);
  json j;
  j["input"] = {{"csv", p.csv}, {"t_column", table.names[in.t_index]}, {"points", in.t.size()}, {"tmin", p.tmin}, {"tmax", p.tmax}};
  std::vector<FitResult> fits;
  if (p.samples) {
    const auto b = bootstrap_fits(in.t, in.values, p.bootstrap, 0.95, p.seed, p.k);
    j["models"] = b;
    fits = b.fits;
  } else {
    const Eigen::VectorXd y = in.values.row(0).transpose();
    fits = compare_models(in.t, std::vector<double>(y.data(), y.data() + y.size()), p.k);
    j["models"] = fits;
  }
  j["preferred"] = fits.front().model;
  if (p.claim == "log-time") {
    const double t1 = p.tmax > 0 ? p.tmax : in.t.back();
    const LogTimeDecision d = decide_log_time(in.t, in.values, in.t.front(), t1, p.rule);
    j["claim"] = d;
    j["claim"]["rule"] = {{"k_max", p.rule.k_max}, {"k_min", p.rule.k_min}, {"min_window_ratio", p.rule.min_window_ratio},
                          {"level", p.rule.level}, {"min_samples", p.rule.min_samples}, {"min_points", p.rule.min_points}};
  }
  if (fits_out) *fits_out = fits;
  return j;
}

int run(const FitParams& p) {
  std::vector<FitResult> fits;
  const json j = document(p, core::read_csv(p.csv), &fits);
  if (j.contains("claim")) {
    std::string v = j["claim"]["verdict"].get<std::string>();
    for (auto& ch : v) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    std::cout << "log-time: " << v << ": " << j["claim"]["reason"].get<std::string>() << '\n';
  }
  std::cout << std::left << std::setw(11) << "model" << std::setw(12) << "AIC" << std::setw(12) << "BIC" << "parameters\n";
  for (const auto& f : fits) {
    std::cout << std::setw(11) << f.model << std::setw(12) << std::setprecision(6) << f.aic << std::setw(12) << f.bic;
    for (std::size_t i = 0; i < f.names.size(); ++i) std::cout << f.names[i] << '=' << f.params[i] << ' ';
    if (!f.at_bound.empty()) {
      std::cout << "[at the search bound, not an estimate:";
      for (const auto& b : f.at_bound) std::cout << ' ' << b;
      std::cout << ']';
    }
    std::cout << '\n';
  }
  if (!p.json_out.empty()) core::write_file_atomic(p.json_out, j.dump(2) + "\n");
  return 0;
}
}  // namespace

Command fit_command() {
  return {"fit", "fit a CSV of t, d(t) with every growth model and compare them", [](cli::Options& o) {
            auto p = std::make_shared<FitParams>();
            o.add("csv", "csv", p->csv, "CSV file with a time column and one or more value columns");
            o.add("--t-column", "t_column", p->t_column, "name of the time column (default: the first)");
            o.add("--y-column", "y_column", p->y_column, "name of the value column (default: msd when the CSV has one, as a walk's does; else the second)");
            o.flag("--samples", "samples", p->samples,
                   "every column but t is one sample (seed/environment): fit the mean, bootstrap over columns");
            o.add("--tmin", "tmin", p->tmin, "fit only t >= tmin");
            o.add("--tmax", "tmax", p->tmax, "fit only t <= tmax (0 = no limit)");
            o.add("-k,--fixed-k", "fixed_k", p->k, "exponent of the log-fixed model y = (A (ln t - c))^k");
            o.add("--bootstrap", "bootstrap", p->bootstrap, "bootstrap resamples with --samples");
            o.add("-s,--seed", "seed", p->seed, "bootstrap seed");
            o.add("--json", "json", p->json_out, "write the comparison as JSON here");
            o.add("--claim", "claim", p->claim, "decide a claim on the data: log-time (needs --samples; window [tmin, tmax])");
            o.add("--k-max", "k_max", p->rule.k_max, "log-time: the claim's family A (ln t - c)^k has k <= k_max (a power of t is k = infinity)");
            o.add("--k-min", "k_min", p->rule.k_min, "log-time: growth slower than (ln t)^k_min at the window's end counts as saturation");
            o.add("--min-window-ratio", "min_window_ratio", p->rule.min_window_ratio, "log-time: tmax/tmin must reach this");
            o.add("--level", "level", p->rule.level, "log-time: level of the Student-t intervals over runs");
            auto compute = [p](const RunHooks& h) {
              require(h.table != nullptr, "csv", p->csv, "in-process fits take their table from the caller (RunHooks::table)");
              return document(*p, *h.table);
            };
            return Action{[p] { validate(*p); }, [p] { return run(*p); }, compute, {}, {}, {}};
          }};
}

}  // namespace gengap::sim::app
