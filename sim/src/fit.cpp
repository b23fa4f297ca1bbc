// Least-squares fits on ln y: ultra-slow (fixed and free exponent) and power-law growth.
#include "gengap/sim/fit.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {
namespace {

struct Line {
  double intercept, slope, rss;
};

// Ordinary least squares of b on a.
Line regress(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  double saa = 0, sab = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    saa += (a[i] - ma) * (a[i] - ma);
    sab += (a[i] - ma) * (b[i] - mb);
  }
  const double slope = saa > 0 ? sab / saa : 0;
  const double icpt = mb - slope * ma;
  double rss = 0;
  for (std::size_t i = 0; i < a.size(); ++i) rss += std::pow(b[i] - icpt - slope * a[i], 2);
  return {icpt, slope, rss};
}

void check_series(const std::vector<double>& t, const std::vector<double>& y, std::size_t min_points) {
  require(t.size() == y.size(), "y", y.size(), "must have as many values as t");
  require(t.size() >= min_points, "points", t.size(), "too few points to fit");
  for (std::size_t i = 0; i < t.size(); ++i) {
    require(t[i] > 1 && std::isfinite(t[i]), "t", t[i], "times must be finite and > 1 (ln t > 0)");
    require(y[i] > 0 && std::isfinite(y[i]), "y", y[i], "values must be finite and > 0");
  }
}

void finish(FitResult& f, double rss) {
  f.rss = rss;
  const double n = f.n;
  const double l = n * std::log(std::max(rss, 1e-300) / n);
  f.aic = l + 2.0 * f.k;
  f.bic = l + f.k * std::log(n);
}

// Golden-section minimum of f on [a, b], started from the best of `grid` + 1 evenly spaced points.
double grid_golden(double a, double b, int grid, const std::function<double(double)>& f) {
  int best = 0;
  double best_v = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= grid; ++i) {
    const double v = f(a + (b - a) * i / grid);
    if (v < best_v) {
      best_v = v;
      best = i;
    }
  }
  double lo = a + (b - a) * std::max(0, best - 1) / grid, hi = a + (b - a) * std::min(grid, best + 1) / grid;
  const double g = 0.6180339887498949;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  double f1 = f(x1), f2 = f(x2);
  for (int it = 0; it < 80; ++it) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = f(x2);
    }
  }
  return 0.5 * (lo + hi);
}

// Minimizes the profile RSS `inner(c)` over the offset c < L0 = ln(min t), searching z = ln(L0 - c)
// in [-12, 8].
constexpr double kOffsetZMin = -12, kOffsetZMax = 8;  // c = ln(min t) - e^z, z in [kOffsetZMin, kOffsetZMax]

double best_offset(double l0, const std::function<double(double)>& inner) {
  auto c_of = [l0](double z) { return l0 - std::exp(z); };
  return c_of(grid_golden(kOffsetZMin, kOffsetZMax, 400, [&](double z) { return inner(c_of(z)); }));
}

/// Adds "c" to f.at_bound when the offset sits at an end of best_offset()'s range.
void flag_offset(FitResult& f, double l0) {
  const double gap = l0 - f.param("c");
  if (!(gap > 0) || std::log(gap) > kOffsetZMax - 1e-3 || std::log(gap) < kOffsetZMin + 1e-3) f.at_bound.push_back("c");
}

/// Adds `name` to f.at_bound when its value is within a relative 1e-4 of lo or hi.
void flag_range(FitResult& f, const std::string& name, double lo, double hi) {
  const double v = f.param(name);
  if (std::abs(v - lo) <= 1e-4 * std::abs(lo) || std::abs(v - hi) <= 1e-4 * std::abs(hi)) f.at_bound.push_back(name);
}

}  // namespace

double FitResult::param(const std::string& name) const {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return params[i];
  throw std::out_of_range("fit " + model + " has no parameter " + name);
}

