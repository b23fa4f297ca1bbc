// Three-outcome decisions on growth curves: the log-time claim and the overlap claim.
#include "gengap/sim/claims.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <Eigen/QR>
#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string num(double v, int prec = 3) {
  std::ostringstream os;
  os.precision(prec);
  os << v;
  return os.str();
}

// Regularized incomplete beta I_x(a, b) by Lentz's continued fraction.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double lbeta = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b);
  const double front = std::exp(lbeta + a * std::log(x) + b * std::log1p(-x));
  if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, 1 - x);
  const double tiny = 1e-300;
  double f = 1, c = 1, d = 0;
  for (int i = 0; i <= 400; ++i) {
    const int m = i / 2;
    double num_i;
    if (i == 0) {
      num_i = 1;
    } else if (i % 2 == 0) {
      num_i = (m * (b - m) * x) / ((a + 2.0 * m - 1) * (a + 2.0 * m));
    } else {
      num_i = -((a + m) * (a + b + m) * x) / ((a + 2.0 * m) * (a + 2.0 * m + 1));
    }
    d = 1 + num_i * d;
    if (std::abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + num_i / c;
    if (std::abs(c) < tiny) c = tiny;
    const double cd = c * d;
    f *= cd;
    if (std::abs(1 - cd) < 1e-14) break;
  }
  return front * (f - 1) / a;
}

// Student-t CDF with `dof` degrees of freedom.
double student_cdf(double x, double dof) {
  const double ib = incomplete_beta(dof / 2, 0.5, dof / (dof + x * x));
  return x >= 0 ? 1 - 0.5 * ib : 0.5 * ib;
}

// Quantile p of the Student-t distribution (bisection on the CDF).
double student_quantile(double p, double dof) {
  double lo = -1e3, hi = 1e3;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_cdf(mid, dof) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Linear interpolation of y(t) in ln t at `at` (inside [t.front(), t.back()]).
double interp_log(const std::vector<double>& t, const Eigen::VectorXd& y, double at) {
  const auto it = std::lower_bound(t.begin(), t.end(), at);
  if (it == t.begin()) return y(0);
  if (it == t.end()) return y(static_cast<Eigen::Index>(t.size() - 1));
  const auto j = static_cast<std::size_t>(it - t.begin());
  if (*it == at) return y(static_cast<Eigen::Index>(j));
  const double w = (std::log(at) - std::log(t[j - 1])) / (std::log(t[j]) - std::log(t[j - 1]));
  return (1 - w) * y(static_cast<Eigen::Index>(j - 1)) + w * y(static_cast<Eigen::Index>(j));
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kSupported: return "supported";
    case Outcome::kFalsified: return "falsified";
    default: return "undecided";
  }
}

LogTimeShape log_time_shape(const std::vector<double>& t, const std::vector<double>& d) {
  require(t.size() == d.size(), "d", d.size(), "must have one value per time (" + std::to_string(t.size()) + ")");
  require(t.size() >= 5, "points", t.size(), "the shape needs at least 5 times");
  const auto n = static_cast<Eigen::Index>(t.size());
  std::vector<double> u(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    require(t[i] > 0 && std::isfinite(t[i]), "t", t[i], "times must be finite and > 0");
    require(std::isfinite(d[i]), "d", d[i], "values must be finite");
    u[i] = std::log(t[i]);
  }
  const double lo = *std::min_element(u.begin(), u.end()), hi = *std::max_element(u.begin(), u.end());
  require(hi > lo, "t", t.front(), "the times must not all be equal");
  const double uc = 0.5 * (lo + hi), h = 0.5 * (hi - lo);  // x = (u - uc) / h in [-1, 1]
  Eigen::MatrixXd X(n, 4);
  Eigen::VectorXd y(n);
  double mean = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double x = (u[static_cast<std::size_t>(i)] - uc) / h;
    X(i, 0) = 1;
    X(i, 1) = x;
    X(i, 2) = x * x;
    X(i, 3) = x * x * x;
    y(i) = d[static_cast<std::size_t>(i)];
    mean += y(i);
  }
  mean /= static_cast<double>(n);
  const Eigen::Vector4d c = X.colPivHouseholderQr().solve(y);
  // Derivatives in u: d/du = (1/h) d/dx.
  auto s = [&](double x) { return (c(1) + 2 * c(2) * x + 3 * c(3) * x * x) / h; };
  auto s1 = [&](double x) { return (2 * c(2) + 6 * c(3) * x) / (h * h); };
  const double s2 = 6 * c(3) / (h * h * h);
  LogTimeShape out;
  const double scale = std::abs(mean) > 0 ? std::abs(mean) : 1.0;
  out.slope_start = s(-1) / scale;
  out.slope_mid = s(0) / scale;
  out.slope_end = s(1) / scale;
  out.q_start = s1(-1) / s(-1);
  out.q_mid = s1(0) / s(0);
  out.q_end = s1(1) / s(1);
  out.g = s2 / s(0) - out.q_mid * out.q_mid;
  return out;
}

