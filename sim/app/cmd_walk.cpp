// gengap-sim walk: an ensemble of walkers on random potentials; JSON + CSV out.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct WalkParams {
  PotentialParams pot;
  std::string dynamics = "metropolis";
  double temperature = 1.0;
  std::int64_t environments = 1000;
  std::int64_t walkers = 1;
  std::int64_t t_max = 100000;
  int per_decade = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string simd = "auto";
  std::int64_t half_width = 0;
  std::int64_t max_half_width = std::int64_t{1} << 26;
  std::vector<double> quantiles{0.05, 0.25, 0.5, 0.75, 0.95};
  bool positions = false;
  double fit_tmin = 10;
  int bootstrap = 200;
  std::string json_out, csv_out;
  bool quiet = false;
  std::string shard;
};

json fit_section(const EnsembleResult& r, double tmin, int resamples, std::uint64_t seed, double fixed_k, bool sinai) {
  const FitWindow w = fit_window(r.times, r.msd, r.env_msd, tmin);
  if (w.t.size() < 4) return json{{"skipped", "fewer than 4 times >= fit_tmin with <x^2> > 0"}};
  json out;
  out["tmin"] = tmin;
  out["fixed_k"] = fixed_k;
  const BootstrapFits b = fit_window_models(w, resamples, 0.95, seed, fixed_k);
  const std::size_t m = model_index(b.fits, "log-fixed");
  const double s2 = r.sigma2, a = b.fits[m].param("A");
  if (b.resamples > 0) {
    out["models"] = b;
    out["bootstrap_resamples"] = resamples;
    if (sinai) {
      const auto& ci = b.intervals[m][0];
      out["kesten"] = {{"target", kKestenSecondMoment},
                       {"estimate", s2 * s2 * std::pow(a, 4)},
                       {"ci", {s2 * s2 * std::pow(ci.lo, 4), s2 * s2 * std::pow(ci.hi, 4)}},
                       {"what", "sigma^4 A^4 from <x^2>^(1/4) = A (ln t - c); Kesten: E b^2 = 61/45"}};
    }
  } else {
    out["models"] = b.fits;
    if (sinai) out["kesten"] = {{"target", kKestenSecondMoment}, {"estimate", s2 * s2 * std::pow(a, 4)}};
  }
  out["preferred"] = b.fits.front().model;
  return out;
}

EnsembleConfig ensemble_config(const WalkParams& w) {
  EnsembleConfig cfg;
  cfg.seed = w.seed;
  cfg.environments = static_cast<std::uint32_t>(w.environments);
  cfg.walkers_per_env = static_cast<std::uint32_t>(w.walkers);
  cfg.temperature = w.temperature;
  cfg.times = log_times(static_cast<std::uint64_t>(w.t_max), w.per_decade);
  cfg.half_width = w.half_width;
  cfg.max_half_width = w.max_half_width;
  cfg.threads = static_cast<unsigned>(w.threads);
  cfg.simd = parse_simd_path(w.simd);
  cfg.quantile_levels = w.quantiles;
  cfg.keep_positions = w.positions;
  return cfg;
}

void validate(const WalkParams& w) {
  const auto pot = potential_of(w.pot);
  const auto dyn = make_dynamics(w.dynamics);
  require(w.environments >= 1 && w.environments <= 0xFFFFFFFFll, "environments", w.environments, "must be in [1, 2^32)");
  require(w.walkers >= 1 && w.walkers <= 0xFFFFFFFFll, "walkers", w.walkers, "must be in [1, 2^32)");
  require(w.t_max >= 1 && w.t_max <= (std::int64_t{1} << 32), "t_max", w.t_max, "must be in [1, 2^32]");
  require(w.per_decade >= 1 && w.per_decade <= 1000, "per_decade", w.per_decade, "must be in [1, 1000]");
  require(w.threads >= 0, "threads", w.threads, "must be >= 0");
  require(w.bootstrap == 0 || (w.bootstrap >= 10 && w.bootstrap <= 100000), "bootstrap", w.bootstrap, "must be 0 or in [10, 100000]");
  require(std::isfinite(w.fit_tmin), "fit_tmin", w.fit_tmin, "must be finite");
  // Every remaining check (temperature, windows, quantiles, memory) is the library's, up front.
  const ShardSpec spec = parse_shard(w.shard);
  check_shard_request(spec, static_cast<std::uint64_t>(w.environments), "environments", w.csv_out);
  const auto [begin, end] = shard_range(spec, static_cast<std::uint32_t>(w.environments));
  check_ensemble(*pot, ensemble_config(w), begin, end);
  core::check_output_file("json", w.json_out);
  core::check_output_file("csv", w.csv_out);
  core::check_distinct_paths({{"json", w.json_out}, {"csv", w.csv_out}});
}

