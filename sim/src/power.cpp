// The power of the log-time rule on control families drawn with the noise of real runs.
#include "gengap/sim/power.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Cholesky>
#include <nlohmann/json.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

std::vector<ControlFamily> log_time_controls() {
  using std::log;
  using std::pow;
  // c relative to the window: "ln t0 - 1" keeps (ln t - c) >= 1 on it, the strongly curved case.
  return {
      {"2 + 3 ln t", "ln t", 1, [](double t, double, double) { return 2 + 3 * log(t); }},
      {"sqrt(ln t)", "ln t", 0.5, [](double t, double, double) { return std::sqrt(log(t)); }},
      {"0.5 (ln t)^2", "ln t", 2, [](double t, double, double) { return 0.5 * pow(log(t), 2); }},
      {"0.05 (ln t)^3", "ln t", 3, [](double t, double, double) { return 0.05 * pow(log(t), 3); }},
      {"(ln t)^4", "ln t", 4, [](double t, double, double) { return pow(log(t), 4); }},
      {"(ln t - ln t0 + 1)^2", "ln t", 2, [](double t, double t0, double) { return pow(log(t / t0) + 1, 2); }},
      {"(ln t - ln t0 + 1)^3", "ln t", 3, [](double t, double t0, double) { return pow(log(t / t0) + 1, 3); }},
      {"(ln t + 3)^3", "ln t", 3, [](double t, double, double) { return pow(log(t) + 3, 3); }},
      {"(ln t + 3)^4", "ln t", 4, [](double t, double, double) { return pow(log(t) + 3, 4); }},
      {"(ln t + 10)^4", "ln t", 4, [](double t, double, double) { return pow(log(t) + 10, 4); }},
      {"t^0.5", "power", 0, [](double t, double, double) { return std::sqrt(t); }},
      {"t^0.25", "power", 0, [](double t, double, double) { return pow(t, 0.25); }},
      {"5 + 8 (t/t0)^0.5", "power", 0, [](double t, double t0, double) { return 5 + 8 * std::sqrt(t / t0); }},
      {"3 + 3.16 (t/t0)^0.25", "power", 0, [](double t, double t0, double) { return 3 + 3.16 * pow(t / t0, 0.25); }},
      {"1 + t/t0 (linear)", "linear", 0, [](double t, double t0, double) { return 1 + t / t0; }},
      {"1 - exp(-t/(3 t0))", "saturation", 0, [](double t, double t0, double) { return -std::expm1(-t / (3 * t0)); }},
      {"t/(t + 3 t0)", "saturation", 0, [](double t, double t0, double) { return t / (t + 3 * t0); }},
      {"2 - (t/t0)^-0.5", "saturation", 0, [](double t, double t0, double) { return 2 - pow(t / t0, -0.5); }},
      {"logistic in ln t, centred at a quarter of the window", "saturation", 0,
       [](double t, double t0, double t1) {
         const double c = log(t0) + 0.25 * log(t1 / t0), wdt = 0.22 * log(t1 / t0);
         return 1 / (1 + std::exp(-(log(t) - c) / wdt));
       }},
      {"t exp(-t/(0.53 t1)) (peaks, falls)", "peak", 0, [](double t, double, double t1) { return t * std::exp(-t / (0.53 * t1)); }},
      {"t^0.15", "slow power", 0, [](double t, double, double) { return pow(t, 0.15); }},
      {"t^0.5 - 0.5 t0^0.5 (a late start)", "late power", 0,
       [](double t, double t0, double) { return std::sqrt(t) - 0.5 * std::sqrt(t0); }},
  };
}

namespace {

std::vector<double> log_grid(double lo, double hi, int per_decade) {
  const int n = std::max(1, static_cast<int>(std::lround(per_decade * std::log10(hi / lo))));
  std::vector<double> t;
  for (int i = 0; i <= n; ++i) t.push_back(i == n ? hi : lo * std::pow(hi / lo, i / static_cast<double>(n)));
  return t;
}

}  // namespace