double FitResult::predict(double t) const {
  if (model == "log-c") return param("A") * std::pow(std::log(t) - param("c"), param("k"));
  if (model == "log-c-fixed") return param("A") * std::pow(std::log(t) - param("c"), fixed_exponent);
  if (model == "power-offset") return param("a") + param("C") * std::pow(t, param("beta"));
  if (model == "log-fixed") return std::pow(param("A") * (std::log(t) - param("c")), fixed_exponent);
  if (model == "log-free") return param("B") * std::pow(std::log(t) - param("c"), param("k"));
  return param("C") * std::pow(t, param("beta"));
}

FitResult fit_log_fixed(const std::vector<double>& t, const std::vector<double>& y, double k) {
  check_series(t, y, 3);
  require(k > 0 && std::isfinite(k), "k", k, "the fixed exponent must be > 0");
  std::vector<double> lt(t.size()), ly(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    lt[i] = std::log(t[i]);
    ly[i] = std::log(y[i]);
  }
  const double l0 = *std::min_element(lt.begin(), lt.end());
  auto eval = [&](double c, double* log_a) {
    double m = 0;
    for (std::size_t i = 0; i < lt.size(); ++i) m += ly[i] - k * std::log(lt[i] - c);
    m /= static_cast<double>(lt.size());
    double rss = 0;
    for (std::size_t i = 0; i < lt.size(); ++i) rss += std::pow(ly[i] - k * std::log(lt[i] - c) - m, 2);
    if (log_a) *log_a = m / k;
    return rss;
  };
  const double c = best_offset(l0, [&](double cc) { return eval(cc, nullptr); });
  double log_a = 0;
  const double rss = eval(c, &log_a);
  FitResult f;
  f.model = "log-fixed";
  f.formula = "y = (A (ln t - c))^" + to_text(k);
  f.names = {"A", "c"};
  f.params = {std::exp(log_a), c};
  f.n = static_cast<int>(t.size());
  f.k = 2;
  f.fixed_exponent = k;
  finish(f, rss);
  flag_offset(f, l0);
  return f;
}

FitResult fit_log_free(const std::vector<double>& t, const std::vector<double>& y) {
  check_series(t, y, 4);
  std::vector<double> lt(t.size()), ly(t.size()), u(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    lt[i] = std::log(t[i]);
    ly[i] = std::log(y[i]);
  }
  const double l0 = *std::min_element(lt.begin(), lt.end());
  auto eval = [&](double c) {
    for (std::size_t i = 0; i < lt.size(); ++i) u[i] = std::log(lt[i] - c);
    return regress(u, ly);
  };
  const double c = best_offset(l0, [&](double cc) { return eval(cc).rss; });
  const Line line = eval(c);
  FitResult f;
  f.model = "log-free";
  f.formula = "y = B (ln t - c)^k";
  f.names = {"B", "c", "k"};
  f.params = {std::exp(line.intercept), c, line.slope};
  f.n = static_cast<int>(t.size());
  f.k = 3;
  finish(f, line.rss);
  flag_offset(f, l0);
  if (!(std::abs(line.slope) <= 100)) f.at_bound.push_back("k");
  return f;
}

FitResult fit_power(const std::vector<double>& t, const std::vector<double>& y) {
  check_series(t, y, 3);
  std::vector<double> lt(t.size()), ly(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    lt[i] = std::log(t[i]);
    ly[i] = std::log(y[i]);
  }
  const Line line = regress(lt, ly);
  FitResult f;
  f.model = "power";
  f.formula = "y = C t^beta";
  f.names = {"C", "beta"};
  f.params = {std::exp(line.intercept), line.slope};
  f.n = static_cast<int>(t.size());
  f.k = 2;
  finish(f, line.rss);
  return f;
}

std::vector<FitResult> compare_models(const std::vector<double>& t, const std::vector<double>& y, double fixed_k) {
  check_series(t, y, 4);
  std::vector<FitResult> fits{fit_log_fixed(t, y, fixed_k), fit_log_free(t, y), fit_power(t, y)};
  std::stable_sort(fits.begin(), fits.end(), [](const FitResult& a, const FitResult& b) { return a.aic < b.aic; });
  return fits;
}

