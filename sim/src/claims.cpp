// Three-outcome decisions on growth curves: the log-time claim and the overlap claim.
#include "gengap/sim/claims.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"

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

namespace {

// The model ln d = a + ln(1 + w b v)/w at one v = u - u_m, and its derivatives in b and w (in a: 1).
struct ModelPoint {
  double f = 0, fb = 0, fw = 0;
  bool ok = false;
};

ModelPoint inverse_exponent_point(double a, double b, double w, double v) {
  ModelPoint m;
  const double x = w * b * v;
  if (!(1 + x > 0) || !std::isfinite(x)) return m;
  const double bv = b * v;
  m.fb = v / (1 + x);
  if (std::abs(x) < 1e-5) {  // the series keeps w -> 0 (a power of t) exact
    m.f = a + bv * (1 - x / 2 + x * x / 3 - x * x * x / 4);
    m.fw = bv * bv * (-0.5 + 2 * x / 3 - 0.75 * x * x);
  } else {
    const double l = std::log1p(x);
    m.f = a + l / w;
    m.fw = -l / (w * w) + bv / (w * (1 + x));
  }
  m.ok = true;
  return m;
}

// Residual sum of squares of the model on (v, y); infinite outside its domain.
double inverse_exponent_rss(const Eigen::Vector3d& p, const std::vector<double>& v, const std::vector<double>& y) {
  double rss = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const ModelPoint m = inverse_exponent_point(p(0), p(1), p(2), v[i]);
    if (!m.ok) return std::numeric_limits<double>::infinity();
    rss += (y[i] - m.f) * (y[i] - m.f);
  }
  return rss;
}

// dd/du at u = at of a least-squares polynomial of `degree` in u through the points with u in
// [from, to]; NaN with fewer than degree + 2 of them.
double poly_slope(const std::vector<double>& u, const std::vector<double>& d, double from, double to, int degree, double at) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < u.size(); ++i)
    if (u[i] >= from && u[i] <= to) idx.push_back(i);
  if (idx.size() < static_cast<std::size_t>(degree + 2)) return std::numeric_limits<double>::quiet_NaN();
  const double uc = 0.5 * (from + to), h = std::max(0.5 * (to - from), 1e-300);  // x = (u - uc) / h in [-1, 1]
  Eigen::MatrixXd X(static_cast<Eigen::Index>(idx.size()), degree + 1);
  Eigen::VectorXd y(static_cast<Eigen::Index>(idx.size()));
  for (std::size_t r = 0; r < idx.size(); ++r) {
    const double x = (u[idx[r]] - uc) / h;
    double p = 1;
    for (int k = 0; k <= degree; ++k, p *= x) X(static_cast<Eigen::Index>(r), k) = p;
    y(static_cast<Eigen::Index>(r)) = d[idx[r]];
  }
  const Eigen::VectorXd c = X.colPivHouseholderQr().solve(y);
  const double x = (at - uc) / h;
  double s = 0, p = 1;
  for (int k = 1; k <= degree; ++k, p *= x) s += k * c(k) * p;
  return s / h;
}

// Relative slopes dd/d ln t / mean(d): at the window's centre from a cubic over the window, at its
// end from a quadratic over its last third (a cubic over decades is too stiff to see a fall that
// only the last tenth of the window holds).
std::pair<double, double> end_slopes(const std::vector<double>& u, const std::vector<double>& d) {
  const double lo = *std::min_element(u.begin(), u.end()), hi = *std::max_element(u.begin(), u.end());
  double mean = 0;
  for (double v : d) mean += v;
  mean /= static_cast<double>(d.size());
  const double scale = std::abs(mean) > 0 ? std::abs(mean) : 1.0;
  const double mid = poly_slope(u, d, lo, hi, 3, 0.5 * (lo + hi));
  double end = poly_slope(u, d, lo + 2 * (hi - lo) / 3, hi, 2, hi);
  if (!std::isfinite(end)) end = poly_slope(u, d, lo, hi, 3, hi);
  return {mid / scale, end / scale};
}

}  // namespace

