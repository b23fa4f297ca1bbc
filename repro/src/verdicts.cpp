// How the reproduction decides: claims as verdicts, from fits and overlap measures.
#include "gengap/repro/verdicts.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"

namespace gengap::repro {

void to_json(nlohmann::json& j, const Verdict& v) {
  j = {{"experiment", v.experiment}, {"claim", v.claim}, {"expected", v.expected}, {"measured", v.measured},
       {"rule", v.rule},             {"verdict", sim::outcome_name(v.outcome)}, {"reason", v.reason}};
}

std::string fmt(double v, int prec) {
  std::ostringstream os;
  os << std::setprecision(prec) << v;
  return os.str();
}

std::vector<std::size_t> log_thin(const std::vector<double>& t, double t_min, int per_decade) {
  sim::require(per_decade >= 1, "per_decade", std::to_string(per_decade), "must be >= 1");
  std::vector<std::size_t> keep;
  long last_slot = std::numeric_limits<long>::min();
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!(t[i] >= t_min) || !(t[i] > 0)) continue;
    const long slot = std::lround(std::floor(per_decade * std::log10(t[i]) + 1e-9));
    if (slot != last_slot) {
      keep.push_back(i);
      last_slot = slot;
    }
  }
  return keep;
}

namespace {
std::size_t model_index(const sim::BootstrapFits& b, const std::string& name) {
  for (std::size_t m = 0; m < b.fits.size(); ++m)
    if (b.fits[m].model == name) return m;
  throw std::logic_error("no fitted model " + name);
}
std::size_t param_index(const sim::FitResult& f, const std::string& name) {
  for (std::size_t p = 0; p < f.names.size(); ++p)
    if (f.names[p] == name) return p;
  throw std::logic_error("no parameter " + name);
}
}  // namespace

DiffusionFit fit_diffusion(const std::vector<double>& t, const Eigen::MatrixXd& runs, int resamples, std::uint64_t seed,
                           double fixed_k) {
  sim::require(runs.rows() >= 1, "runs", "0", "need at least one run");
  sim::require(static_cast<std::size_t>(runs.cols()) == t.size(), "runs", std::to_string(runs.cols()) + " columns",
               "must match the " + std::to_string(t.size()) + " times");
  DiffusionFit out;
  const sim::ModelComparer comparer = [fixed_k](const std::vector<double>& tt, const std::vector<double>& yy) {
    return sim::compare_distance_models(tt, yy, fixed_k);
  };
  if (runs.rows() >= 2) {
    out.fits = sim::bootstrap_fits(t, runs, resamples, 0.95, seed, comparer);
  } else {  // one run: the fits without intervals
    const Eigen::VectorXd m = runs.row(0).transpose();
    out.fits.fits = comparer(t, std::vector<double>(m.data(), m.data() + m.size()));
    for (const auto& f : out.fits.fits) {
      std::vector<sim::Interval> iv;
      for (double p : f.params) iv.push_back({p, p});
      out.fits.intervals.push_back(iv);
      out.fits.preferred_fraction.push_back(&f == &out.fits.fits.front() ? 1.0 : 0.0);
    }
  }
  const std::size_t lm = model_index(out.fits, "log-c"), pm = model_index(out.fits, "power-offset");
  const auto& lf = out.fits.fits[lm];
  const auto& pf = out.fits.fits[pm];
  out.k = lf.param("k");
  out.k_ci = out.fits.intervals[lm][param_index(lf, "k")];
  out.c = lf.param("c");
  out.beta = pf.param("beta");
  out.beta_ci = out.fits.intervals[pm][param_index(pf, "beta")];
  out.delta_aic = pf.aic - lf.aic;
  return out;
}

namespace {
Verdict make(const std::string& experiment, const std::string& claim, const std::string& expected, const std::string& measured,
             const std::string& rule, sim::Outcome o, const std::string& reason) {
  Verdict v;
  v.experiment = experiment;
  v.claim = claim;
  v.expected = expected;
  v.measured = measured;
  v.rule = rule;
  v.outcome = o;
  v.reason = reason;
  return v;
}

// A Student-t quantile from a table for 1 ... 20 degrees of freedom, then z + c / dof.
double t_quantile(const double (&tab)[20], double z, double c, double dof) {
  if (dof < 1) return std::numeric_limits<double>::infinity();
  const auto i = static_cast<int>(std::floor(dof));
  return i <= 20 ? tab[i - 1] : z + c / dof;
}

// Two-sided 95% (the intervals).
double t975(double dof) {
  static const double tab[20] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
  return t_quantile(tab, 1.96, 2.5, dof);
}

// One-sided 80% (the power statement).
double t80(double dof) {
  static const double tab[20] = {1.376, 1.061, 0.978, 0.941, 0.920, 0.906, 0.896, 0.889, 0.883, 0.879,
                                 0.876, 0.873, 0.870, 0.868, 0.866, 0.865, 0.863, 0.862, 0.861, 0.860};
  return t_quantile(tab, 0.842, 0.36, dof);
}
}  // namespace

