// Internal: pieces the experiments share — the config header, walk settings, fitting helpers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gengap/core/json.hpp"
#include "gengap/repro/experiment.hpp"
#include "gengap/repro/verdicts.hpp"
#include "gengap/sim.hpp"

namespace gengap::repro::detail {

/// Marks the fields every experiment config has (kind, enabled, reason, expected_seconds, profile,
/// description and notes) as known, checking their types.
void read_header(core::ObjectReader& r);

/// Reads claims.log_time: k_max, k_min, min_window_ratio, level (required), min_samples and
/// min_points (optional), and the keys `extra` reads; refuses the others.
sim::LogTimeRule read_log_time_rule(core::ObjectReader& claims, const std::function<void(core::ObjectReader&)>& extra = {});

/// "in FILE": the suffix of messages about a config.
inline std::string in_file(const std::string& file) { return "in " + file; }

/// Settings of a walk ensemble in a config (the top level of sinai / alpha_sweep, or a "walk" object).
struct WalkSpec {
  double sigma = 1.0;                  ///< increment std (fBm walks)
  std::uint32_t environments = 0;      ///< potentials
  std::uint32_t walkers = 1;           ///< walkers per potential
  double temperature = 1.0;            ///< T
  std::string dynamics = "metropolis"; ///< metropolis | heat-bath
  std::uint64_t seed = 1;              ///< master seed
  std::uint64_t t_max = 0;             ///< last time
  int per_decade = 8;                  ///< recording times per decade
  double fit_tmin = 0;                 ///< fit from this time on
  /// Shard files of this ensemble made elsewhere (gengap-sim walk --shard I/N, paths relative to the
  /// working directory): merged instead of simulated, after checking that they are this run.
  std::vector<std::string> shards;
  /// Reads the fields (sigma only when `with_sigma`; "shards" optional).
  void read(core::ObjectReader& r, bool with_sigma);
  /// The ensemble configuration (no progress callback).
  sim::EnsembleConfig ensemble() const;
  /// Checks the settings and the memory for `potential` (sim::check_ensemble).
  void check(const sim::Potential& potential) const;
};

/// The ensemble of `spec.shards` (bitwise what walk() would simulate), after checking that the
/// shards are one run of exactly this ensemble on `pot`. Throws InvalidArgument naming the setting.
sim::EnsembleResult walk_from_shards(const sim::Potential& pot, const WalkSpec& spec);

/// The exact ensemble of shard files (gengap-sim exact --shard), after checking that they are one
/// run of `config` on `pot` with `dynamics`. Throws InvalidArgument naming the setting.
sim::ExactEnsembleResult exact_from_shards(const std::vector<std::string>& files, const sim::Potential& pot, const std::string& dynamics,
                                           const sim::ExactEnsembleConfig& config);

/// One walk ensemble with the times and columns to fit (t >= fit_tmin, t > 1, <x^2> > 0).
struct Walk {
  sim::EnsembleResult r;  ///< the ensemble
  sim::FitWindow fit;     ///< its fit window (t >= fit_tmin)
};
/// Runs the ensemble of `spec` on `pot` with a progress line labelled `label`.
Walk walk(const sim::Potential& pot, const WalkSpec& spec, const std::string& label);
/// bootstrap_fits over environments of the fit window.
sim::BootstrapFits bootstrap(const Walk& w, double fixed_k, std::uint64_t seed);
/// The fitted model named `name` (and its index).
const sim::FitResult& model(const sim::BootstrapFits& b, const std::string& name, std::size_t* index = nullptr);
/// t, msd, mean_abs and scale_x2 * msd as CSV.
void write_series_csv(const std::filesystem::path& p, const sim::EnsembleResult& r, double scale_x2);

}  // namespace gengap::repro::detail