/// The result document (what the CLI writes as JSON) of an ensemble run with these parameters.
json document(const WalkParams& w, const Potential& pot, const Dynamics& dyn, const EnsembleResult& r) {
  json j;
  json pj;
  pot.to_json(pj);
  j["parameters"] = {{"potential", pj},
                     {"dynamics", dyn.name()},
                     {"temperature", w.temperature},
                     {"environments", w.environments},
                     {"walkers", w.walkers},
                     {"t_max", w.t_max},
                     {"per_decade", w.per_decade},
                     {"seed", w.seed},
                     {"half_width", w.half_width},
                     {"max_half_width", w.max_half_width}};
  j["sigma2"] = r.sigma2;
  j["alpha"] = r.alpha;
  const bool rough = pot.increment_variance() > 0;
  if (rough) j["predicted_msd_exponent"] = predicted_msd_exponent(r.alpha);
  j["times"] = r.times;
  j["mean_x"] = r.mean_x;
  j["msd"] = r.msd;
  j["mean_abs"] = r.mean_abs;
  j["quantiles"] = {{"levels", r.quantile_levels}, {"values", matrix_rows(r.quantiles)}};
  if (w.positions) j["positions"] = r.final_positions;
  j["stats"] = {{"walker_steps", r.walker_steps},
                {"seconds", r.seconds},
                {"simd", simd_path_name(r.simd)},
                {"steps_per_second", r.seconds > 0 ? static_cast<double>(r.walker_steps) / r.seconds : 0.0},
                {"largest_half_width", r.largest_half_width}};
  const bool sinai = pot.name().rfind("sinai", 0) == 0;
  j["fit"] = fit_section(r, w.fit_tmin, w.bootstrap, w.seed, rough ? predicted_msd_exponent(r.alpha) : 4.0, sinai);
  return j;
}

json compute(const WalkParams& w, const RunHooks& hooks) {
  const auto pot = potential_of(w.pot);
  const auto dyn = make_dynamics(w.dynamics);
  EnsembleConfig cfg = ensemble_config(w);
  cfg.progress = hooks.progress;
  const EnsembleResult r = run_ensemble(*pot, *dyn, cfg);
  json j = document(w, *pot, *dyn, r);
  if (hooks.arrays) j["env_msd"] = matrix_rows(r.env_msd);
  return j;
}

/// A shard's raw results: the per-environment sums and positions of its block.
ShardData shard_data(const WalkParams& w, const RunHooks& hooks) {
  const auto pot = potential_of(w.pot);
  const auto dyn = make_dynamics(w.dynamics);
  EnsembleConfig cfg = ensemble_config(w);
  cfg.progress = hooks.progress;
  const auto [begin, end] = shard_range(parse_shard(w.shard), cfg.environments);
  const EnsemblePart part = run_ensemble_part(*pot, *dyn, cfg, begin, end);
  json d = {{"sum_x", encode_array(part.sum_x)},
            {"sum_x2", encode_array(part.sum_x2)},
            {"sum_abs", encode_array(part.sum_abs)},
            {"recorded", encode_array(part.recorded)},
            {"final_positions", encode_array(part.final_positions)},
            {"walker_steps", part.walker_steps},
            {"largest_half_width", part.largest_half_width},
            {"seconds", part.seconds},
            {"simd", simd_path_name(part.simd)}};
  return {d, begin, end};
}