double Difference::resolution() const {
  return interval ? (t975(dof) + t80(dof)) * se : std::numeric_limits<double>::infinity();
}

Verdict undecided_verdict(const std::string& experiment, const std::string& claim, const std::string& expected,
                          const std::string& measured, const std::string& rule, const std::string& reason) {
  return make(experiment, claim, expected, measured, rule, sim::Outcome::kUndecided, reason);
}

Verdict log_time_verdict(const std::string& experiment, const std::vector<sim::LogTimeDecision>& decisions,
                         const std::vector<std::string>& labels, const sim::LogTimeRule& rule) {
  sim::require(!decisions.empty() && decisions.size() == labels.size(), "decisions", std::to_string(decisions.size()),
               "need at least one decision and one label per decision");
  int supported = 0, falsified = 0;
  std::string measured, first_false, first_open;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const auto& d = decisions[i];
    supported += d.outcome == sim::Outcome::kSupported;
    falsified += d.outcome == sim::Outcome::kFalsified;
    measured += (measured.empty() ? "" : "; ") + labels[i] + ": " + sim::outcome_name(d.outcome) + " (w " + fmt(d.mean.w, 3) + " [" +
                fmt(d.lo.w, 3) + ", " + fmt(d.hi.w, 3) + "], end " + fmt(d.mean.w_end, 3) + " [" + fmt(d.lo.w_end, 3) + ", " + fmt(d.hi.w_end, 3) +
                "]" + (std::isfinite(d.k_implied) ? ", k = 1/w " + fmt(d.k_implied, 3) : std::string()) + ")";
    if (d.outcome == sim::Outcome::kFalsified && first_false.empty()) first_false = labels[i] + ": " + d.reason;
    if (d.outcome == sim::Outcome::kUndecided && first_open.empty()) first_open = labels[i] + ": " + d.reason;
  }
  const auto n = static_cast<int>(decisions.size());
  const std::string claim = "d(t) grows like a power of ln t, not of t" + std::string(n > 1 ? " (every batch size)" : "");
  const std::string expected = "A (ln t - c)^k, " + fmt(rule.k_min, 3) + " <= k <= " + fmt(rule.k_max, 3) + " (a + b ln t: k = 1)";
  const std::string r = "inverse exponent w = d(1/beta)/d ln t (beta = d ln d/d ln t; w = 1/k for a law in ln t, 0 for a power of t) on the window "
                        "and its second half; Student-t " + fmt(rule.level, 3) + " over runs; w in [" + fmt(1 / rule.k_max, 3) + ", " +
                        fmt(1 / rule.k_min, 3) + "]; window t1/t0 >= " + fmt(rule.min_window_ratio, 3);
  if (falsified > 0) return make(experiment, claim, expected, measured, r, sim::Outcome::kFalsified, first_false);
  if (supported == n)
    return make(experiment, claim, expected, measured, r, sim::Outcome::kSupported,
                n > 1 ? "every curve is decided for a law in ln t" : decisions.front().reason);
  return make(experiment, claim, expected, measured, r, sim::Outcome::kUndecided, first_open);
}

Verdict exponent_verdict(const std::string& experiment, const std::string& claim, double measured, sim::Interval ci,
                         double predicted, double relative_tolerance) {
  const double lo_b = predicted - relative_tolerance * std::abs(predicted), hi_b = predicted + relative_tolerance * std::abs(predicted);
  const std::string m = fmt(measured) + " [" + fmt(ci.lo) + ", " + fmt(ci.hi) + "]";
  const std::string rule = "interval inside " + fmt(predicted) + " x (1 -+ " + fmt(relative_tolerance, 3) + ")";
  if (!std::isfinite(measured) || !std::isfinite(predicted) || !std::isfinite(ci.lo) || !std::isfinite(ci.hi))
    return make(experiment, claim, fmt(predicted), m, rule, sim::Outcome::kUndecided, "the measurement or the prediction is not finite");
  const std::string band = "[" + fmt(lo_b) + ", " + fmt(hi_b) + "]";
  if (ci.lo >= lo_b && ci.hi <= hi_b)
    return make(experiment, claim, fmt(predicted), m, rule, sim::Outcome::kSupported, "the interval lies inside the band " + band);
  if (ci.hi < lo_b || ci.lo > hi_b)
    return make(experiment, claim, fmt(predicted), m, rule, sim::Outcome::kFalsified, "the interval lies outside the band " + band);
  return make(experiment, claim, fmt(predicted), m, rule, sim::Outcome::kUndecided, "the interval straddles an edge of the band " + band);
}

