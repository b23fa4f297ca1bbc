// Pieces the experiments share.
#include "common.hpp"

#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "commands.hpp"
#include "gengap/core/io.hpp"

namespace gengap::repro::detail {

void read_header(core::ObjectReader& r) {
  std::string kind, reason, profile;
  bool enabled = true;
  double expected = 0;
  r.required("kind", kind);
  r.optional("enabled", enabled);
  r.optional("reason", reason);
  r.optional("profile", profile);
  if (r.optional("expected_seconds", expected))
    sim::require(expected >= 0, "expected_seconds", expected, "must be >= 0");
  r.ignore_notes();
}

sim::LogTimeRule read_log_time_rule(core::ObjectReader& claims, const std::function<void(core::ObjectReader&)>& extra) {
  sim::LogTimeRule rule;
  core::ObjectReader k = claims.child("log_time");
  k.required("k_max", rule.k_max);
  k.required("k_min", rule.k_min);
  sim::require(!k.has("q_flat"), "claims.log_time.q_flat", "(set)",
               "was the threshold of the rule replaced on 2026-12-07 (it was not scale-free); give k_min instead (docs: How the reproduction decides)");
  k.required("min_window_ratio", rule.min_window_ratio);
  k.required("level", rule.level);
  k.optional("min_samples", rule.min_samples);
  k.optional("min_points", rule.min_points);
  if (extra) extra(k);
  k.ignore_notes();
  k.finish();
  // Checked with the config, before any experiment runs (not when the decision is made).
  sim::require(rule.level > 0 && rule.level < 1, "claims.log_time.level", rule.level, "must lie in (0, 1)");
  sim::require(rule.k_min > 0 && std::isfinite(rule.k_min), "claims.log_time.k_min", rule.k_min, "must be finite and > 0");
  sim::require(rule.k_max > rule.k_min && std::isfinite(rule.k_max), "claims.log_time.k_max", rule.k_max, "must be finite and > k_min");
  sim::require(rule.min_window_ratio > 1 && std::isfinite(rule.min_window_ratio), "claims.log_time.min_window_ratio", rule.min_window_ratio,
               "must be finite and > 1");
  sim::require(rule.min_samples >= 2, "claims.log_time.min_samples", rule.min_samples, "must be >= 2");
  sim::require(rule.min_points >= 4, "claims.log_time.min_points", rule.min_points, "must be >= 4");
  return rule;
}

void WalkSpec::read(core::ObjectReader& r, bool with_sigma) {
  if (with_sigma) r.required("sigma", sigma);
  r.required("environments", environments);
  r.required("walkers", walkers);
  r.required("temperature", temperature);
  r.required("dynamics", dynamics);
  r.required("seed", seed);
  r.required("t_max", t_max);
  r.required("per_decade", per_decade);
  r.required("fit_tmin", fit_tmin);
  r.optional("shards", shards);
}

sim::EnsembleConfig WalkSpec::ensemble() const {
  sim::EnsembleConfig e;
  e.environments = environments;
  e.walkers_per_env = walkers;
  e.temperature = temperature;
  e.seed = seed;
  e.times = sim::log_times(t_max, per_decade);
  e.quantile_levels = {0.05, 0.25, 0.5, 0.75, 0.95};
  return e;
}

void WalkSpec::check(const sim::Potential& potential) const {
  (void)sim::make_dynamics(dynamics);
  sim::require(std::isfinite(fit_tmin), "fit_tmin", fit_tmin, "must be finite");
  sim::check_ensemble(potential, ensemble());
  if (!shards.empty()) (void)walk_from_shards(potential, *this);  // they are this run, complete and undamaged
}

namespace {
template <class T>
void same(const std::string& what, const std::string& key, const T& have, const T& want) {
  if (!(have == want))
    throw core::InvalidArgument(what + ": " + key, "differs", "the shards were made with another " + key + " than this config asks for");
}
}  // namespace

sim::EnsembleResult walk_from_shards(const sim::Potential& pot, const WalkSpec& spec) {
  const sim::app::MergedWalk m = sim::app::merge_walk(sim::app::read_shards(spec.shards));
  const std::string what = "shards (" + spec.shards.front() + ", ...)";
  nlohmann::json pj;
  pot.to_json(pj);
  same(what, "potential", m.potential, pj);
  same(what, "dynamics", m.dynamics, sim::make_dynamics(spec.dynamics)->name());
  const sim::EnsembleConfig e = spec.ensemble();
  same(what, "environments", m.config.environments, e.environments);
  same(what, "walkers", m.config.walkers_per_env, e.walkers_per_env);
  same(what, "temperature", m.config.temperature, e.temperature);
  same(what, "seed", m.config.seed, e.seed);
  same(what, "times (t_max, per_decade)", m.config.times, e.times);
  same(what, "quantiles", m.config.quantile_levels, e.quantile_levels);
  same(what, "half_width", m.config.half_width, e.half_width);
  same(what, "max_half_width", m.config.max_half_width, e.max_half_width);
  return m.result;
}

sim::ExactEnsembleResult exact_from_shards(const std::vector<std::string>& files, const sim::Potential& pot, const std::string& dynamics,
                                           const sim::ExactEnsembleConfig& config) {
  const sim::app::MergedExact m = sim::app::merge_exact(sim::app::read_shards(files));
  const std::string what = "shards (" + files.front() + ", ...)";
  nlohmann::json pj;
  pot.to_json(pj);
  same(what, "potential", m.potential, pj);
  same(what, "dynamics", m.dynamics, sim::make_dynamics(dynamics)->name());
  same(what, "environments", m.config.environments, config.environments);
  same(what, "temperature", m.config.temperature, config.temperature);
  same(what, "seed", m.config.seed, config.seed);
  same(what, "octaves", m.config.octaves, config.octaves);
  same(what, "per_octave", m.config.per_octave, config.per_octave);
  same(what, "half_width", m.config.half_width, config.half_width);
  return m.result;
}

Walk walk(const sim::Potential& pot, const WalkSpec& spec, const std::string& label) {
  if (!spec.shards.empty()) {
    Walk w{walk_from_shards(pot, spec), {}};
    std::cerr << label << ": merged from " << spec.shards.size() << " shard files (" << spec.shards.front() << ", ...)\n";
    w.fit = sim::fit_window(w.r.times, w.r.msd, w.r.env_msd, spec.fit_tmin);
    return w;
  }
  sim::EnsembleConfig e = spec.ensemble();
  gengap::cli::Progress progress(label);
  e.progress = [&progress](double f) { progress(f); };
  Walk w{sim::run_ensemble(pot, *sim::make_dynamics(spec.dynamics), e), {}};
  progress.done();
  w.fit = sim::fit_window(w.r.times, w.r.msd, w.r.env_msd, spec.fit_tmin);
  return w;
}

sim::BootstrapFits bootstrap(const Walk& w, double fixed_k, std::uint64_t seed) {
  return sim::bootstrap_fits(w.fit.t, w.fit.samples, 200, 0.95, seed, fixed_k);
}

const sim::FitResult& model(const sim::BootstrapFits& b, const std::string& name, std::size_t* index) {
  const std::size_t m = sim::model_index(b.fits, name);
  if (index) *index = m;
  return b.fits[m];
}

void write_series_csv(const std::filesystem::path& p, const sim::EnsembleResult& r, double scale_x2) {
  std::ostringstream os;
  os << std::setprecision(10) << "t,msd,mean_abs,scaled_msd\n";
  for (std::size_t i = 0; i < r.times.size(); ++i)
    os << r.times[i] << ',' << r.msd[i] << ',' << r.mean_abs[i] << ',' << scale_x2 * r.msd[i] << '\n';
  core::write_file_atomic(p.string(), os.str());
}

}  // namespace gengap::repro::detail