LogTimeDecision decide_log_time(const std::vector<double>& t, const Eigen::MatrixXd& samples, double t0, double t1,
                                const LogTimeRule& rule) {
  require(static_cast<std::size_t>(samples.cols()) == t.size(), "samples", std::to_string(samples.cols()) + " columns",
          "must have one column per time (" + std::to_string(t.size()) + ")");
  require(std::isfinite(t0) && std::isfinite(t1) && t0 > 0 && t1 > t0, "window", "[" + num(t0) + ", " + num(t1) + "]",
          "must satisfy 0 < t0 < t1");
  require(rule.min_window_ratio > 1 && rule.k_max > 1 && rule.q_flat >= 0 && rule.level > 0 && rule.level < 1 && rule.min_samples >= 2 &&
              rule.min_points >= 5,
          "rule", "log-time", "needs min_window_ratio > 1, k_max > 1, q_flat >= 0, level in (0, 1), min_samples >= 2, min_points >= 5");
  LogTimeDecision out;
  out.t0 = t0;
  out.t1 = t1;
  out.samples = static_cast<std::size_t>(samples.rows());
  out.z = out.z_lo = out.z_hi = kNaN;
  out.k_implied = kNaN;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t[i] >= t0 && t[i] <= t1) idx.push_back(i);
  out.points = idx.size();
  auto undecided = [&](const std::string& why) {
    out.outcome = Outcome::kUndecided;
    out.reason = why;
    return out;
  };
  if (idx.size() < static_cast<std::size_t>(rule.min_points))
    return undecided(std::to_string(idx.size()) + " recorded times in [" + num(t0) + ", " + num(t1) + "], fewer than the " +
                     std::to_string(rule.min_points) + " the rule needs");
  const double ratio = t[idx.back()] / t[idx.front()];
  if (ratio < rule.min_window_ratio)
    return undecided("the window spans t1/t0 = " + num(ratio) + ", less than the " + num(rule.min_window_ratio) +
                     " the rule needs to tell a power of ln t from a power of t");
  if (samples.rows() < rule.min_samples)
    return undecided(std::to_string(samples.rows()) + " run(s): at least " + std::to_string(rule.min_samples) + " are needed for an interval");
  std::vector<double> tw;
  for (auto i : idx) tw.push_back(t[i]);
  std::vector<LogTimeShape> shapes;
  for (Eigen::Index r = 0; r < samples.rows(); ++r) {
    std::vector<double> dw;
    for (auto i : idx) dw.push_back(samples(r, static_cast<Eigen::Index>(i)));
    shapes.push_back(log_time_shape(tw, dw));
  }
  auto field = [](const LogTimeShape& s, int k) {
    const double v[7] = {s.slope_start, s.slope_mid, s.slope_end, s.q_start, s.q_mid, s.q_end, s.g};
    return v[k];
  };
  auto set = [](LogTimeShape& s, int k, double v) {
    double* f[7] = {&s.slope_start, &s.slope_mid, &s.slope_end, &s.q_start, &s.q_mid, &s.q_end, &s.g};
    *f[k] = v;
  };
  const double n = static_cast<double>(shapes.size());
  const double tq = student_quantile(0.5 + rule.level / 2, n - 1);
  for (int k = 0; k < 7; ++k) {
    double m = 0, ss = 0;
    for (const auto& s : shapes) m += field(s, k);
    m /= n;
    for (const auto& s : shapes) ss += (field(s, k) - m) * (field(s, k) - m);
    const double se = std::sqrt(ss / (n - 1) / n);
    set(out.mean, k, m);
    set(out.lo, k, m - tq * se);
    set(out.hi, k, m + tq * se);
  }
  for (int k = 0; k < 7; ++k)
    if (!std::isfinite(field(out.mean, k)) || !std::isfinite(field(out.lo, k)) || !std::isfinite(field(out.hi, k)))
      return undecided("the slope dd/d ln t vanishes inside the window in some run: its growth rate is not defined");
  const LogTimeShape& m = out.mean;
  const LogTimeShape& lo = out.lo;
  const LogTimeShape& hi = out.hi;
  const std::string at = " on [" + num(t[idx.front()]) + ", " + num(t[idx.back()]) + "]";
  // 2. Falls or saturates.
  if (hi.slope_end < 0 || hi.slope_mid < 0) {
    out.outcome = Outcome::kFalsified;
    out.reason = "d falls" + at + ": its slope dd/d ln t at the " + std::string(hi.slope_end < 0 ? "end" : "centre") +
                 " of the window is below 0 (relative slope " + num(hi.slope_end < 0 ? m.slope_end : m.slope_mid) + ")";
    return out;
  }
  const double q_hi_min = std::min({hi.q_start, hi.q_mid, hi.q_end});
  if (q_hi_min < -rule.q_flat) {
    out.outcome = Outcome::kFalsified;
    out.reason = "d saturates" + at + ": the slope dd/d ln t shrinks at a rate q = " + num(std::min({m.q_start, m.q_mid, m.q_end})) +
                 " per unit ln t, faster than any power of ln t with k >= 1 (q >= 0) allows";
    return out;
  }
  // 3. The ln t law: a constant slope.
  const double q_abs_max = std::max({std::abs(lo.q_start), std::abs(hi.q_start), std::abs(lo.q_mid), std::abs(hi.q_mid),
                                     std::abs(lo.q_end), std::abs(hi.q_end)});
  if (q_abs_max <= rule.q_flat) {
    out.outcome = Outcome::kSupported;
    out.reason = "d = a + b ln t" + at + ": the slope dd/d ln t stays constant within " + num(rule.q_flat) +
                 " per unit ln t (q from " + num(m.q_start) + " to " + num(m.q_end) + ")";
    return out;
  }
  // 4. A growing slope: does its growth slow down as a power of ln t does?
  if (lo.q_mid > rule.q_flat) {
    const double zb = 1 / (rule.k_max - 1);
    double zmin = std::numeric_limits<double>::infinity(), zmax = -zmin;
    for (double gg : {lo.g, hi.g})
      for (double qq : {lo.q_mid, hi.q_mid}) {
        zmin = std::min(zmin, -gg / (qq * qq));
        zmax = std::max(zmax, -gg / (qq * qq));
      }
    out.z = -m.g / (m.q_mid * m.q_mid);
    out.z_lo = zmin;
    out.z_hi = zmax;
    out.k_implied = out.z > 0 ? 1 + 1 / out.z : std::numeric_limits<double>::infinity();
    const std::string kk = out.z > 0 ? num(out.k_implied) : std::string("infinite");
    if (zmin >= zb) {
      out.outcome = Outcome::kSupported;
      out.reason = "d grows like A (ln t - c)^k" + at + ": the slope's growth rate q = " + num(m.q_mid) + " falls as (k - 1)/(ln t - c) with k = " +
                   kk + " <= " + num(rule.k_max) + " (z = -g/q^2 in [" + num(zmin) + ", " + num(zmax) + "])";
      return out;
    }
    if (zmax < zb) {
      out.outcome = Outcome::kFalsified;
      out.reason = "d grows like a power of t" + at + ": the slope's growth rate q = " + num(m.q_mid) +
                   (m.g >= 0 ? " does not fall" : " falls too slowly") + " (implied k = " + kk + ", z in [" + num(zmin) + ", " + num(zmax) +
                   "] below 1/(k_max - 1) = " + num(zb) + ")";
      return out;
    }
    return undecided("both a power of ln t (k <= " + num(rule.k_max) + ") and a power of t fit" + at + ": q = " + num(m.q_mid) +
                     ", z = -g/q^2 in [" + num(zmin) + ", " + num(zmax) + "] straddles " + num(zb));
  }
  return undecided("the slope's growth rate q = " + num(m.q_mid) + " [" + num(lo.q_mid) + ", " + num(hi.q_mid) + "]" + at +
                   " is neither clearly constant (|q| <= " + num(rule.q_flat) + ") nor clearly growing");
}