Interval percentile_interval(std::vector<double> d, double level) {
  if (d.empty()) return {std::nan(""), std::nan("")};
  std::sort(d.begin(), d.end());
  auto q = [&d](double p) { return d[static_cast<std::size_t>(std::floor(p * static_cast<double>(d.size() - 1)))]; };
  return {q((1 - level) / 2), q(1 - (1 - level) / 2)};
}

MedianEstimate median_interval(std::vector<double> d, double level) {
  require(level > 0 && level < 1, "level", level, "must lie in (0, 1)");
  MedianEstimate m;
  d.erase(std::remove_if(d.begin(), d.end(), [](double v) { return std::isnan(v); }), d.end());
  m.n = d.size();
  if (d.empty()) {
    m.median = m.ci.lo = m.ci.hi = std::nan("");
    return m;
  }
  std::sort(d.begin(), d.end());
  const std::size_t n = d.size();
  m.median = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
  // The largest j with P(Binomial(n, 1/2) < j) <= (1 - level)/2: [x_(j), x_(n+1-j)] (1-based) holds
  // the median with probability >= level, whatever the distribution.
  const double tail = (1 - level) / 2;
  double cdf = 0, logp = -static_cast<double>(n) * std::log(2.0);
  std::size_t j = 0;
  for (std::size_t k = 0; k < n; ++k) {
    cdf += std::exp(logp);  // P(B <= k)
    if (cdf > tail) break;
    j = k + 1;
    logp += std::log(static_cast<double>(n - k)) - std::log(static_cast<double>(k + 1));
  }
  if (j == 0) {  // too few values for the level: the interval is unbounded
    m.ci = {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  } else {
    m.ci = {d[j - 1], d[n - j]};
  }
  return m;
}

FitWindow fit_window(const std::vector<std::uint64_t>& times, const std::vector<double>& y, const Eigen::MatrixXd& samples,
                     double tmin) {
  require(y.size() == times.size(), "y", y.size(), "must hold one value per time (" + std::to_string(times.size()) + ")");
  require(samples.size() == 0 || samples.cols() == static_cast<Eigen::Index>(times.size()), "samples", samples.cols(),
          "must have one column per time (" + std::to_string(times.size()) + ")");
  FitWindow w;
  for (std::size_t i = 0; i < times.size(); ++i) {
    const double t = static_cast<double>(times[i]);
    if (t >= tmin && times[i] > 1 && y[i] > 0) {
      w.t.push_back(t);
      w.y.push_back(y[i]);
      w.columns.push_back(static_cast<Eigen::Index>(i));
    }
  }
  w.samples.resize(samples.size() == 0 ? 0 : samples.rows(), samples.size() == 0 ? 0 : static_cast<Eigen::Index>(w.columns.size()));
  if (samples.size() != 0)
    for (std::size_t c = 0; c < w.columns.size(); ++c) w.samples.col(static_cast<Eigen::Index>(c)) = samples.col(w.columns[c]);
  return w;
}

BootstrapFits fit_window_models(const FitWindow& w, int resamples, double level, std::uint64_t seed, double fixed_k) {
  if (resamples > 0 && w.samples.rows() >= 2) return bootstrap_fits(w.t, w.samples, resamples, level, seed, fixed_k);
  BootstrapFits out;
  out.fits = compare_models(w.t, w.y, fixed_k);
  out.level = level;
  return out;
}

std::size_t model_index(const std::vector<FitResult>& fits, const std::string& name) {
  for (std::size_t m = 0; m < fits.size(); ++m)
    if (fits[m].model == name) return m;
  throw InvalidArgument("model", name, "one of the fitted models");
}

BootstrapFits bootstrap_fits(const std::vector<double>& t, const Eigen::MatrixXd& samples, int resamples, double level,
                             std::uint64_t seed, double fixed_k) {
  return bootstrap_fits(t, samples, resamples, level, seed,
                        [fixed_k](const std::vector<double>& tt, const std::vector<double>& yy) { return compare_models(tt, yy, fixed_k); });
}

BootstrapFits bootstrap_fits(const std::vector<double>& t, const Eigen::MatrixXd& samples, int resamples, double level,
                             std::uint64_t seed, const ModelComparer& comparer) {
  require(samples.cols() == static_cast<Eigen::Index>(t.size()), "samples", samples.cols(),
          "must have one column per time");
  require(samples.rows() >= 2, "samples", samples.rows(), "need at least 2 rows (environments or seeds)");
  require(resamples >= 10, "resamples", resamples, "must be >= 10");
  require(level > 0 && level < 1, "level", level, "must lie in (0, 1)");
  BootstrapFits out;
  out.resamples = resamples;
  out.level = level;
  const Eigen::VectorXd mean = samples.colwise().mean();
  out.fits = comparer(t, std::vector<double>(mean.data(), mean.data() + mean.size()));
  std::map<std::string, std::size_t> slot;
  for (std::size_t m = 0; m < out.fits.size(); ++m) slot[out.fits[m].model] = m;
  std::vector<std::vector<std::vector<double>>> draws(out.fits.size());
  for (std::size_t m = 0; m < out.fits.size(); ++m) draws[m].resize(out.fits[m].params.size());
  std::vector<int> wins(out.fits.size(), 0);
  const auto rows = samples.rows();
  std::vector<double> y(t.size());
  for (int b = 0; b < resamples; ++b) {
    const Stream st(seed, StreamPurpose::kBootstrap, static_cast<std::uint32_t>(b), 0);
    Eigen::VectorXd acc = Eigen::VectorXd::Zero(samples.cols());
    for (Eigen::Index r = 0; r < rows; ++r) {
      const Block4x32 u = st(static_cast<std::uint64_t>(r));
      const auto pick = static_cast<Eigen::Index>((static_cast<std::uint64_t>(u[0]) * static_cast<std::uint64_t>(rows)) >> 32);
      acc += samples.row(pick).transpose();
    }
    acc /= static_cast<double>(rows);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = acc(static_cast<Eigen::Index>(i));
    if (std::any_of(y.begin(), y.end(), [](double v) { return !(v > 0); })) continue;
    const auto fits = comparer(t, y);
    ++wins[slot[fits.front().model]];
    for (const auto& f : fits) {
      auto& d = draws[slot[f.model]];
      for (std::size_t p = 0; p < f.params.size(); ++p) d[p].push_back(f.params[p]);
    }
  }
  for (std::size_t m = 0; m < out.fits.size(); ++m) {
    std::vector<Interval> iv;
    for (auto& d : draws[m]) iv.push_back(percentile_interval(std::move(d), level));
    out.intervals.push_back(iv);
    out.preferred_fraction.push_back(static_cast<double>(wins[m]) / resamples);
  }
  return out;
}

namespace {
void check_distance_series(const std::vector<double>& t, const std::vector<double>& y) {
  require(t.size() == y.size(), "y", y.size(), "must have as many values as t");
  require(t.size() >= 5, "points", t.size(), "too few points to fit (need 5)");
  for (std::size_t i = 0; i < t.size(); ++i) {
    require(t[i] > 1 && std::isfinite(t[i]), "t", t[i], "times must be finite and > 1 (ln t > 0)");
    require(std::isfinite(y[i]), "y", y[i], "values must be finite");
  }
}
}  // namespace

namespace {
/// Least squares of y = A x through the origin: A and the residual sum.
std::pair<double, double> through_origin(const std::vector<double>& x, const std::vector<double>& y) {
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += x[i] * y[i];
    sxx += x[i] * x[i];
  }
  const double a = sxx > 0 ? sxy / sxx : 0;
  double rss = 0;
  for (std::size_t i = 0; i < x.size(); ++i) rss += std::pow(y[i] - a * x[i], 2);
  return {a, rss};
}

/// y = A (ln t - c)^k for given k: the best c < ln(min t) and A; returns {A, c, rss}.
std::array<double, 3> log_c_profile(const std::vector<double>& lt, const std::vector<double>& y, double k) {
  const double l0 = *std::min_element(lt.begin(), lt.end());
  std::vector<double> x(lt.size());
  auto rss_of = [&](double c) {
    for (std::size_t i = 0; i < lt.size(); ++i) x[i] = std::pow(lt[i] - c, k);
    return through_origin(x, y);
  };
  const double c = best_offset(l0, [&](double cc) { return rss_of(cc).second; });
  const auto [a, rss] = rss_of(c);
  return {a, c, rss};
}
}  // namespace