Verdict overlap_verdict(const std::string& experiment, const std::string& claim, const sim::Deviation& scaled,
                        const std::vector<std::pair<std::string, sim::Deviation>>& controls, double max_deviation,
                        const std::string& quantity) {
  const auto [o, why] = sim::decide_overlap(scaled, controls, max_deviation);
  std::string m = "max |" + quantity + " - 1| " + fmt(scaled.value, 3) + " [" + fmt(scaled.lo, 3) + ", " + fmt(scaled.hi, 3) + "]";
  for (const auto& [name, d] : controls) m += "; " + name + " " + fmt(d.value, 3) + " [" + fmt(d.lo, 3) + ", " + fmt(d.hi, 3) + "]";
  return make(experiment, claim, "<= " + fmt(max_deviation, 3) + ", below every control", m,
              "ratios of means, Student-t intervals simultaneous at 95% over points and curves (Welch, or paired over the same units); upper end <= " +
                  fmt(max_deviation, 3) +
                  " and below each control's lower end",
              o, why);
}

Verdict below_bound_verdict(const std::string& experiment, const std::string& claim, const std::vector<Labelled>& values, double bound) {
  const std::string expected = "< " + fmt(bound, 3) + " everywhere", rule = "every interval's upper end < " + fmt(bound, 3);
  std::string m;
  for (const auto& v : values) m += (m.empty() ? "" : "; ") + v.label + ": " + fmt(v.value, 3) + " [" + fmt(v.ci.lo, 3) + ", " + fmt(v.ci.hi, 3) + "]";
  if (values.empty()) return make(experiment, claim, expected, "-", rule, sim::Outcome::kUndecided, "nothing was measured");
  const Labelled* straddles = nullptr;
  for (const auto& v : values) {
    if (!std::isfinite(v.value) || !std::isfinite(v.ci.lo) || !std::isfinite(v.ci.hi))
      return make(experiment, claim, expected, m, rule, sim::Outcome::kUndecided, v.label + " has no finite estimate");
    if (v.ci.lo >= bound)
      return make(experiment, claim, expected, m, rule, sim::Outcome::kFalsified,
                  v.label + ": the whole interval lies at or above " + fmt(bound, 3));
    if (v.ci.hi >= bound && straddles == nullptr) straddles = &v;
  }
  if (straddles != nullptr)
    return make(experiment, claim, expected, m, rule, sim::Outcome::kUndecided, straddles->label + ": the interval straddles " + fmt(bound, 3));
  return make(experiment, claim, expected, m, rule, sim::Outcome::kSupported, "every interval lies below " + fmt(bound, 3));
}

Difference difference(const std::vector<double>& a, const std::vector<double>& b) {
  sim::require(!a.empty() && !b.empty(), "accuracies", "[]", "need at least one value on each side");
  auto ms = [](const std::vector<double>& v, double* var) {
    double m = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    *var = v.size() > 1 ? s / static_cast<double>(v.size() - 1) : 0.0;
    return m;
  };
  double va = 0, vb = 0;
  const double ma = ms(a, &va), mb = ms(b, &vb);
  Difference d;
  d.value = d.lo = d.hi = ma - mb;
  if (a.size() >= 2 && b.size() >= 2) {
    const double sa = va / static_cast<double>(a.size()), sb = vb / static_cast<double>(b.size());
    const double se = std::sqrt(sa + sb);
    const double dof = se > 0 ? (sa + sb) * (sa + sb) / (sa * sa / static_cast<double>(a.size() - 1) + sb * sb / static_cast<double>(b.size() - 1))
                              : 1e9;
    d.lo = d.value - t975(dof) * se;
    d.hi = d.value + t975(dof) * se;
    d.interval = true;
    d.se = se;
    d.dof = dof;
  }
  d.n_a = a.size();
  d.n_b = b.size();
  return d;
}

namespace {
std::string diff_text(const Difference& d) {
  return fmt(d.value, 3) + (d.interval ? " [" + fmt(d.lo, 3) + ", " + fmt(d.hi, 3) + "]" : std::string(" (1 seed: no interval)"));
}

// The rule's power at the measured spread, appended to the rule's text.
std::string power_text(const Difference& d) {
  if (!d.interval) return "; no power statement with 1 seed";
  return "; power at the measured spread (" + std::to_string(d.n_a) + " and " + std::to_string(d.n_b) + " seeds, se " + fmt(d.se, 2) +
         ", " + fmt(d.dof, 2) + " degrees of freedom): decided about 80% of the time when the true difference lies >= " + fmt(d.resolution(), 2) +
         " points from the bound";
}
}  // namespace

