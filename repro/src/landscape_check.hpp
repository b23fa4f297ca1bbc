// Internal: the landscape and the noise measured on a weight-distance experiment's runs —
// estimator (b), the structure function along random directions at checkpoints of the first phase;
// estimator (c), barriers on straight paths between iterates; the sqrt(B) premise, the covariance of
// one update's increment across batch sizes, from the runs' noise.csv.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gengap/core/json.hpp"
#include "gengap/repro/verdicts.hpp"
#include "gengap/train/trainer.hpp"

namespace gengap::repro::detail {

/// The "landscape" block of a weight_distance config and the claims that use it.
struct LandscapeSettings {
  std::vector<double> checkpoints;        ///< fractions of T in (0, 1]: where (b) and the premise are measured
  std::vector<std::uint64_t> seeds;       ///< seeds whose sqrt-scaled runs are probed by (b) and (c)
  int directions = 16;                    ///< random directions u of (b), normalized per layer
  int radii = 10;                         ///< radii of (b), log-spaced from one update's step to d(t_c)
  int barrier_snapshots = 8;              ///< iterates of (c), log-spaced in [T/100, T]; every pair is a segment
  int barrier_points = 11;                ///< loss evaluations along each segment, ends included
  int resamples = 1000;                   ///< bootstrap resamples
  std::uint64_t seed = 5;                 ///< directions and bootstrap
  double travel_fraction = 0.1;           ///< radii r >= travel_fraction x d(t_c) are "the distances travelled"
  double alpha_rough = 1.8;               ///< claim: the exponent there lies below this (the landscape is rough)
  double premise_max_deviation = 0.5;     ///< claim: max |v_B / v_ref - 1| under sqrt scaling (v: increment covariance trace)
  double premise_window = 10;             ///< noise records in [t_c / sqrt(w), t_c sqrt(w)] are averaged for checkpoint t_c
  /// Reads "landscape" (and its claim thresholds) from `r`; `in` for messages.
  void read(core::ObjectReader& r, const std::string& in);
};

/// The checkpoint iterations: round(fraction x T), at least 1, increasing and distinct.
std::vector<std::int64_t> checkpoint_iterations(const LandscapeSettings& s, std::int64_t T);
/// The iterates of estimator (c): barrier_snapshots log-spaced in [max(1, T/100), T], distinct.
std::vector<std::int64_t> barrier_iterations(const LandscapeSettings& s, std::int64_t T);
/// Every snapshot a probed run saves: 0, each checkpoint t_c and t_c - 1 (its step length), and (c)'s iterates.
std::vector<std::int64_t> snapshot_iterations(const LandscapeSettings& s, std::int64_t T);

/// A finished run whose snapshots are probed.
struct ProbedRun {
  train::TrainConfig cfg;   ///< its configuration (out_dir holds snapshots/)
  std::int64_t batch = 0;   ///< B
};

/// Estimators (b) and (c) on the runs (snapshots of snapshot_iterations()), writing structure.csv,
/// alpha_curve.csv and barriers.csv into `dir`; appends the roughness verdict; returns the JSON part
/// and adds its markdown to `md`.
nlohmann::json measure_landscape(const LandscapeSettings& s, const std::vector<ProbedRun>& runs, std::int64_t T, const std::filesystem::path& dir,
                                 const std::string& experiment, std::vector<Verdict>* verdicts, std::string* md);

/// A finished run whose noise.csv enters the premise.
struct NoiseRun {
  std::string rule;               ///< lr rule: sqrt, none or linear
  std::int64_t batch = 0;         ///< B
  double lr = 0;                  ///< its first-phase learning rate
  std::filesystem::path dir;      ///< its out_dir
};

/// The sqrt(B) premise: v = lr^2 tr(Sigma) / B (the trace of one update's increment covariance)
/// averaged around each checkpoint, per run; the deviation of the sqrt-scaled batch sizes from the
/// reference against the no-scaling and linear controls (sim::decide_overlap). Writes premise.csv and
/// noise_B<b>.csv (B_simple along training, sqrt runs); appends the verdict; returns the JSON part.
nlohmann::json check_premise(const LandscapeSettings& s, const std::vector<NoiseRun>& runs, std::int64_t reference_batch, std::int64_t T,
                             const std::filesystem::path& dir, const std::string& experiment, std::vector<Verdict>* verdicts, std::string* md);

}  // namespace gengap::repro::detail
