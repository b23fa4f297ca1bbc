/// @file claims.hpp
/// @brief Decisions with three outcomes on growth curves measured over several runs (seeds): the
/// log-time claim (d grows like a power of ln t) and the overlap claim (curves coincide), each
/// SUPPORTED, FALSIFIED or UNDECIDED by a rule fixed before the data are seen.
///
/// The log-time statistic. Write u = ln t and s(u) = dd/du, the slope of d against ln t. Its growth
/// rate q(u) = d ln s / du and the change of that rate, g = dq/du, tell the families apart:
/// - d = a + b ln t: s constant, q = 0;
/// - d = A (ln t - c)^k: q = (k - 1)/(u - c), so q >= 0 falls, and z = -g/q^2 = 1/(k - 1);
/// - d = a + C t^beta: q = beta constant, z = 0 (an "infinite" k);
/// - saturation, d -> const: s falls faster than any of these, q < 0; a peak: s < 0.
/// Each run's curve is fitted on the window by a cubic polynomial in u (exact for k = 1, 2, 3 and
/// any c; smooth otherwise), from which s, q and g follow; the runs give a Student-t interval
/// (their curves are independent; with few seeds a bootstrap would be too narrow).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

namespace gengap::sim {

/// The three outcomes of a claim. UNDECIDED is a result (too short a window, too wide an interval),
/// never a pass.
enum class Outcome { kSupported, kFalsified, kUndecided };

/// "supported", "falsified", "undecided".
const char* outcome_name(Outcome o);

/// The rule of the log-time decision; every number is fixed before the run (in a repro config or
/// on the command line).
struct LogTimeRule {
  double min_window_ratio = 30;  ///< t1 / t0 must reach this (1.5 decades), else UNDECIDED
  int min_points = 8;            ///< recorded times inside [t0, t1]
  int min_samples = 3;           ///< runs (seeds) needed for an interval
  double k_max = 4;              ///< the claim's family: A (ln t - c)^k with 1 <= k <= k_max
  double q_flat = 0.05;          ///< |q| <= q_flat across the window: the slope is constant, d = a + b ln t
  double level = 0.95;           ///< two-sided level of the Student-t intervals
};

/// s, q, g of one curve (or their means / interval ends).
struct LogTimeShape {
  double slope_start = 0;  ///< s at the window's start, relative to the curve's mean (dd/d ln t / mean d)
  double slope_mid = 0;    ///< s at the window's centre (relative)
  double slope_end = 0;    ///< s at the window's end (relative)
  double q_start = 0;      ///< q = d ln s / d ln t at the start
  double q_mid = 0;        ///< q at the centre
  double q_end = 0;        ///< q at the end
  double g = 0;            ///< dq / d ln t at the centre
};

/// The shape of one curve d(t) on the times given (all > 0, at least 5): a cubic in ln t fitted by
/// least squares, and its slope, growth rate and change of growth rate. Non-finite when s vanishes.
LogTimeShape log_time_shape(const std::vector<double>& t, const std::vector<double>& d);

/// What decide_log_time() found.
struct LogTimeDecision {
  Outcome outcome = Outcome::kUndecided;  ///< the decision
  std::string reason;                     ///< one sentence: why
  double t0 = 0;                          ///< the window's start
  double t1 = 0;                          ///< the window's end
  std::size_t points = 0;                 ///< times inside it
  std::size_t samples = 0;                ///< runs
  LogTimeShape mean;                      ///< mean over runs
  LogTimeShape lo;                        ///< lower ends of the intervals
  LogTimeShape hi;                        ///< upper ends of the intervals
  double z = 0;                           ///< z = -g/q^2 at the centre (1/(k - 1) for a law in ln t); NaN when q_mid <= q_flat
  double z_lo = 0;                        ///< smallest z over the interval box of (q, g)
  double z_hi = 0;                        ///< largest z over the box
  double k_implied = 0;                   ///< 1 + 1/z (infinite for z <= 0)
};

/// Decides the log-time claim on the curves `samples` (rows = runs, columns = the times `t`) within
/// [t0, t1], by `rule`:
/// 1. UNDECIDED when the window is too short (t1/t0 < min_window_ratio), holds too few times, or
///    there are fewer than min_samples runs;
/// 2. FALSIFIED when d falls (the slope's interval lies below 0 at the centre or the end), or
///    saturates (q's interval lies below -q_flat somewhere: no law in ln t with k >= 1 slows so);
/// 3. SUPPORTED when q lies within [-q_flat, q_flat] across the window (d = a + b ln t);
/// 4. when q > q_flat at the centre: SUPPORTED if every z in the interval box is >= 1/(k_max - 1)
///    (the slope's growth slows as a power of ln t with k <= k_max), FALSIFIED if every z is below
///    (it keeps growing like a power of t, or faster);
/// 5. UNDECIDED otherwise, saying which families the interval leaves open.
/// @throws InvalidArgument for mismatched sizes, t <= 0 or t0 >= t1
LogTimeDecision decide_log_time(const std::vector<double>& t, const Eigen::MatrixXd& samples, double t0, double t1,
                                const LogTimeRule& rule = {});

/// JSON of a decision: {"name": "log-time", "verdict", "reason", "window", "statistic": {...}, "rule": {...}}.
void to_json(nlohmann::json& j, const LogTimeDecision& d);

/// Curves of several runs at common times: rows = runs, columns = times.
struct CurveRuns {
  std::vector<double> t;    ///< times, increasing
  Eigen::MatrixXd runs;     ///< one row per run
};

/// The largest relative deviation of curves from a reference, with a bootstrap interval over runs.
struct Deviation {
  double value = 0;  ///< max over curves and t in the window of |d(t)/d_ref(t) - 1|, on the run means
  double lo = 0;     ///< interval ends (percentile bootstrap, runs resampled within each curve)
  double hi = 0;     ///< upper end
  double at_t = 0;   ///< where the maximum is reached
  std::size_t curve = 0;  ///< which curve reaches it
};

/// max |d_i(t)/d_ref(t) - 1| over the curves i and the reference's times in [t0, t1] (each curve
/// interpolated linearly in ln t), with a `level` bootstrap interval (`resamples`, seeded). Every
/// curve must cover [t0, t1].
Deviation max_relative_deviation(const CurveRuns& ref, const std::vector<CurveRuns>& curves, double t0, double t1,
                                 int resamples = 1000, double level = 0.95, std::uint64_t seed = 1);

/// The overlap decision: SUPPORTED when the scaled curves deviate from the reference by at most
/// `max_deviation` (the interval's upper end) and clearly less than every control (their intervals'
/// lower ends lie above it); FALSIFIED when their deviation's interval lies above `max_deviation`;
/// UNDECIDED otherwise. `controls` are the same runs under other learning-rate rules (names for the
/// reason). Returns the outcome and a one-sentence reason.
std::pair<Outcome, std::string> decide_overlap(const Deviation& scaled, const std::vector<std::pair<std::string, Deviation>>& controls,
                                               double max_deviation);

}  // namespace gengap::sim
