/// @file claims.hpp
/// @brief Decisions with three outcomes on growth curves measured over several runs (seeds): the
/// log-time claim (d grows like a power of ln t) and the overlap claim (curves coincide), each
/// SUPPORTED, FALSIFIED or UNDECIDED by a rule fixed before the data are seen.
///
/// The log-time statistic is scale-free. Write u = ln t and beta(u) = d ln d / du, the local power of
/// d against t. Its inverse changes at the rate
///   w = d(1/beta)/du,
/// which is the same number at every t for each family, wherever the window sits:
/// - d = A (ln t - c)^k (any A, c): 1/beta = (u - c)/k, so w = 1/k (a + b ln t: w = 1);
/// - d = C t^beta: w = 0; with a positive offset, a + C t^beta: w < 0;
/// - saturation, d -> const: beta falls faster than any of these, w grows without bound;
/// - a peak: beta < 0.
/// The mean curve over runs is fitted by ln d = a + ln(1 + w b (u - u_m)) / w (u_m the window's
/// centre), the one three-parameter family that holds every law in ln t and every power of t exactly
/// (w -> 0 is C t^b), once on the whole window and once on its second half (saturation shows at the
/// end); a delete-one jackknife over runs gives Student-t intervals (the runs are independent; with
/// few seeds a bootstrap would be too narrow). The fit is on ln d, so a common factor does not enter.
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
  int min_points = 8;            ///< recorded times inside [t0, t1] (the second half needs 4 of them)
  int min_samples = 3;           ///< runs (seeds) needed for an interval
  double k_max = 8;              ///< the claim's family: A (ln t - c)^k with k_min <= k <= k_max, i.e. 1/k_max <= w <= 1/k_min
  double k_min = 1.0 / 3;        ///< slower than (ln t)^k_min at the window's end counts as saturation
  double level = 0.95;           ///< two-sided level of the Student-t intervals
};

/// ln d = a + ln(1 + w b (u - u_m)) / w on u = ln t: b is the local power d ln d / d ln t at u_m, w the
/// inverse exponent d(1/beta)/d ln t (1/k for A (ln t - c)^k, 0 for C t^beta). Least squares on ln d.
struct InverseExponentFit {
  double a = 0;          ///< ln d at u_m
  double b = 0;          ///< d ln d / d ln t at u_m
  double w = 0;          ///< d(1/beta) / d ln t
  double u_m = 0;        ///< the centre of the fitted range of ln t
  double rss = 0;        ///< residual sum of squares of ln d
  bool converged = false;  ///< false when the fit did not settle (w is then the last iterate)
};

/// Fits InverseExponentFit to one curve on the times given (all > 0, at least 4, d > 0). Exact (up to
/// rounding) on every A (ln t - c)^k whose c lies below the times, and on every C t^beta.
/// @throws InvalidArgument for mismatched sizes, t <= 0, d <= 0 or non-finite values
InverseExponentFit fit_inverse_exponent(const std::vector<double>& t, const std::vector<double>& d);

/// The log-time statistic of one curve (or the mean / interval ends over runs).
struct LogTimeStatistic {
  double w = 0;          ///< inverse exponent d(1/beta)/d ln t over the whole window (1/k for a law in ln t)
  double w_end = 0;      ///< the same over the window's second half in ln t (saturation shows there)
  double beta = 0;       ///< local power d ln d / d ln t at the window's centre
  double slope_mid = 0;  ///< dd/d ln t at the centre relative to the mean of d (a cubic in ln t over the window)
  double slope_end = 0;  ///< the same at the window's end (a quadratic over the window's last third in ln t)
};

/// The statistic of one curve d(t) on the times given (all > 0, at least 8, d > 0; the second half
/// of the range of ln t holds at least 4). Non-finite entries when a fit is not defined.
LogTimeStatistic log_time_statistic(const std::vector<double>& t, const std::vector<double>& d);

/// What the rows given to decide_log_time() hold: distances (d = their mean) or squared distances
/// such as an environment's thermal \<x^2\> (d = the square root of their mean).
enum class RowsAre { kDistances, kSquaredDistances };

/// What decide_log_time() found.
struct LogTimeDecision {
  Outcome outcome = Outcome::kUndecided;  ///< the decision
  std::string reason;                     ///< one sentence: why, naming the interval that decided
  double t0 = 0;                          ///< the window's start
  double t1 = 0;                          ///< the window's end
  double t_half = 0;                      ///< where its second half starts (sqrt(t0 t1))
  std::size_t points = 0;                 ///< times inside it
  std::size_t samples = 0;                ///< runs
  LogTimeStatistic mean;                  ///< the statistic of the mean curve
  LogTimeStatistic lo;                    ///< lower ends of the intervals (jackknife over runs, Student-t)
  LogTimeStatistic hi;                    ///< upper ends of the intervals
  double k_implied = 0;                   ///< 1 / mean w (infinite for w <= 0): the exponent of the law in ln t
};