InverseExponentFit fit_inverse_exponent(const std::vector<double>& t, const std::vector<double>& d) {
  require(t.size() == d.size(), "d", d.size(), "must have one value per time (" + std::to_string(t.size()) + ")");
  require(t.size() >= 4, "points", t.size(), "the fit needs at least 4 times");
  std::vector<double> u(t.size()), y(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    require(t[i] > 0 && std::isfinite(t[i]), "t", t[i], "times must be finite and > 0");
    require(d[i] > 0 && std::isfinite(d[i]), "d", d[i], "values must be finite and > 0 (the fit is on ln d)");
    u[i] = std::log(t[i]);
    y[i] = std::log(d[i]);
  }
  const double lo = *std::min_element(u.begin(), u.end()), hi = *std::max_element(u.begin(), u.end());
  require(hi > lo, "t", t.front(), "the times must not all be equal");
  InverseExponentFit out;
  out.u_m = 0.5 * (lo + hi);
  std::vector<double> v(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) v[i] = u[i] - out.u_m;
  // Start: a quadratic in v, whose curvature gives w = -y''/y'^2 at the centre.
  const auto n = static_cast<Eigen::Index>(v.size());
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd yy(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double vi = v[static_cast<std::size_t>(i)];
    X(i, 0) = 1;
    X(i, 1) = vi;
    X(i, 2) = vi * vi;
    yy(i) = y[static_cast<std::size_t>(i)];
  }
  const Eigen::Vector3d q = X.colPivHouseholderQr().solve(yy);
  Eigen::Vector3d p(q(0), q(1), q(1) != 0 ? -2 * q(2) / (q(1) * q(1)) : 0.0);
  if (!std::isfinite(p(2))) p(2) = 0;
  for (int i = 0; i < 80 && !std::isfinite(inverse_exponent_rss(p, v, y)); ++i) p(2) *= 0.5;
  if (!std::isfinite(inverse_exponent_rss(p, v, y))) p(2) = 0;
  // Levenberg-Marquardt with Marquardt's scaling; the domain 1 + w b v > 0 rejects a step.
  double rss = inverse_exponent_rss(p, v, y), lambda = 1e-3;
  Eigen::MatrixXd J(n, 3);
  Eigen::VectorXd r(n);
  for (int iter = 0; iter < 300; ++iter) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const ModelPoint m = inverse_exponent_point(p(0), p(1), p(2), v[static_cast<std::size_t>(i)]);
      J(i, 0) = 1;
      J(i, 1) = m.fb;
      J(i, 2) = m.fw;
      r(i) = y[static_cast<std::size_t>(i)] - m.f;
    }
    const Eigen::Matrix3d A = J.transpose() * J;
    const Eigen::Vector3d g = J.transpose() * r;
    bool accepted = false;
    while (lambda < 1e16) {
      Eigen::Matrix3d M = A;
      for (int k = 0; k < 3; ++k) M(k, k) += lambda * std::max(A(k, k), 1e-300);
      const Eigen::Vector3d step = M.ldlt().solve(g);
      const Eigen::Vector3d trial = p + step;
      const double rt = step.allFinite() ? inverse_exponent_rss(trial, v, y) : std::numeric_limits<double>::infinity();
      if (rt <= rss) {
        const bool small = (step.array().abs() <= 1e-12 * (1 + p.array().abs())).all();
        p = trial;
        rss = rt;
        lambda = std::max(lambda / 10, 1e-15);
        accepted = true;
        if (small) out.converged = true;
        break;
      }
      lambda *= 10;
    }
    // No downhill step at any damping: p is a minimum to rounding.
    if (!accepted) out.converged = true;
    if (out.converged) break;
  }
  out.a = p(0);
  out.b = p(1);
  out.w = p(2);
  out.rss = rss;
  return out;
}