Verdict gap_verdict(const std::string& experiment, const std::vector<double>& small_acc, const std::vector<double>& large_acc,
                    double min_gap) {
  const Difference d = difference(small_acc, large_acc);
  const std::string claim = "the large batch generalizes worse (LB vs SB)", m = "gap " + diff_text(d) + " points";
  const std::string rule = "SB - LB >= " + fmt(min_gap, 3) + " points (Welch 95% over seeds)" + power_text(d);
  if (d.lo >= min_gap) return make(experiment, claim, "gap > 0", m, rule, sim::Outcome::kSupported, "SB beats LB by at least " + fmt(min_gap, 3) + " points");
  if (d.hi < min_gap)
    return make(experiment, claim, "gap > 0", m, rule, sim::Outcome::kFalsified, "the gap is below " + fmt(min_gap, 3) + " points");
  return make(experiment, claim, "gap > 0", m, rule, sim::Outcome::kUndecided, "the interval of the gap straddles " + fmt(min_gap, 3) + " points");
}

Verdict closed_gap_verdict(const std::string& experiment, const std::vector<double>& small_acc, const std::vector<double>& adapted_acc,
                           double tolerance) {
  const Difference d = difference(small_acc, adapted_acc);
  const std::string claim = "+LR +GBN +RA closes the gap", m = "SB - (+RA) " + diff_text(d) + " points";
  const std::string rule = "SB - (+RA) <= " + fmt(tolerance, 3) + " points (Welch 95% over seeds)" + power_text(d);
  if (d.hi <= tolerance)
    return make(experiment, claim, "SB - adapted LB <= 0", m, rule, sim::Outcome::kSupported, "+RA is within " + fmt(tolerance, 3) + " points of SB or better");
  if (d.lo > tolerance)
    return make(experiment, claim, "SB - adapted LB <= 0", m, rule, sim::Outcome::kFalsified, "+RA stays more than " + fmt(tolerance, 3) + " points below SB");
  return make(experiment, claim, "SB - adapted LB <= 0", m, rule, sim::Outcome::kUndecided, "the interval straddles " + fmt(tolerance, 3) + " points");
}

Verdict difference_verdict(const std::string& experiment, const std::string& claim, const std::string& expected, const std::vector<double>& a,
                           const std::vector<double>& b, const std::string& what, double bound, bool at_least) {
  const Difference d = difference(a, b);
  const std::string m = what + " " + diff_text(d) + " points";
  const std::string rule = what + (at_least ? " >= " : " <= ") + fmt(bound, 3) + " points (Welch 95% over seeds)" + power_text(d);
  const bool yes = at_least ? d.lo >= bound : d.hi <= bound, no = at_least ? d.hi < bound : d.lo > bound;
  if (yes) return make(experiment, claim, expected, m, rule, sim::Outcome::kSupported, "the interval lies " + std::string(at_least ? "at or above " : "at or below ") + fmt(bound, 3) + " points");
  if (no) return make(experiment, claim, expected, m, rule, sim::Outcome::kFalsified, "the interval lies " + std::string(at_least ? "below " : "above ") + fmt(bound, 3) + " points");
  return make(experiment, claim, expected, m, rule, sim::Outcome::kUndecided, "the interval straddles " + fmt(bound, 3) + " points");
}

Verdict not_worse_verdict(const std::string& experiment, const std::string& claim, const std::vector<double>& better,
                          const std::vector<double>& worse, double tolerance) {
  const Difference d = difference(better, worse);
  const std::string m = "difference " + diff_text(d) + " points";
  const std::string rule = "difference >= -" + fmt(tolerance, 3) + " points (Welch 95% over seeds)" + power_text(d);
  if (d.lo >= -tolerance) return make(experiment, claim, ">= 0", m, rule, sim::Outcome::kSupported, "not worse by more than " + fmt(tolerance, 3) + " points");
  if (d.hi < -tolerance) return make(experiment, claim, ">= 0", m, rule, sim::Outcome::kFalsified, "worse by more than " + fmt(tolerance, 3) + " points");
  return make(experiment, claim, ">= 0", m, rule, sim::Outcome::kUndecided, "the interval straddles -" + fmt(tolerance, 3) + " points");
}

}  // namespace gengap::repro
