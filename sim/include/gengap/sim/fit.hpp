/// @file fit.hpp
/// @brief Fits of a growth curve y(t) (the MSD \<x^2\>, or any distance series d(t)) by the
/// ultra-slow law, a free exponent of ln t, and a power law; model comparison and bootstrap.
///
/// Every model is fitted by least squares on ln y, so residual sums, AIC and BIC are comparable:
/// - `log-fixed`: y = (A (ln t - c))^k with k given (k = 4 for Sinai's MSD, k = 4/alpha in general);
/// - `log-free`:  y = B (ln t - c)^k with k free;
/// - `power`:     y = C t^beta.
///
/// For distances, compare_distance_models() fits the theory's form y = A (ln t - c)^k (k free, and k
/// fixed at a predicted value) and the power law with an offset, y = a + C t^beta, on y itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

namespace gengap::sim {

/// One fitted model.
struct FitResult {
  std::string model;               ///< "log-fixed", "log-free", "power"; distances: "log-c", "log-c-fixed", "power-offset"
  std::string formula;             ///< the model as text
  std::vector<std::string> names;  ///< parameter names, e.g. {"A", "c"}
  std::vector<double> params;      ///< fitted values, same order as names
  int n = 0;                       ///< points used
  int k = 0;                       ///< free parameters (JSON: "free_params")
  double rss = 0;                  ///< residual sum of squares of ln y
  double aic = 0;                  ///< n ln(rss/n) + 2k
  double bic = 0;                  ///< n ln(rss/n) + k ln n
  double fixed_exponent = 0;       ///< k of the log-fixed model (0 for the others)
  /// Parameters pinned at the edge of their search range (c at ln(min t) - e^8, the limit where a
  /// law in ln t turns into a power of t; k of log-c at 0.05 or 30; beta of power-offset at 0.001 or
  /// 3) or without a meaningful value (log-free's k beyond 100, the same limit): the fit's values
  /// there are not estimates. Written to JSON as "at_bound" and flagged in the CLI's table.
  std::vector<std::string> at_bound;
  /// Parameter by name; throws std::out_of_range if absent.
  double param(const std::string& name) const;
  /// Model prediction at time t.
  double predict(double t) const;
};

/// y = (A (ln t - c))^k, k fixed; c is constrained below ln(min t).
FitResult fit_log_fixed(const std::vector<double>& t, const std::vector<double>& y, double k);
/// y = B (ln t - c)^k, k and c free; c < ln(min t).
FitResult fit_log_free(const std::vector<double>& t, const std::vector<double>& y);
/// y = C t^beta.
FitResult fit_power(const std::vector<double>& t, const std::vector<double>& y);
/// All three models, sorted by AIC (best first).
/// @throws InvalidArgument for fewer than 4 points, non-positive y, or t <= 1 (ln t must be > 0)
std::vector<FitResult> compare_models(const std::vector<double>& t, const std::vector<double>& y, double fixed_k = 4.0);

/// A confidence interval.
struct Interval {
  double lo = 0;  ///< lower end
  double hi = 0;  ///< upper end
};

/// The percentile interval of bootstrap draws at `level`: the sorted draws' elements
/// floor(p (n - 1)) for p = (1 - level)/2 and 1 - (1 - level)/2; NaN ends when there are none.
/// The one rule every bootstrap band of gengap::sim uses.
Interval percentile_interval(std::vector<double> draws, double level);

/// A median with its distribution-free interval.
struct MedianEstimate {
  double median = 0;   ///< the sample median
  Interval ci;         ///< [x_(j), x_(n+1-j)] from the binomial law of the ranks: holds the median with probability >= level
  std::size_t n = 0;   ///< values used (NaN left out)
};

/// The median of a sample (NaN values left out) and its order-statistic interval at `level`; an
/// unbounded interval when the sample is too small for the level (n < 6 at 95%).
/// @throws InvalidArgument for a level outside (0, 1)
MedianEstimate median_interval(std::vector<double> sample, double level = 0.95);

/// Point fits plus bootstrap percentile intervals for every parameter of every model.
struct BootstrapFits {
  std::vector<FitResult> fits;                     ///< compare_models() on the mean curve, AIC order
  std::vector<std::vector<Interval>> intervals;    ///< intervals[m][p] for fits[m].params[p]
  std::vector<double> preferred_fraction;          ///< share of resamples in which fits[m] had the best AIC
  int resamples = 0;                               ///< bootstrap resamples
  double level = 0.95;                             ///< confidence level
};

/// Bootstrap over independent samples (rows of `samples`: environments, or training seeds):
/// resample rows with replacement, average them, refit every model. Columns are the times t.
/// Deterministic in `seed`.
BootstrapFits bootstrap_fits(const std::vector<double>& t, const Eigen::MatrixXd& samples, int resamples,
                             double level, std::uint64_t seed, double fixed_k = 4.0);

/// A comparer: fits every model of a family to (t, y) and returns them sorted by AIC.
using ModelComparer = std::function<std::vector<FitResult>(const std::vector<double>&, const std::vector<double>&)>;

/// bootstrap_fits() with any family of models (e.g. compare_distance_models).
BootstrapFits bootstrap_fits(const std::vector<double>& t, const Eigen::MatrixXd& samples, int resamples, double level,
                             std::uint64_t seed, const ModelComparer& comparer);

/// The fit window of a recorded curve: the times t >= tmin with t > 1 and y(t) > 0 (the fits take
/// logarithms of both), with the per-sample rows (environments, seeds) at those times.
struct FitWindow {
  std::vector<double> t;               ///< window times
  std::vector<double> y;               ///< the curve at them
  std::vector<Eigen::Index> columns;   ///< their indices in the recording
  Eigen::MatrixXd samples;             ///< the recording's sample rows at the window's columns
};

/// Cuts the fit window out of a recording: `times` and the curve `y` (same length), `samples` with
/// one column per time (or none: 0 x 0).
/// @throws InvalidArgument when the lengths differ
FitWindow fit_window(const std::vector<std::uint64_t>& times, const std::vector<double>& y, const Eigen::MatrixXd& samples,
                     double tmin);

/// compare_models() on a window: bootstrap_fits() over its sample rows when `resamples` > 0 and it
/// has >= 2 rows, otherwise the fits of the curve alone (no intervals, `resamples` 0 in the result).
/// The one way every command and experiment fits a window of a walk.
/// @throws InvalidArgument for fewer than 4 points
BootstrapFits fit_window_models(const FitWindow& window, int resamples, double level, std::uint64_t seed, double fixed_k);

/// The index of the model named `name` among `fits`. @throws InvalidArgument when it is not there
std::size_t model_index(const std::vector<FitResult>& fits, const std::string& name);

/// Distance series d(t) (weight distances, walker distances) in the theory's finite-time form
/// y = A (ln t - c)^k with k and c free (model "log-c"), least squares on y: A solved exactly for each
/// (c, k), c < ln(min t) searched on ln(ln min t - c), k in [0.05, 30] on ln k. Unbiased on its own
/// family: a true (ln t - 3)^2 is recovered exactly (tested), unlike a + b (ln t)^k.
FitResult fit_log_c(const std::vector<double>& t, const std::vector<double>& y);
/// y = A (ln t - c)^k with k given (model "log-c-fixed"; e.g. the prediction 1/gamma or 2/alpha).
FitResult fit_log_c_fixed(const std::vector<double>& t, const std::vector<double>& y, double k);
/// The power law with an offset, y = a + C t^beta (model "power-offset"), beta in (0, 3]: the fair
/// alternative to a law in ln t with an offset.
FitResult fit_power_offset(const std::vector<double>& t, const std::vector<double>& y);
/// The three distance models, residuals on y so AIC and BIC compare, sorted by AIC (best first).
/// These are descriptions; the log-time decision is decide_log_time() (claims.hpp).
/// @throws InvalidArgument for fewer than 5 points, non-finite values or t <= 1
std::vector<FitResult> compare_distance_models(const std::vector<double>& t, const std::vector<double>& y, double fixed_k = 1.0);

/// JSON of a fit: {"model", "formula", "params": {name: value}, "n", "k", "rss", "aic", "bic"}.
void to_json(nlohmann::json& j, const FitResult& f);
/// JSON of a bootstrap: the fits with "ci" per parameter and "preferred_fraction".
void to_json(nlohmann::json& j, const BootstrapFits& b);

}  // namespace gengap::sim