void to_json(nlohmann::json& j, const LogTimeDecision& d) {
  auto shape = [](const LogTimeShape& s) {
    return nlohmann::json{{"slope_start", s.slope_start}, {"slope_mid", s.slope_mid}, {"slope_end", s.slope_end}, {"q_start", s.q_start},
                          {"q_mid", s.q_mid},             {"q_end", s.q_end},         {"g", s.g}};
  };
  auto f = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  j = {{"name", "log-time"},
       {"verdict", outcome_name(d.outcome)},
       {"reason", d.reason},
       {"window", {d.t0, d.t1}},
       {"points", d.points},
       {"samples", d.samples},
       {"statistic",
        {{"what", "cubic in ln t per run: s = dd/d ln t (relative to mean d), q = d ln s / d ln t, g = dq/d ln t, z = -g/q^2 = 1/(k-1)"},
         {"mean", shape(d.mean)},
         {"lo", shape(d.lo)},
         {"hi", shape(d.hi)},
         {"z", f(d.z)},
         {"z_interval", {f(d.z_lo), f(d.z_hi)}},
         {"k_implied", f(d.k_implied)}}}};
}

Deviation max_relative_deviation(const CurveRuns& ref, const std::vector<CurveRuns>& curves, double t0, double t1, int resamples,
                                 double level, std::uint64_t seed) {
  require(!curves.empty(), "curves", "[]", "need at least one curve besides the reference");
  require(resamples >= 10 && level > 0 && level < 1, "resamples", resamples, "must be >= 10 with a level in (0, 1)");
  auto check = [&](const CurveRuns& c, const std::string& name) {
    require(c.runs.rows() >= 1 && static_cast<std::size_t>(c.runs.cols()) == c.t.size() && c.t.size() >= 2, name, c.t.size(),
            "needs runs with one value per time");
    require(c.t.front() <= t0 * (1 + 1e-12) && c.t.back() >= t1 * (1 - 1e-12), name, "[" + num(c.t.front()) + ", " + num(c.t.back()) + "]",
            "must cover the window [" + num(t0) + ", " + num(t1) + "]");
  };
  check(ref, "reference");
  for (std::size_t i = 0; i < curves.size(); ++i) check(curves[i], "curve " + std::to_string(i));
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < ref.t.size(); ++i)
    if (ref.t[i] >= t0 && ref.t[i] <= t1) at.push_back(i);
  require(!at.empty(), "window", "[" + num(t0) + ", " + num(t1) + "]", "holds none of the reference's times");
  auto measure = [&](const Eigen::VectorXd& r, const std::vector<Eigen::VectorXd>& cs, std::size_t* which, double* where) {
    double worst = 0;
    for (std::size_t c = 0; c < cs.size(); ++c)
      for (auto i : at) {
        const double dr = r(static_cast<Eigen::Index>(i));
        const double dev = std::abs(interp_log(curves[c].t, cs[c], ref.t[i]) / dr - 1);
        if (!(dev <= worst)) {
          worst = dev;
          if (which) *which = c;
          if (where) *where = ref.t[i];
        }
      }
    return worst;
  };
  auto mean_of = [](const Eigen::MatrixXd& m) { return Eigen::VectorXd(m.colwise().mean().transpose()); };
  Deviation out;
  std::vector<Eigen::VectorXd> means;
  for (const auto& c : curves) means.push_back(mean_of(c.runs));
  out.value = measure(mean_of(ref.runs), means, &out.curve, &out.at_t);
  std::vector<double> draws;
  auto resample = [](const Eigen::MatrixXd& m, const Stream& st, std::uint64_t& counter) {
    Eigen::VectorXd acc = Eigen::VectorXd::Zero(m.cols());
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      const auto pick = static_cast<Eigen::Index>((static_cast<std::uint64_t>(st(counter++)[0]) * static_cast<std::uint64_t>(m.rows())) >> 32);
      acc += m.row(pick).transpose();
    }
    return Eigen::VectorXd(acc / static_cast<double>(m.rows()));
  };
  for (int b = 0; b < resamples; ++b) {
    const Stream st(seed, StreamPurpose::kBootstrap, static_cast<std::uint32_t>(b), 0x0E17u);
    std::uint64_t counter = 0;
    const Eigen::VectorXd r = resample(ref.runs, st, counter);
    std::vector<Eigen::VectorXd> cs;
    for (const auto& c : curves) cs.push_back(resample(c.runs, st, counter));
    draws.push_back(measure(r, cs, nullptr, nullptr));
  }
  std::sort(draws.begin(), draws.end());
  auto pct = [&](double p) {
    const double pos = p * static_cast<double>(draws.size() - 1);
    const auto i = static_cast<std::size_t>(std::floor(pos));
    const double w = pos - static_cast<double>(i);
    return i + 1 < draws.size() ? (1 - w) * draws[i] + w * draws[i + 1] : draws[i];
  };
  out.lo = pct((1 - level) / 2);
  out.hi = pct((1 + level) / 2);
  return out;
}

