/// @file power.hpp
/// @brief The power of the log-time rule: how often decide_log_time() supports, falsifies or leaves
/// undecided curves of known families, drawn with the noise of real runs on a given window. The
/// repro states it beside every log-time row; the tests hold the rule to it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gengap/sim/claims.hpp"

namespace gengap::sim {

/// A family of curves d(t) whose answer to the log-time claim is known. Families that depend on the
/// window (a saturation time, a peak, an offset c below ln t0) take its ends.
struct ControlFamily {
  std::string name;   ///< e.g. "2 + 3 ln t"
  std::string kind;   ///< "ln t" (a law A (ln t - c)^k), "power", "saturation", "peak", "linear"
  double k = 0;       ///< the exponent k of a law in ln t (0 for the other kinds)
  std::function<double(double t, double t0, double t1)> d;  ///< the curve, > 0 on [t0, t1]
  /// Whether the claim holds for it under `rule`: a law in ln t with k_min <= k <= k_max.
  bool in_claim(const LogTimeRule& rule) const { return kind == "ln t" && k >= rule.k_min && k <= rule.k_max; }
};

/// The standard controls: laws in ln t (k = 1/2 ... 4, offsets c above and below 0) and the claim's
/// negations (powers of t with and without offsets, linear growth, saturation, a peak), plus the
/// families no window of 1.5-2 decades separates (t^0.15, t^0.5 - 5 sqrt(t0)).
std::vector<ControlFamily> log_time_controls();

/// The noise of one run: d_run(t) = d(t) (1 + factor) (1 + shape(t)) (1 + point(t)).
struct RunNoise {
  double factor_sd = 0.035;   ///< a random factor per run (sd): does not enter the decision (it is on ln d)
  double point_sd = 0.005;    ///< independent noise per recorded time (sd)
  double shape_sd = 0;        ///< a smooth random shape per run: a Gaussian process in ln t (sd)
  double shape_length = 0.7;  ///< its correlation length in ln t (F1: 0.7)
};

/// What log_time_power() draws and decides.
struct PowerConfig {
  double t0 = 100;            ///< the window
  double t1 = 3750;           ///< its end
  int per_decade = 20;        ///< recorded times per decade (log-spaced, t0 and t1 included)
  int runs = 4;               ///< runs (seeds) per decision
  RunNoise noise;             ///< their noise
  int draws = 200;            ///< decisions per family
  std::uint64_t seed = 1;     ///< draws are seeded (Philox): the counts are reproducible
  LogTimeRule rule;           ///< the rule under test
};

/// The outcomes of one family.
struct PowerCount {
  std::string family;      ///< its name
  std::string kind;        ///< its kind (ControlFamily::kind)
  bool in_claim = false;   ///< the claim holds for it
  int supported = 0;       ///< decisions SUPPORTED
  int falsified = 0;       ///< FALSIFIED
  int undecided = 0;       ///< UNDECIDED
  int draws = 0;           ///< decisions
  double median_w = 0;     ///< median of the decisions' mean w
  /// The share of draws decided wrongly: supported for a negation, falsified for the claim.
  double wrong() const { return draws ? static_cast<double>(in_claim ? falsified : supported) / draws : 0.0; }
  /// The share decided rightly: supported for the claim, falsified for a negation.
  double right() const { return draws ? static_cast<double>(in_claim ? supported : falsified) / draws : 0.0; }
};

/// Kinds: "ln t", "power", "linear", "saturation", "peak", and the two no window of 1.5-2 decades
/// separates from a law in ln t, "slow power" (t^0.15) and "late power" (C t^beta - a, a > 0).
/// Draws `draws` decisions per family with the runs' noise and counts the outcomes. Deterministic in
/// config.seed; independent of the thread count (single-threaded, milliseconds per family).
/// @throws InvalidArgument for a bad window, runs < 2, draws < 1 or negative noise
std::vector<PowerCount> log_time_power(const PowerConfig& config, const std::vector<ControlFamily>& families = log_time_controls());

/// {"family", "kind", "in_claim", "supported", "falsified", "undecided", "draws", "median_w"}.
void to_json(nlohmann::json& j, const PowerCount& c);

}  // namespace gengap::sim