FitResult fit_log_c(const std::vector<double>& t, const std::vector<double>& y) {
  check_distance_series(t, y);
  std::vector<double> lt(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) lt[i] = std::log(t[i]);
  // k on a log grid: the profile over c is smooth in ln k.
  const double lk = grid_golden(std::log(0.05), std::log(30.0), 120, [&](double v) { return log_c_profile(lt, y, std::exp(v))[2]; });
  const double k = std::exp(lk);
  const auto [a, c, rss] = log_c_profile(lt, y, k);
  FitResult f;
  f.model = "log-c";
  f.formula = "y = A (ln t - c)^k";
  f.names = {"A", "c", "k"};
  f.params = {a, c, k};
  f.n = static_cast<int>(t.size());
  f.k = 3;
  finish(f, rss);
  flag_range(f, "k", 0.05, 30.0);
  return f;
}

FitResult fit_log_c_fixed(const std::vector<double>& t, const std::vector<double>& y, double k) {
  check_distance_series(t, y);
  require(k > 0 && std::isfinite(k), "k", k, "the fixed exponent must be finite and > 0");
  std::vector<double> lt(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) lt[i] = std::log(t[i]);
  const auto [a, c, rss] = log_c_profile(lt, y, k);
  FitResult f;
  f.model = "log-c-fixed";
  f.formula = "y = A (ln t - c)^k, k fixed";
  f.names = {"A", "c"};
  f.params = {a, c};
  f.fixed_exponent = k;
  f.n = static_cast<int>(t.size());
  f.k = 2;
  finish(f, rss);
  return f;
}