std::vector<PowerCount> log_time_power(const PowerConfig& c, const std::vector<ControlFamily>& families) {
  require(std::isfinite(c.t0) && std::isfinite(c.t1) && c.t0 > 0 && c.t1 > c.t0, "window", "[" + to_text(c.t0) + ", " + to_text(c.t1) + "]",
          "must satisfy 0 < t0 < t1");
  require(c.per_decade >= 1 && c.per_decade <= 1000, "per_decade", c.per_decade, "must lie in [1, 1000]");
  require(c.runs >= 2 && c.runs <= 1000, "runs", c.runs, "must lie in [2, 1000]");
  require(c.draws >= 1 && c.draws <= 1000000, "draws", c.draws, "must lie in [1, 1000000]");
  const RunNoise& nz = c.noise;
  for (double v : {nz.factor_sd, nz.point_sd, nz.shape_sd})
    require(v >= 0 && v < 0.5 && std::isfinite(v), "noise", v, "each standard deviation must lie in [0, 0.5)");
  require(nz.shape_length > 0 && std::isfinite(nz.shape_length), "shape_length", nz.shape_length, "must be finite and > 0");
  const std::vector<double> t = log_grid(c.t0, c.t1, c.per_decade);
  const auto n = static_cast<Eigen::Index>(t.size());
  require(n >= c.rule.min_points, "per_decade", c.per_decade, "gives " + std::to_string(n) + " times, fewer than the rule's min_points");
  // The smooth shape: a Gaussian process in ln t with a squared-exponential kernel.
  Eigen::MatrixXd shape_l = Eigen::MatrixXd::Zero(n, n);
  if (nz.shape_sd > 0) {
    Eigen::MatrixXd k(n, n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) {
        const double du = std::log(t[static_cast<std::size_t>(i)] / t[static_cast<std::size_t>(j)]) / nz.shape_length;
        k(i, j) = nz.shape_sd * nz.shape_sd * std::exp(-0.5 * du * du) + (i == j ? 1e-12 : 0.0);
      }
    shape_l = k.llt().matrixL();
  }
  std::vector<PowerCount> out;
  Eigen::MatrixXd runs(c.runs, n);
  Eigen::VectorXd z(n);
  for (std::size_t f = 0; f < families.size(); ++f) {
    const ControlFamily& fam = families[f];
    PowerCount pc;
    pc.family = fam.name;
    pc.kind = fam.kind;
    pc.in_claim = fam.in_claim(c.rule);
    std::vector<double> base(t.size()), ws;
    for (std::size_t i = 0; i < t.size(); ++i) {
      base[i] = fam.d(t[i], c.t0, c.t1);
      require(base[i] > 0 && std::isfinite(base[i]), "family", fam.name, "must be finite and > 0 on the window");
    }
    for (int draw = 0; draw < c.draws; ++draw) {
      for (int r = 0; r < c.runs; ++r) {
        // One stream per (family, draw, run): adding a family does not change the others' draws.
        const Stream st(c.seed, StreamPurpose::kStart, static_cast<std::uint32_t>(draw) * 4096u + static_cast<std::uint32_t>(r),
                        0x9000u + static_cast<std::uint32_t>(f));
        std::uint64_t ctr = 0;
        const double factor = 1 + nz.factor_sd * to_normal2(st(ctr++))[0];
        for (Eigen::Index i = 0; i < n; ++i) z(i) = to_normal2(st(ctr++))[0];
        const Eigen::VectorXd shape = nz.shape_sd > 0 ? Eigen::VectorXd(shape_l * z) : Eigen::VectorXd::Zero(n);
        for (Eigen::Index i = 0; i < n; ++i) {
          const double point = nz.point_sd * to_normal2(st(ctr++))[1];
          runs(r, i) = base[static_cast<std::size_t>(i)] * factor * (1 + shape(i)) * (1 + point);
        }
      }
      const LogTimeDecision d = decide_log_time(t, runs, c.t0, c.t1, c.rule);
      pc.supported += d.outcome == Outcome::kSupported;
      pc.falsified += d.outcome == Outcome::kFalsified;
      pc.undecided += d.outcome == Outcome::kUndecided;
      ++pc.draws;
      if (std::isfinite(d.mean.w)) ws.push_back(d.mean.w);
    }
    if (!ws.empty()) {
      std::nth_element(ws.begin(), ws.begin() + static_cast<std::ptrdiff_t>(ws.size() / 2), ws.end());
      pc.median_w = ws[ws.size() / 2];
    } else {
      pc.median_w = std::numeric_limits<double>::quiet_NaN();
    }
    out.push_back(pc);
  }
  return out;
}

void to_json(nlohmann::json& j, const PowerCount& c) {
  j = {{"family", c.family},       {"kind", c.kind},           {"in_claim", c.in_claim}, {"supported", c.supported},
       {"falsified", c.falsified}, {"undecided", c.undecided}, {"draws", c.draws},
       {"median_w", std::isfinite(c.median_w) ? nlohmann::json(c.median_w) : nlohmann::json(nullptr)}};
}

}  // namespace gengap::sim
