/// @file verdicts.hpp
/// @brief How the reproduction decides: each claim of the paper becomes a Verdict (expected,
/// measured with its interval, the tolerance fixed in the config before the run, PASS or FAIL).
/// These functions hold the decision logic; they depend on gengap::sim only, and the tests feed them
/// synthetic series for which the right answer is known.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "gengap/sim/fit.hpp"
#include "gengap/sim/overlap.hpp"

namespace gengap::repro {

/// One row of the verdict table.
struct Verdict {
  std::string experiment;  ///< the experiment (config file stem)
  std::string claim;       ///< the claim, in words
  std::string expected;    ///< what the paper or the theory says
  std::string measured;    ///< what was measured, with its interval where there is one
  std::string tolerance;   ///< the tolerance, as fixed in the config
  bool pass = false;       ///< the decision
};

/// JSON of a verdict: {"experiment", "claim", "expected", "measured", "tolerance", "pass"}.
void to_json(nlohmann::json& j, const Verdict& v);

/// A number as text with `prec` significant digits.
std::string fmt(double v, int prec = 4);

/// Indices of the times to fit: t >= t_min, at most one per 1/per_decade of a decade (the first
/// time in each slot), so the dense early records do not outweigh the late ones.
std::vector<std::size_t> log_thin(const std::vector<double>& t, double t_min, int per_decade);

/// A distance series d(t) fitted by the ultra-slow law and a power law, with bootstrap over runs.
struct DiffusionFit {
  sim::BootstrapFits fits;    ///< compare_distance_models() with bootstrap intervals over runs
  double k = 0;               ///< exponent of d = a + b (ln t)^k
  sim::Interval k_ci;         ///< its bootstrap interval
  double beta = 0;            ///< exponent of d = C t^beta
  sim::Interval beta_ci;      ///< its bootstrap interval
  double delta_aic = 0;       ///< AIC(power) - AIC(log-offset): > 0 favours the log law
  double log_preferred = 0;   ///< share of bootstrap resamples in which the log law had the lower AIC
};

/// Fits the mean over runs (rows of `runs`, columns the times `t`) with both distance models and
/// bootstraps over runs (`resamples`, seeded). Needs at least 5 times; one run gives zero-width intervals.
DiffusionFit fit_diffusion(const std::vector<double>& t, const Eigen::MatrixXd& runs, int resamples, std::uint64_t seed);

/// Claim 1 of the paper: d(t) grows like a power of ln t, not like t^beta. PASS when the log law's
/// AIC is lower than the power law's by at least `min_delta_aic` for every fit given. `labels`
/// name the fits (e.g. "B = 128"); `expected` describes the model.
Verdict log_time_verdict(const std::string& experiment, const std::vector<DiffusionFit>& fits,
                         const std::vector<std::string>& labels, double min_delta_aic);

/// A measured exponent (with interval) against a prediction: PASS when |measured - predicted| <=
/// relative_tolerance * |predicted|.
Verdict exponent_verdict(const std::string& experiment, const std::string& claim, double measured, sim::Interval ci,
                         double predicted, double relative_tolerance);

/// Both overlap measures of a set of curves: against iterations and against epochs.
struct OverlapCheck {
  sim::Overlap iterations;  ///< spread of the curves d(iterations)
  sim::Overlap epochs;      ///< spread of the same curves d(epochs)
};

/// Measures both (curve_overlap with `points` grid points).
OverlapCheck check_overlap(const std::vector<sim::Curve>& by_iterations, const std::vector<sim::Curve>& by_epochs,
                           int points = 50);

/// Claim 4 of the paper: with sqrt lr scaling the curves overlap against iterations, not against
/// epochs. PASS when the spread against iterations is at most `max_spread` and at most `max_ratio`
/// times the spread against epochs.
Verdict overlap_verdict(const std::string& experiment, const OverlapCheck& o, double max_spread, double max_ratio);

/// Claim 3 of the paper, first half: the large batch generalizes worse. Accuracies in percent.
/// PASS when small - large >= min_gap.
Verdict gap_verdict(const std::string& experiment, double small_acc, double large_acc, double min_gap);

/// Claim 3, second half: lr scaling + GBN + regime adaptation close the gap. PASS when
/// small - adapted <= tolerance (percentage points; a negative gap, better than the small batch, passes).
Verdict closed_gap_verdict(const std::string& experiment, double small_acc, double adapted_acc, double tolerance);

}  // namespace gengap::repro