LogTimeStatistic log_time_statistic(const std::vector<double>& t, const std::vector<double>& d) {
  require(t.size() == d.size(), "d", d.size(), "must have one value per time (" + std::to_string(t.size()) + ")");
  require(t.size() >= 8, "points", t.size(), "the statistic needs at least 8 times");
  const InverseExponentFit all = fit_inverse_exponent(t, d);
  std::vector<double> u(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) u[i] = std::log(t[i]);
  const double lo = *std::min_element(u.begin(), u.end()), hi = *std::max_element(u.begin(), u.end());
  const double mid = 0.5 * (lo + hi);
  std::vector<double> te, de;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (u[i] >= mid - 1e-12 * std::max(1.0, std::abs(mid))) {
      te.push_back(t[i]);
      de.push_back(d[i]);
    }
  require(te.size() >= 4, "points", te.size(), "the window's second half in ln t needs at least 4 times");
  LogTimeStatistic s;
  s.w = all.w;
  s.beta = all.b;
  s.w_end = fit_inverse_exponent(te, de).w;
  std::tie(s.slope_mid, s.slope_end) = end_slopes(u, d);
  return s;
}

LogTimeDecision decide_log_time(const std::vector<double>& t, const Eigen::MatrixXd& samples, double t0, double t1,
                                const LogTimeRule& rule, RowsAre rows) {
  require(static_cast<std::size_t>(samples.cols()) == t.size(), "samples", std::to_string(samples.cols()) + " columns",
          "must have one column per time (" + std::to_string(t.size()) + ")");
  require(std::isfinite(t0) && std::isfinite(t1) && t0 > 0 && t1 > t0, "window", "[" + num(t0) + ", " + num(t1) + "]",
          "must satisfy 0 < t0 < t1");
  require(rule.min_window_ratio > 1 && std::isfinite(rule.min_window_ratio) && std::isfinite(rule.k_max) && rule.k_min > 0 &&
              rule.k_max > rule.k_min && rule.level > 0 && rule.level < 1 && rule.min_samples >= 2 && rule.min_points >= 8,
          "rule", "log-time", "needs min_window_ratio > 1, 0 < k_min < k_max (finite), level in (0, 1), min_samples >= 2, min_points >= 8");
  LogTimeDecision out;
  out.t0 = t0;
  out.t1 = t1;
  out.t_half = std::sqrt(t0 * t1);
  out.samples = static_cast<std::size_t>(samples.rows());
  out.k_implied = kNaN;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < t.size(); ++i) {
    require(std::isfinite(t[i]) && t[i] > 0, "t", t[i], "times must be finite and > 0");
    if (t[i] >= t0 && t[i] <= t1) idx.push_back(i);
  }
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
  out.t_half = std::sqrt(t[idx.front()] * t[idx.back()]);
  std::vector<double> tw;
  for (auto i : idx) tw.push_back(t[i]);
  // The statistic of the mean curve, with a delete-one jackknife over runs for its interval: the
  // claim is about the mean d(t), and a fit of the mean is far steadier than the mean of noisy fits
  // (blocks of a few environments each; for a linear statistic the two coincide).
  const auto nr = samples.rows();
  Eigen::MatrixXd win(nr, static_cast<Eigen::Index>(idx.size()));
  for (Eigen::Index r = 0; r < nr; ++r)
    for (std::size_t q = 0; q < idx.size(); ++q) {
      const double v = samples(r, static_cast<Eigen::Index>(idx[q]));
      if (!std::isfinite(v) || (rows == RowsAre::kDistances ? !(v > 0) : v < 0))
        return undecided("run " + std::to_string(r + 1) + " has " + (rows == RowsAre::kDistances ? "d" : "d^2") + " = " + num(v) + " at t = " +
                         num(t[idx[q]]) + ": the statistic needs d > 0 throughout the window");
      win(r, static_cast<Eigen::Index>(q)) = v;
    }
  auto curve = [&](const Eigen::VectorXd& sum, double count) {
    std::vector<double> d(static_cast<std::size_t>(sum.size()));
    for (Eigen::Index q = 0; q < sum.size(); ++q)
      d[static_cast<std::size_t>(q)] = rows == RowsAre::kDistances ? sum(q) / count : std::sqrt(sum(q) / count);
    return d;
  };
  const Eigen::VectorXd total = win.colwise().sum().transpose();
  const std::vector<double> full_d = curve(total, static_cast<double>(nr));
  for (std::size_t q = 0; q < full_d.size(); ++q)
    if (!(full_d[q] > 0))
      return undecided("the mean curve is d = 0 at t = " + num(tw[q]) + ": the statistic needs d > 0 throughout the window");
  const LogTimeStatistic full = log_time_statistic(tw, full_d);
  std::vector<LogTimeStatistic> leave;
  for (Eigen::Index r = 0; r < nr; ++r) {
    const std::vector<double> d = curve(total - win.row(r).transpose(), static_cast<double>(nr - 1));
    if (std::any_of(d.begin(), d.end(), [](double v) { return !(v > 0); }))
      return undecided("without run " + std::to_string(r + 1) + " the mean curve reaches d = 0: the statistic needs d > 0 throughout the window");
    leave.push_back(log_time_statistic(tw, d));
  }
  constexpr int kFields = 5;
  auto field = [](LogTimeStatistic& s, int k) -> double& {
    double* f[kFields] = {&s.w, &s.w_end, &s.beta, &s.slope_mid, &s.slope_end};
    return *f[k];
  };
  const double n = static_cast<double>(nr);
  const double tq = student_quantile(0.5 + rule.level / 2, n - 1);
  LogTimeStatistic fv = full;
  for (int k = 0; k < kFields; ++k) {
    double m = 0, ss = 0;
    for (auto& s : leave) m += field(s, k);
    m /= n;
    for (auto& s : leave) ss += (field(s, k) - m) * (field(s, k) - m);
    const double se = std::sqrt((n - 1) / n * ss);
    const double v = field(fv, k);
    field(out.mean, k) = v;
    field(out.lo, k) = v - tq * se;
    field(out.hi, k) = v + tq * se;
    if (!std::isfinite(v) || !std::isfinite(se)) return undecided("the statistic is not finite on the mean curve or without some run (a fit failed)");
  }
  out.k_implied = out.mean.w > 0 ? 1 / out.mean.w : std::numeric_limits<double>::infinity();
  const LogTimeStatistic& m = out.mean;
  const LogTimeStatistic& lo = out.lo;
  const LogTimeStatistic& hi = out.hi;
  const double w_lo = 1 / rule.k_max, w_hi = 1 / rule.k_min;
  const std::string at = " on [" + num(t[idx.front()]) + ", " + num(t[idx.back()]) + "]";
  const std::string half = "[" + num(out.t_half) + ", " + num(t[idx.back()]) + "]";
  auto iv = [](double mid, double a, double b) { return num(mid) + " [" + num(a) + ", " + num(b) + "]"; };
  const std::string w_all = "w = d(1/beta)/d ln t = " + iv(m.w, lo.w, hi.w);
  const std::string w_end = "w = " + iv(m.w_end, lo.w_end, hi.w_end) + " on its second half " + half;
  // 2. Falls, saturates, or grows like a power of t.
  if (hi.slope_end < 0 || hi.slope_mid < 0) {
    const bool end = hi.slope_end < 0;
    out.outcome = Outcome::kFalsified;
    out.reason = "d falls" + at + ": its slope dd/d ln t at the " + std::string(end ? "end" : "centre") + " of the window is below 0 (relative slope " +
                 (end ? iv(m.slope_end, lo.slope_end, hi.slope_end) : iv(m.slope_mid, lo.slope_mid, hi.slope_mid)) + ")";
    return out;
  }
  if (lo.w > w_hi || lo.w_end > w_hi) {
    out.outcome = Outcome::kFalsified;
    out.reason = "d saturates" + at + ": " + (lo.w > w_hi ? w_all : w_end) + " lies above 1/k_min = " + num(w_hi) +
                 ", slower than any (ln t)^k with k >= " + num(rule.k_min);
    return out;
  }
  if (hi.w < w_lo || hi.w_end < w_lo) {
    out.outcome = Outcome::kFalsified;
    const bool whole = hi.w < w_lo;
    // Below 0 (not only below 1/k_max): beta = d ln d/d ln t rises, faster than any fixed power of t.
    const bool rising = (whole ? hi.w : hi.w_end) < 0;
    out.reason = std::string(rising ? "d grows faster than a power of t, its log-slope beta = d ln d/d ln t rising" : "d grows like a power of t") + at +
                 ": " + (whole ? w_all : w_end) + " lies below " + (rising ? "0" : "1/k_max = " + num(w_lo)) +
                 " (a law (ln t - c)^k has w = 1/k >= 1/k_max = " + num(w_lo) + "; a power of t, w = 0; beta = " + num(m.beta) + ")";
    return out;
  }
  // 3. A law in ln t with k_min <= k <= k_max, not saturating at the end.
  if (lo.w >= w_lo && hi.w <= w_hi && hi.w_end <= w_hi) {
    out.outcome = Outcome::kSupported;
    out.reason = "d grows like A (ln t - c)^k" + at + ": " + w_all + " lies inside [1/k_max, 1/k_min] = [" + num(w_lo) + ", " + num(w_hi) +
                 "] (k = 1/w = " + num(out.k_implied) + "), and " + w_end + " stays below " + num(w_hi);
    return out;
  }
  // 4. Open.
  if (lo.w < w_lo)
    return undecided("both a law in ln t and a power of t fit" + at + ": " + w_all + " straddles 1/k_max = " + num(w_lo) +
                     " (k <= " + num(rule.k_max) + " needs w >= " + num(w_lo) + "; a power of t has w = 0)");
  if (hi.w > w_hi)
    return undecided("both a law in ln t and saturation fit" + at + ": " + w_all + " straddles 1/k_min = " + num(w_hi));
  return undecided("d may begin to saturate" + at + ": " + w_end + " straddles 1/k_min = " + num(w_hi) + " (over the whole window " +
                   iv(m.w, lo.w, hi.w) + ")");
}