std::pair<Outcome, std::string> decide_overlap(const Deviation& scaled, const std::vector<std::pair<std::string, Deviation>>& controls,
                                               double max_deviation) {
  require(max_deviation > 0 && std::isfinite(max_deviation), "max_deviation", max_deviation, "must be finite and > 0");
  if (controls.empty()) return {Outcome::kUndecided, "no control runs (other learning-rate rules) to compare the overlap with"};
  const std::string dev = num(scaled.value) + " [" + num(scaled.lo) + ", " + num(scaled.hi) + "]";
  if (scaled.lo > max_deviation)
    return {Outcome::kFalsified, "the curves differ by up to " + dev + " (at " + num(scaled.at_t) + " on the reference's axis), more than the " +
                                     num(max_deviation) + " allowed"};
  if (scaled.hi > max_deviation)
    return {Outcome::kUndecided, "the largest deviation " + dev + " straddles the " + num(max_deviation) + " allowed"};
  std::string worse;
  for (const auto& [name, d] : controls) {
    if (d.lo > scaled.hi) continue;
    worse += (worse.empty() ? "" : "; ") + name + " deviates " + num(d.value) + " [" + num(d.lo) + ", " + num(d.hi) + "]";
  }
  if (!worse.empty())
    return {Outcome::kUndecided, "the curves overlap within " + dev + ", but not clearly better than the controls (" + worse +
                                     "): the overlap cannot be credited to the learning-rate rule"};
  std::string ctl;
  for (const auto& [name, d] : controls) ctl += (ctl.empty() ? "" : ", ") + name + " " + num(d.value) + " [" + num(d.lo) + ", " + num(d.hi) + "]";
  return {Outcome::kSupported, "the curves overlap within " + dev + " <= " + num(max_deviation) + ", clearly closer than the controls (" + ctl + ")"};
}

}  // namespace gengap::sim