FitResult fit_power_offset(const std::vector<double>& t, const std::vector<double>& y) {
  check_distance_series(t, y);
  std::vector<double> x(t.size());
  auto line = [&](double beta) {
    for (std::size_t i = 0; i < t.size(); ++i) x[i] = std::pow(t[i], beta);
    return regress(x, y);
  };
  const double beta = grid_golden(1e-3, 3.0, 600, [&](double b) { return line(b).rss; });
  const Line l = line(beta);
  FitResult f;
  f.model = "power-offset";
  f.formula = "y = a + C t^beta";
  f.names = {"a", "C", "beta"};
  f.params = {l.intercept, l.slope, beta};
  f.n = static_cast<int>(t.size());
  f.k = 3;
  finish(f, l.rss);
  flag_range(f, "beta", 1e-3, 3.0);
  return f;
}

std::vector<FitResult> compare_distance_models(const std::vector<double>& t, const std::vector<double>& y, double fixed_k) {
  std::vector<FitResult> fits{fit_log_c(t, y), fit_log_c_fixed(t, y, fixed_k), fit_power_offset(t, y)};
  std::stable_sort(fits.begin(), fits.end(), [](const FitResult& a, const FitResult& b) { return a.aic < b.aic; });
  return fits;
}

void to_json(nlohmann::json& j, const FitResult& f) {
  nlohmann::json params = nlohmann::json::object();
  for (std::size_t i = 0; i < f.names.size(); ++i) params[f.names[i]] = f.params[i];
  j = {{"model", f.model},      {"formula", f.formula}, {"params", params}, {"n", f.n},
       {"free_params", f.k}, {"rss", f.rss},         {"aic", f.aic},     {"bic", f.bic}, {"at_bound", f.at_bound}};
}

void to_json(nlohmann::json& j, const BootstrapFits& b) {
  j = nlohmann::json::array();
  for (std::size_t m = 0; m < b.fits.size(); ++m) {
    nlohmann::json f = b.fits[m];
    nlohmann::json ci = nlohmann::json::object();
    for (std::size_t p = 0; p < b.fits[m].names.size(); ++p) ci[b.fits[m].names[p]] = {b.intervals[m][p].lo, b.intervals[m][p].hi};
    f["ci"] = ci;
    f["ci_level"] = b.level;
    f["preferred_fraction"] = b.preferred_fraction[m];
    j.push_back(f);
  }
}

}  // namespace gengap::sim