void to_json(nlohmann::json& j, const LogTimeDecision& d) {
  auto stat = [](const LogTimeStatistic& s) {
    auto f = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    return nlohmann::json{{"w", f(s.w)}, {"w_end", f(s.w_end)}, {"beta", f(s.beta)}, {"slope_mid", f(s.slope_mid)}, {"slope_end", f(s.slope_end)}};
  };
  j = {{"name", "log-time"},
       {"verdict", outcome_name(d.outcome)},
       {"reason", d.reason},
       {"window", {d.t0, d.t1}},
       {"second_half_from", d.t_half},
       {"points", d.points},
       {"samples", d.samples},
       {"statistic",
        {{"what", "on the mean curve over runs, ln d = a + ln(1 + w b (ln t - u_m))/w on the window and on its second half (intervals: delete-one jackknife over runs, Student-t): w = d(1/beta)/d ln t "
                  "(1/k for A (ln t - c)^k, 0 for a power of t), beta = d ln d/d ln t at the centre; slopes dd/d ln t (relative to the mean d) at the centre from a cubic over the window, at the end from a quadratic over its last third"},
         {"mean", stat(d.mean)},
         {"lo", stat(d.lo)},
         {"hi", stat(d.hi)},
         {"k_implied", std::isfinite(d.k_implied) ? nlohmann::json(d.k_implied) : nlohmann::json(nullptr)}}}};
}

