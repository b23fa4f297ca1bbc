/// @file verdicts.hpp
/// @brief How the reproduction decides: each claim of the paper becomes a Verdict — the claim, what
/// was expected, what was measured with its interval, the rule fixed in the config before the run,
/// and one of three outcomes (SUPPORTED, FALSIFIED, UNDECIDED) with a one-sentence reason. These
/// functions hold the decision logic; they depend on gengap::sim only, and the tests feed them
/// synthetic series for which the right answer is known.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "gengap/sim/claims.hpp"
#include "gengap/sim/fit.hpp"

namespace gengap::repro {

/// One row of the verdict table.
struct Verdict {
  std::string experiment;                            ///< the experiment (config file stem)
  std::string claim;                                 ///< the claim, in words
  std::string expected;                              ///< what the paper or the theory says
  std::string measured;                              ///< what was measured, with its interval where there is one
  std::string rule;                                  ///< the decision rule, as fixed in the config
  sim::Outcome outcome = sim::Outcome::kUndecided;   ///< the decision
  std::string reason;                                ///< one sentence: why this outcome
};

/// JSON of a verdict: {"experiment", "claim", "expected", "measured", "rule", "verdict", "reason"}.
void to_json(nlohmann::json& j, const Verdict& v);

/// A number as text with `prec` significant digits.
std::string fmt(double v, int prec = 4);

/// Indices of the times to fit: t >= t_min, at most one per 1/per_decade of a decade (the first
/// time in each slot), so the dense early records do not outweigh the late ones.
std::vector<std::size_t> log_thin(const std::vector<double>& t, double t_min, int per_decade);

/// A distance series d(t) described by the theory's form and the power law with an offset, with
/// bootstrap intervals over runs (descriptions beside the decision, which is decide_log_time()).
struct DiffusionFit {
  sim::BootstrapFits fits;    ///< compare_distance_models() with bootstrap intervals over runs
  double k = 0;               ///< exponent of d = A (ln t - c)^k (k free)
  sim::Interval k_ci;         ///< its bootstrap interval
  double c = 0;               ///< its offset c
  double beta = 0;            ///< exponent of d = a + C t^beta
  sim::Interval beta_ci;      ///< its bootstrap interval
  double delta_aic = 0;       ///< AIC(power-offset) - AIC(log-c): > 0 favours the law in ln t (a description only)
};

/// Fits the mean over runs (rows of `runs`, columns the times `t`) with the distance models
/// (k fixed at `fixed_k` for "log-c-fixed") and bootstraps over runs. Needs at least 5 times.
DiffusionFit fit_diffusion(const std::vector<double>& t, const Eigen::MatrixXd& runs, int resamples, std::uint64_t seed,
                           double fixed_k = 1.0);

/// The log-time claim for several curves (e.g. one per batch size): SUPPORTED when every curve's
/// decision is, FALSIFIED when any is, UNDECIDED otherwise; the reason names each label's outcome.
Verdict log_time_verdict(const std::string& experiment, const std::vector<sim::LogTimeDecision>& decisions,
                         const std::vector<std::string>& labels, const sim::LogTimeRule& rule);

/// A measured exponent with interval against a prediction, band = predicted x (1 -+ relative_tolerance):
/// SUPPORTED when the interval lies inside the band, FALSIFIED when it lies outside, UNDECIDED when it
/// straddles an edge. A zero-width interval (one run) is decided on the point.
Verdict exponent_verdict(const std::string& experiment, const std::string& claim, double measured, sim::Interval ci,
                         double predicted, double relative_tolerance);

/// A verdict that is UNDECIDED by construction, with its reason (e.g. a row whose input is missing).
Verdict undecided_verdict(const std::string& experiment, const std::string& claim, const std::string& expected,
                          const std::string& measured, const std::string& rule, const std::string& reason);

/// The overlap claim (decide_overlap()): `scaled` the deviation of the sqrt-scaled curves from the
/// reference, `controls` those of the other learning-rate rules; `quantity` names the ratio in the
/// measured text (the weight distances by default).
Verdict overlap_verdict(const std::string& experiment, const std::string& claim, const sim::Deviation& scaled,
                        const std::vector<std::pair<std::string, sim::Deviation>>& controls, double max_deviation,
                        const std::string& quantity = "d_B/d_ref");

/// One measured value with its interval and a label (e.g. "B = 64, t = 355").
struct Labelled {
  std::string label;   ///< what was measured
  double value = 0;    ///< the point estimate
  sim::Interval ci;    ///< its interval
};

/// A claim that every value lies below `bound`: SUPPORTED when every interval's upper end is below
/// it, FALSIFIED when some interval lies wholly at or above it, UNDECIDED otherwise (also when a value
/// or interval is not finite, or there are none). The reason names the deciding value.
Verdict below_bound_verdict(const std::string& experiment, const std::string& claim, const std::vector<Labelled>& values, double bound);

/// A difference of accuracies (percent) over seeds: mean and Welch t interval (level 95%); with one
/// seed on either side, the point alone.
struct Difference {
  double value = 0;   ///< mean(a) - mean(b)
  double lo = 0;      ///< interval ends (equal to value with one seed)
  double hi = 0;      ///< upper end
  bool interval = false;  ///< whether there were >= 2 seeds on both sides
  double se = 0;          ///< Welch standard error (0 without an interval)
  double dof = 0;         ///< Welch-Satterthwaite degrees of freedom (0 without an interval)
  std::size_t n_a = 0;    ///< seeds of a
  std::size_t n_b = 0;    ///< seeds of b
  /// The row's power at the measured spread: how far the true difference must lie from a bound for
  /// the 95% interval to clear it with probability 80%, (t_0.975 + t_0.80) x se at these degrees of
  /// freedom (infinite without an interval). Closer to the bound than this, the row is more often
  /// UNDECIDED than decided.
  [[nodiscard]] double resolution() const;
};
/// mean(a) - mean(b) with its interval.
Difference difference(const std::vector<double>& a, const std::vector<double>& b);

/// Claim 3, first half: the large batch generalizes worse. SUPPORTED when SB - LB >= min_gap (its
/// interval's lower end, or the point with one seed), FALSIFIED when the upper end is below min_gap,
/// UNDECIDED otherwise.
Verdict gap_verdict(const std::string& experiment, const std::vector<double>& small_acc, const std::vector<double>& large_acc,
                    double min_gap);

/// Claim 3, second half: lr scaling + GBN + regime adaptation close the gap. SUPPORTED when
/// SB - adapted <= tolerance (upper end), FALSIFIED when the lower end exceeds it, UNDECIDED otherwise.
Verdict closed_gap_verdict(const std::string& experiment, const std::vector<double>& small_acc, const std::vector<double>& adapted_acc,
                           double tolerance);

/// A difference of means over seeds, mean(a) - mean(b) with its Welch 95% interval, against `bound`:
/// with `at_least`, SUPPORTED when the interval lies at or above it, FALSIFIED when wholly below;
/// otherwise SUPPORTED when it lies at or below, FALSIFIED when wholly above; UNDECIDED when it
/// straddles. `what` names the difference in the measured text (e.g. "(train - test)_LB - (train - test)_SB").
Verdict difference_verdict(const std::string& experiment, const std::string& claim, const std::string& expected, const std::vector<double>& a,
                           const std::vector<double>& b, const std::string& what, double bound, bool at_least);

/// The Table 1 ordering claims (+LR >= LB, +GBN >= +LR): SUPPORTED when better - worse >= -tolerance
/// holds for the whole interval, FALSIFIED when the interval lies below -tolerance.
Verdict not_worse_verdict(const std::string& experiment, const std::string& claim, const std::vector<double>& better,
                          const std::vector<double>& worse, double tolerance);

}  // namespace gengap::repro