/// The whole run from checked shards: bitwise run_ensemble()'s.
EnsembleResult merged(const WalkParams& w, const Potential& pot, const ShardSet& set) {
  const EnsembleConfig cfg = ensemble_config(w);
  require_shard_ranges(set, cfg.environments, "environments");
  std::vector<EnsemblePart> parts;
  for (std::size_t k = 0; k < set.data.size(); ++k) {
    const json& d = set.data[k];
    const std::string where = set.names[k] + ": data.";
    EnsemblePart p;
    p.env_begin = set.ranges[k].first;
    p.env_end = set.ranges[k].second;
    const std::size_t n_env = p.env_end - p.env_begin, n_t = cfg.times.size(), n_walk = n_env * cfg.walkers_per_env;
    for (const char* key : {"sum_x", "sum_x2", "sum_abs", "recorded", "final_positions", "walker_steps", "largest_half_width", "seconds", "simd"})
      require(d.contains(key), set.names[k], "data", std::string("lacks ") + key + " (damaged or not a walk shard)");
    p.sum_x = decode_doubles(d["sum_x"], where + "sum_x", n_env * n_t);
    p.sum_x2 = decode_doubles(d["sum_x2"], where + "sum_x2", n_env * n_t);
    p.sum_abs = decode_doubles(d["sum_abs"], where + "sum_abs", n_env * n_t);
    p.recorded = decode_int32(d["recorded"], where + "recorded", cfg.quantile_levels.empty() ? 0 : n_walk * n_t);
    p.final_positions = decode_int32(d["final_positions"], where + "final_positions", cfg.keep_positions ? n_walk : 0);
    p.walker_steps = core::json_as<std::uint64_t>(d["walker_steps"], where + "walker_steps", "");
    p.largest_half_width = core::json_as<std::int64_t>(d["largest_half_width"], where + "largest_half_width", "");
    p.seconds = core::json_as<double>(d["seconds"], where + "seconds", "");
    p.simd = parse_simd_path(core::json_as<std::string>(d["simd"], where + "simd", ""));
    parts.push_back(std::move(p));
  }
  return combine_ensemble(pot, cfg, parts);
}

/// Writes the run's files (CSV, then the JSON) and the summary line on stderr.
int write(const WalkParams& w, const Potential& pot, const Dynamics& dyn, const EnsembleResult& r) {
  const json j = document(w, pot, dyn, r);

  if (!w.csv_out.empty()) {
    std::ostringstream os;
    os << std::setprecision(12) << "t,mean_x,msd,mean_abs";
    for (double l : r.quantile_levels) os << ",q" << l;
    os << '\n';
    for (std::size_t i = 0; i < r.times.size(); ++i) {
      os << r.times[i] << ',' << r.mean_x[i] << ',' << r.msd[i] << ',' << r.mean_abs[i];
      for (Eigen::Index c = 0; c < r.quantiles.cols(); ++c) os << ',' << r.quantiles(static_cast<Eigen::Index>(i), c);
      os << '\n';
    }
    core::write_file_atomic(w.csv_out, os.str());
  }
  emit(w.json_out, j.dump(2) + "\n");
  std::cerr << "walk: " << r.walker_steps << " walker-steps in " << std::setprecision(3) << r.seconds << " s ("
            << (r.seconds > 0 ? static_cast<double>(r.walker_steps) / r.seconds : 0.0) << " steps/s); <x^2>(t_max) = "
            << r.msd.back();
  if (j["fit"].contains("preferred")) std::cerr << "; preferred model: " << j["fit"]["preferred"].get<std::string>();
  if (j["fit"].contains("kesten"))
    std::cerr << "; sigma^4 A^4 = " << j["fit"]["kesten"]["estimate"].get<double>() << " (Kesten 61/45 = 1.3556)";
  std::cerr << '\n';
  return 0;
}

