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
       {"tolerance", v.tolerance},   {"pass", v.pass}};
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

DiffusionFit fit_diffusion(const std::vector<double>& t, const Eigen::MatrixXd& runs, int resamples, std::uint64_t seed) {
  sim::require(runs.rows() >= 1, "runs", "0", "need at least one run");
  sim::require(static_cast<std::size_t>(runs.cols()) == t.size(), "runs", std::to_string(runs.cols()) + " columns",
               "must match the " + std::to_string(t.size()) + " times");
  DiffusionFit out;
  out.fits = sim::bootstrap_fits(t, runs, resamples, 0.95, seed, sim::ModelComparer(sim::compare_distance_models));
  const std::size_t lm = model_index(out.fits, "log-offset"), pm = model_index(out.fits, "power-y");
  const auto& lf = out.fits.fits[lm];
  const auto& pf = out.fits.fits[pm];
  out.k = lf.param("k");
  out.k_ci = out.fits.intervals[lm][param_index(lf, "k")];
  out.beta = pf.param("beta");
  out.beta_ci = out.fits.intervals[pm][param_index(pf, "beta")];
  out.delta_aic = pf.aic - lf.aic;
  out.log_preferred = out.fits.preferred_fraction[lm];
  return out;
}

Verdict log_time_verdict(const std::string& experiment, const std::vector<DiffusionFit>& fits,
                         const std::vector<std::string>& labels, double min_delta_aic) {
  sim::require(!fits.empty() && fits.size() == labels.size(), "fits", std::to_string(fits.size()),
               "need at least one fit and one label per fit");
  std::size_t passed = 0, worst = 0;
  for (std::size_t i = 0; i < fits.size(); ++i) {
    if (fits[i].delta_aic >= min_delta_aic) ++passed;
    if (fits[i].delta_aic < fits[worst].delta_aic) worst = i;
  }
  Verdict v;
  v.experiment = experiment;
  v.claim = "d(t) grows like a power of ln t, not like t^beta" + std::string(fits.size() > 1 ? " (every batch size)" : "");
  v.expected = "a + b (ln t)^k preferred";
  v.measured = std::to_string(passed) + "/" + std::to_string(fits.size()) + " preferred; smallest AIC(power) - AIC(log) = " +
               fmt(fits[worst].delta_aic, 3) + " (" + labels[worst] + ")";
  v.tolerance = "AIC(power) - AIC(log) >= " + fmt(min_delta_aic, 3);
  v.pass = passed == fits.size();
  return v;
}

Verdict exponent_verdict(const std::string& experiment, const std::string& claim, double measured, sim::Interval ci,
                         double predicted, double relative_tolerance) {
  Verdict v;
  v.experiment = experiment;
  v.claim = claim;
  v.expected = fmt(predicted);
  v.measured = fmt(measured) + " [" + fmt(ci.lo) + ", " + fmt(ci.hi) + "]";
  v.tolerance = "rel. " + fmt(relative_tolerance, 3);
  v.pass = std::isfinite(measured) && std::isfinite(predicted) &&
           std::abs(measured - predicted) <= relative_tolerance * std::abs(predicted);
  return v;
}

OverlapCheck check_overlap(const std::vector<sim::Curve>& by_iterations, const std::vector<sim::Curve>& by_epochs, int points) {
  return {sim::curve_overlap(by_iterations, points), sim::curve_overlap(by_epochs, points)};
}

Verdict overlap_verdict(const std::string& experiment, const OverlapCheck& o, double max_spread, double max_ratio) {
  Verdict v;
  v.experiment = experiment;
  v.claim = "d curves of different batch sizes overlap against iterations, not epochs (sqrt lr scaling)";
  v.expected = "spread(iterations) small, << spread(epochs)";
  v.measured = "spread " + fmt(o.iterations.spread, 3) + " (iterations " + fmt(o.iterations.x_lo, 3) + ".." +
               fmt(o.iterations.x_hi, 3) + ") vs " + fmt(o.epochs.spread, 3) + " (epochs " + fmt(o.epochs.x_lo, 3) + ".." +
               fmt(o.epochs.x_hi, 3) + ")";
  v.tolerance = "<= " + fmt(max_spread, 3) + " and <= " + fmt(max_ratio, 3) + " x spread(epochs)";
  v.pass = o.iterations.spread <= max_spread && o.iterations.spread <= max_ratio * o.epochs.spread;
  return v;
}

Verdict gap_verdict(const std::string& experiment, double small_acc, double large_acc, double min_gap) {
  Verdict v;
  v.experiment = experiment;
  v.claim = "the large batch generalizes worse (LB vs SB)";
  v.expected = "gap > 0";
  v.measured = "gap " + fmt(small_acc - large_acc, 3) + " points (" + fmt(small_acc, 4) + " vs " + fmt(large_acc, 4) + ")";
  v.tolerance = "gap >= " + fmt(min_gap, 3) + " points";
  v.pass = small_acc - large_acc >= min_gap;
  return v;
}

Verdict closed_gap_verdict(const std::string& experiment, double small_acc, double adapted_acc, double tolerance) {
  Verdict v;
  v.experiment = experiment;
  v.claim = "+LR +GBN +RA closes the gap";
  v.expected = "SB - adapted LB <= 0";
  v.measured = "gap " + fmt(small_acc - adapted_acc, 3) + " points (" + fmt(small_acc, 4) + " vs " + fmt(adapted_acc, 4) + ")";
  v.tolerance = "gap <= " + fmt(tolerance, 3) + " points";
  v.pass = small_acc - adapted_acc <= tolerance;
  return v;
}

}  // namespace gengap::repro