Deviation max_relative_deviation(const CurveRuns& ref, const std::vector<CurveRuns>& curves, double t0, double t1,
                                 const DeviationOptions& opt) {
  require(!curves.empty(), "curves", "[]", "need at least one curve besides the reference");
  require(opt.points >= 2 && opt.points <= 10000, "points", opt.points, "must lie in [2, 10000]");
  require(opt.level > 0 && opt.level < 1, "level", opt.level, "must lie in (0, 1)");
  require(std::isfinite(t0) && std::isfinite(t1) && t0 > 0 && t1 > t0, "window", "[" + num(t0) + ", " + num(t1) + "]", "must satisfy 0 < t0 < t1");
  auto check = [&](const CurveRuns& c, const std::string& name) {
    require(c.runs.rows() >= 1 && static_cast<std::size_t>(c.runs.cols()) == c.t.size() && c.t.size() >= 2, name, c.t.size(),
            "needs runs with one value per time");
    require(c.t.front() <= t0 * (1 + 1e-12) && c.t.back() >= t1 * (1 - 1e-12), name, "[" + num(c.t.front()) + ", " + num(c.t.back()) + "]",
            "must cover the window [" + num(t0) + ", " + num(t1) + "]");
    require(c.runs.allFinite(), name, "runs", "must be finite");
    if (opt.paired)
      require(c.runs.rows() == ref.runs.rows(), name, std::to_string(c.runs.rows()) + " runs",
              "paired curves need as many runs as the reference (" + std::to_string(ref.runs.rows()) + ")");
  };
  check(ref, "reference");
  for (std::size_t i = 0; i < curves.size(); ++i) check(curves[i], "curve " + std::to_string(i));
  // Every run of a curve at time `at`.
  auto at_time = [](const CurveRuns& c, double at) {
    Eigen::VectorXd v(c.runs.rows());
    for (Eigen::Index r = 0; r < c.runs.rows(); ++r) v(r) = interp_log(c.t, c.runs.row(r).transpose(), at);
    return v;
  };
  const double k = static_cast<double>(opt.points) * static_cast<double>(curves.size());
  const double p = 1 - (1 - opt.level) / (2 * k);
  Deviation out;
  double worst = -1;
  for (int i = 0; i < opt.points; ++i) {
    const double at = i + 1 == opt.points ? t1 : t0 * std::pow(t1 / t0, static_cast<double>(i) / (opt.points - 1));
    const Eigen::VectorXd x = at_time(ref, at);
    const double nr = static_cast<double>(x.size()), mr = x.mean();
    for (std::size_t c = 0; c < curves.size(); ++c) {
      const Eigen::VectorXd y = at_time(curves[c], at);
      const double nc = static_cast<double>(y.size()), mc = y.mean();
      PointDeviation pd;
      pd.t = at;
      pd.curve = c;
      pd.ratio = mc / mr;
      double se = std::numeric_limits<double>::infinity(), dof = 1;
      if (mr > 0 && mc > 0) {
        if (opt.paired && nr >= 2) {
          const Eigen::ArrayXd phi = y.array() / mc - x.array() / mr;
          se = std::sqrt((phi - phi.mean()).square().sum() / (nr - 1) / nr);
          dof = nr - 1;
        } else if (!opt.paired && nr >= 2 && nc >= 2) {
          const double a = (y.array() - mc).square().sum() / (nc - 1) / (nc * mc * mc);
          const double b = (x.array() - mr).square().sum() / (nr - 1) / (nr * mr * mr);
          se = std::sqrt(a + b);
          dof = a + b > 0 ? (a + b) * (a + b) / (a * a / (nc - 1) + b * b / (nr - 1)) : nr + nc - 2;
        }
      }
      if (std::isfinite(se)) {
        const double h = se > 0 ? student_quantile(p, dof) * se : 0.0;
        pd.lo = pd.ratio * std::exp(-h);
        pd.hi = pd.ratio * std::exp(h);
      } else {
        pd.lo = 0;
        pd.hi = std::numeric_limits<double>::infinity();
      }
      const double dev = std::abs(pd.ratio - 1);
      if (!(dev <= worst)) {
        worst = dev;
        out.value = dev;
        out.at_t = at;
        out.curve = c;
      }
      const double least = pd.lo > 1 ? pd.lo - 1 : (pd.hi < 1 ? 1 - pd.hi : 0.0);
      out.lo = std::max(out.lo, least);
      out.hi = std::max(out.hi, std::max(std::abs(pd.lo - 1), std::abs(pd.hi - 1)));
      out.points.push_back(pd);
    }
  }
  return out;
}

void to_json(nlohmann::json& j, const Deviation& d) {
  auto f = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : d.points) pts.push_back({{"t", p.t}, {"curve", p.curve}, {"ratio", f(p.ratio)}, {"interval", {f(p.lo), f(p.hi)}}});
  j = {{"value", f(d.value)}, {"interval", {f(d.lo), f(d.hi)}}, {"at", d.at_t}, {"curve", d.curve}, {"points", pts}};
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