int run(const WalkParams& w) {
  const auto pot = potential_of(w.pot);
  const auto dyn = make_dynamics(w.dynamics);
  EnsembleConfig cfg = ensemble_config(w);
  cli::Progress progress("walk");
  if (!w.quiet) cfg.progress = [&progress](double f) { progress(f); };
  const EnsembleResult r = run_ensemble(*pot, *dyn, cfg);
  progress.done();
  return write(w, *pot, *dyn, r);
}

json merge(const WalkParams& w, const ShardSet& set, const RunHooks& hooks) {
  const auto pot = potential_of(w.pot);
  const auto dyn = make_dynamics(w.dynamics);
  const EnsembleResult r = merged(w, *pot, set);
  json j = document(w, *pot, *dyn, r);
  if (hooks.arrays) j["env_msd"] = matrix_rows(r.env_msd);
  return j;
}

}  // namespace

namespace {
/// Declares the command's options on `o`, bound to `w`.
void declare_options(cli::Options& o, WalkParams& w) {
  add_potential_options(o, w.pot);
  o.add("--dynamics", "dynamics", w.dynamics, "metropolis | heat-bath");
  o.add("-T,--temperature", "temperature", w.temperature, "temperature T > 0");
  o.add("-e,--environments", "environments", w.environments, "independent potentials");
  o.add("-w,--walkers", "walkers", w.walkers, "walkers per potential");
  o.add("-t,--t-max", "t_max", w.t_max, "last recording time (steps), <= 2^32");
  o.add("--per-decade", "per_decade", w.per_decade, "recording times per decade (log-spaced)");
  o.add("-s,--seed", "seed", w.seed, "master seed");
  o.add("-j,--threads", "threads", w.threads, "threads (0 = all); results do not depend on it");
  o.add("--simd", "simd", w.simd, "inner loop: auto | scalar | avx2 | avx512; results do not depend on it");
  o.add("--half-width", "half_width", w.half_width, "initial window half-width (0 = automatic)");
  o.add("--max-half-width", "max_half_width", w.max_half_width, "largest window half-width");
  o.add("--quantiles", "quantiles", w.quantiles, "quantile levels of x");
  o.flag("--positions", "positions", w.positions, "write every walker's final position");
  o.add("--fit-tmin", "fit_tmin", w.fit_tmin, "fit only times >= this");
  o.add("--bootstrap", "bootstrap", w.bootstrap, "bootstrap resamples over environments (0 = none)");
  o.add("--json", "json", w.json_out, "write results as JSON here (default: stdout)");
  o.add("--csv", "csv", w.csv_out, "write the time series as CSV here");
  o.flag("-q,--quiet", "quiet", w.quiet, "no progress on stderr");
  add_shard_option(o, w.shard);
}
}  // namespace

MergedWalk merge_walk(const ShardSet& set) {
  require(set.command == "walk", set.names.front() + ": command", set.command, "expected shards of gengap-sim walk");
  CLI::App app;
  cli::Options o(&app);
  WalkParams w;
  declare_options(o, w);  // the command's own options: the run's keys read as the CLI reads them
  o.apply_json(set.run, set.names.front() + ": run");
  validate(w);
  const auto pot = potential_of(w.pot);
  MergedWalk m;
  m.result = merged(w, *pot, set);
  m.config = ensemble_config(w);
  pot->to_json(m.potential);
  m.dynamics = make_dynamics(w.dynamics)->name();
  return m;
}

Command walk_command() {
  return {"walk", "simulate an ensemble of walkers; JSON + CSV out", [](cli::Options& o) {
            auto w = std::make_shared<WalkParams>();
            declare_options(o, *w);
            return Action{[w] { validate(*w); },
                          [w] { return run(*w); },
                          [w](const RunHooks& h) { return compute(*w, h); },
                          [w](const RunHooks& h) { return shard_data(*w, h); },
                          [w](const ShardSet& set, const RunHooks& h) { return merge(*w, set, h); },
                          [w](const ShardSet& set) {
                            const auto pot = potential_of(w->pot);
                            const auto dyn = make_dynamics(w->dynamics);
                            return write(*w, *pot, *dyn, merged(*w, *pot, set));
                          }};
          }};
}

}  // namespace gengap::sim::app