/// Decides the log-time claim on the curves `samples` (rows = runs, columns = the times `t`; `rows`
/// says whether they are distances or squared distances) within [t0, t1], by `rule`:
/// 1. UNDECIDED when the window is too short (t1/t0 < min_window_ratio), holds too few times, there
///    are fewer than min_samples runs, or a value is <= 0;
/// 2. FALSIFIED when d falls (the slope's interval lies below 0 at the centre or the end); when it
///    saturates (the interval of w, over the window or its second half, lies above 1/k_min); or when
///    it grows like a power of t or faster (the interval of w, over the window or its second half,
///    lies below 1/k_max; the reason says "faster than a power of t" when it lies below 0, where the
///    log-slope beta rises);
/// 3. SUPPORTED when the interval of w over the window lies inside [1/k_max, 1/k_min] and that of its
///    second half does not reach above 1/k_min (it has not begun to saturate);
/// 4. UNDECIDED otherwise, naming the interval that straddles a bound.
/// @throws InvalidArgument for mismatched sizes, t <= 0, t0 >= t1 or a bad rule
LogTimeDecision decide_log_time(const std::vector<double>& t, const Eigen::MatrixXd& samples, double t0, double t1,
                                const LogTimeRule& rule = {}, RowsAre rows = RowsAre::kDistances);

/// JSON of a decision: {"name": "log-time", "verdict", "reason", "window", "statistic": {...}, "rule": {...}}.
void to_json(nlohmann::json& j, const LogTimeDecision& d);

/// Curves of several runs at common times: rows = runs, columns = times.
struct CurveRuns {
  std::vector<double> t;    ///< times, increasing
  Eigen::MatrixXd runs;     ///< one row per run
};

/// How max_relative_deviation() compares curves.
struct DeviationOptions {
  int points = 6;       ///< evaluation times, evenly spaced in ln t over the window, its ends included
  double level = 0.95;  ///< simultaneous level of the intervals over every point and curve (Bonferroni)
  /// The rows of every curve and of the reference are the same units in the same order (the same
  /// environments or seeds under another setting): the ratio's error is that of the paired
  /// differences. Otherwise the samples are independent (Welch).
  bool paired = false;
};

/// One curve's ratio to the reference at one evaluation time.
struct PointDeviation {
  double t = 0;           ///< the evaluation time
  std::size_t curve = 0;  ///< which curve
  double ratio = 0;       ///< mean d_curve(t) / mean d_ref(t)
  double lo = 0;          ///< its interval (simultaneous over every point and curve)
  double hi = 0;          ///< upper end
};

/// The largest relative deviation of curves from a reference, with an interval.
struct Deviation {
  double value = 0;  ///< max over curves and evaluation times of |mean d(t) / mean d_ref(t) - 1|
  double lo = 0;     ///< the largest deviation every simultaneous interval allows at least (0 when all of them hold the ratio 1)
  double hi = 0;     ///< the largest deviation any of them allows: with probability >= level the true one lies in [lo, hi]
  double at_t = 0;   ///< where the maximum is reached
  std::size_t curve = 0;  ///< which curve reaches it
  std::vector<PointDeviation> points;  ///< every ratio with its interval
};

/// max |d_i(t)/d_ref(t) - 1| over the curves i and `options.points` times evenly spaced in ln t over
/// [t0, t1] (each run interpolated linearly in ln t), on the means over runs. The ratio of means at
/// each point gets a Student-t interval on its logarithm (delta method: Welch's for independent
/// samples, the paired differences' when options.paired), Bonferroni-corrected over points and curves
/// so that all hold at once with probability >= options.level; [lo, hi] follows from them. A curve
/// with one run has no interval (lo = 0, hi = infinity). Every curve must cover [t0, t1].
/// Two samples of one law are therefore falsified (lo > max_deviation) in at most (1 - level)/2 of
/// draws (tested), unlike a bootstrap of the maximum, whose interval lies above 0 by construction.
/// @throws InvalidArgument for no curves, a curve not covering the window, mismatched paired rows,
/// points < 2 or a level outside (0, 1)
Deviation max_relative_deviation(const CurveRuns& ref, const std::vector<CurveRuns>& curves, double t0, double t1,
                                 const DeviationOptions& options = {});

/// JSON of a deviation: {"value", "interval", "at", "curve", "points": [{"t", "curve", "ratio", "interval"}]}.
void to_json(nlohmann::json& j, const Deviation& d);

/// The overlap decision: SUPPORTED when the scaled curves deviate from the reference by at most
/// `max_deviation` (the interval's upper end) and clearly less than every control (their intervals'
/// lower ends lie above it); FALSIFIED when their deviation's interval lies above `max_deviation`;
/// UNDECIDED otherwise. `controls` are the same runs under other learning-rate rules (names for the
/// reason). Returns the outcome and a one-sentence reason.
std::pair<Outcome, std::string> decide_overlap(const Deviation& scaled, const std::vector<std::pair<std::string, Deviation>>& controls,
                                               double max_deviation);

}  // namespace gengap::sim
