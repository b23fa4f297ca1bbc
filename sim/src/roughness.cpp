// The structure function along random directions and its local exponent, with a bootstrap band.
#include "gengap/sim/roughness.hpp"

#include <algorithm>
#include <cmath>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

namespace {
/// Least squares slope of ln y on ln x over the selected pairs with y > 0; NaN with fewer than
/// `min_points` of them or no spread in x.
double log_slope(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::size_t>& pick,
                 std::size_t min_points = 3) {
  double mx = 0, my = 0;
  std::size_t n = 0;
  for (std::size_t i : pick)
    if (y[i] > 0) {
      mx += std::log(x[i]);
      my += std::log(y[i]);
      ++n;
    }
  if (n < min_points) return std::nan("");
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (std::size_t i : pick)
    if (y[i] > 0) {
      sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
      sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
    }
  return sxx > 0 ? sxy / sxx : std::nan("");
}
}  // namespace

StructureCurve structure_curve(const std::vector<double>& radii, const Eigen::MatrixXd& sq, int resamples, double level,
                               std::uint64_t seed) {
  const auto n_r = static_cast<Eigen::Index>(radii.size());
  require(radii.size() >= 2, "radii", radii.size(), "need at least 2 radii");
  require(sq.cols() == n_r, "increments", sq.cols(), "must have one column per radius (" + std::to_string(radii.size()) + ")");
  require(sq.rows() >= 2, "directions", sq.rows(), "must be >= 2");
  require(resamples >= 10, "resamples", resamples, "must be >= 10");
  require(level > 0 && level < 1, "level", level, "must lie in (0, 1)");
  for (std::size_t i = 0; i < radii.size(); ++i) {
    require(radii[i] > 0 && std::isfinite(radii[i]), "radii", radii[i], "must be finite and > 0");
    if (i > 0) require(radii[i] > radii[i - 1], "radii", radii[i], "must be increasing");
  }
  require(sq.allFinite() && (sq.array() >= 0).all(), "increments", "(a matrix)", "must be finite and >= 0");

  StructureCurve c;
  c.r = radii;
  c.directions = static_cast<int>(sq.rows());
  c.resamples = resamples;
  c.level = level;
  const Eigen::VectorXd s = sq.colwise().mean().transpose();
  c.s.assign(s.data(), s.data() + s.size());
  auto slope = [&radii](double a, double b, Eigen::Index i) {
    return (a > 0 && b > 0) ? std::log(b / a) / std::log(radii[static_cast<std::size_t>(i) + 1] / radii[static_cast<std::size_t>(i)])
                            : std::nan("");
  };
  for (Eigen::Index i = 0; i + 1 < n_r; ++i) {
    c.r_mid.push_back(std::sqrt(radii[static_cast<std::size_t>(i)] * radii[static_cast<std::size_t>(i) + 1]));
    c.alpha.push_back(slope(s(i), s(i + 1), i));
  }
  // The range's exponent: least squares of ln S on ln r, over every radius (none may have S = 0).
  std::vector<std::size_t> every(radii.size());
  for (std::size_t i = 0; i < every.size(); ++i) every[i] = i;
  auto ls_slope = [&radii, &every](const Eigen::VectorXd& sv) {
    if (!(sv.array() > 0).all()) return std::nan("");
    return log_slope(radii, std::vector<double>(sv.data(), sv.data() + sv.size()), every, 2);
  };
  c.slope = ls_slope(s);
  // Bootstrap over directions: resample rows, recompute every local exponent and the slope.
  std::vector<std::vector<double>> draws(static_cast<std::size_t>(n_r));  // the last: the slope
  const Eigen::Index rows = sq.rows();
  for (int b = 0; b < resamples; ++b) {
    const Stream st(seed, StreamPurpose::kBootstrap, static_cast<std::uint32_t>(b), 0x5Fu);
    Eigen::VectorXd acc = Eigen::VectorXd::Zero(n_r);
    for (Eigen::Index r = 0; r < rows; ++r) {
      const Block4x32 u = st(static_cast<std::uint64_t>(r));
      acc += sq.row(static_cast<Eigen::Index>((static_cast<std::uint64_t>(u[0]) * static_cast<std::uint64_t>(rows)) >> 32)).transpose();
    }
    for (Eigen::Index i = 0; i + 1 < n_r; ++i) {
      const double a = slope(acc(i), acc(i + 1), i);
      if (std::isfinite(a)) draws[static_cast<std::size_t>(i)].push_back(a);
    }
    const double sl = ls_slope(acc);
    if (std::isfinite(sl)) draws.back().push_back(sl);
  }
  for (auto& d : draws) c.alpha_ci.push_back(percentile_interval(std::move(d), level));
  c.slope_ci = c.alpha_ci.back();
  c.alpha_ci.pop_back();
  return c;
}

Eigen::MatrixXd field_increments(const Field& field, const Eigen::VectorXd& w, const std::vector<double>& radii, int directions,
                                 std::uint64_t seed) {
  const int D = field.dim();
  require(w.size() == D, "w", w.size(), "must have the field's dimension " + std::to_string(D));
  require(!radii.empty(), "radii", "(none)", "must name at least one radius");
  require(directions >= 1, "directions", directions, "must be >= 1");
  Eigen::VectorXd v0;
  field.evaluate(w, &v0, nullptr);
  const auto n_r = static_cast<Eigen::Index>(radii.size());
  Eigen::MatrixXd out(directions, n_r);
  Eigen::MatrixXd pts(D, n_r);
  Eigen::VectorXd v;
  for (int j = 0; j < directions; ++j) {
    const Stream st(seed, StreamPurpose::kStart, static_cast<std::uint32_t>(j), 0x5Fu);
    Eigen::VectorXd u(D);
    for (int i = 0; i < D; i += 2) {
      const auto g = to_normal2(st(static_cast<std::uint64_t>(i / 2)));
      u(i) = g[0];
      if (i + 1 < D) u(i + 1) = g[1];
    }
    u.normalize();
    for (Eigen::Index k = 0; k < n_r; ++k) pts.col(k) = w + radii[static_cast<std::size_t>(k)] * u;
    field.evaluate(pts, &v, nullptr);
    out.row(j) = (v.array() - v0(0)).square().matrix().transpose();
  }
  return out;
}

std::vector<double> segment_profile(const Field& field, const Eigen::VectorXd& a, const Eigen::VectorXd& b, int points) {
  require(points >= 3, "points", points, "must be >= 3");
  require(a.size() == field.dim() && b.size() == field.dim(), "a, b", a.size(), "must have the field's dimension " + std::to_string(field.dim()));
  Eigen::MatrixXd pts(field.dim(), points);
  for (int i = 0; i < points; ++i) {
    const double l = static_cast<double>(i) / (points - 1);
    pts.col(i) = (1 - l) * a + l * b;
  }
  Eigen::VectorXd v;
  field.evaluate(pts, &v, nullptr);
  return std::vector<double>(v.data(), v.data() + v.size());
}

double barrier_height(const std::vector<double>& profile) {
  require(profile.size() >= 2, "profile", profile.size(), "needs at least 2 values");
  for (double v : profile) require(std::isfinite(v), "profile", v, "must be finite");
  const double ends = std::max(profile.front(), profile.back());
  return std::max(0.0, *std::max_element(profile.begin(), profile.end()) - ends);
}

namespace {
/// gamma from per-time means over the picked runs; sets span and count.
double rms_slope(const Eigen::MatrixXd& d, const Eigen::MatrixXd& dl, const std::vector<Eigen::Index>& rows, double* span, int* count) {
  std::vector<double> x, y;
  for (Eigen::Index t = 0; t < d.cols(); ++t) {
    double md = 0, ms = 0;
    for (Eigen::Index r : rows) {
      md += d(r, t);
      ms += dl(r, t) * dl(r, t);
    }
    md /= static_cast<double>(rows.size());
    ms = std::sqrt(ms / static_cast<double>(rows.size()));
    if (md > 0 && ms > 0) {
      x.push_back(md);
      y.push_back(ms);
    }
  }
  if (count) *count = static_cast<int>(x.size());
  if (span) *span = x.empty() ? 0.0 : std::log(*std::max_element(x.begin(), x.end()) / *std::min_element(x.begin(), x.end()));
  std::vector<std::size_t> all(x.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return log_slope(x, y, all);
}
}  // namespace

RmsExponent rms_exponent(const Eigen::MatrixXd& distance, const Eigen::MatrixXd& loss_change, int resamples, double level,
                         std::uint64_t seed) {
  require(distance.rows() == loss_change.rows() && distance.cols() == loss_change.cols(), "loss_change", loss_change.rows(),
          "must have the shape of distance (runs x times)");
  require(distance.rows() >= 2, "runs", distance.rows(), "need at least 2 runs");
  require(resamples >= 10, "resamples", resamples, "must be >= 10");
  require(level > 0 && level < 1, "level", level, "must lie in (0, 1)");
  require(distance.allFinite() && (distance.array() >= 0).all(), "distance", "(a matrix)", "must be finite and >= 0");
  require(loss_change.allFinite(), "loss_change", "(a matrix)", "must be finite");
  RmsExponent out;
  out.runs = static_cast<int>(distance.rows());
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(distance.rows()));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<Eigen::Index>(i);
  out.gamma = rms_slope(distance, loss_change, rows, &out.log_span, &out.times);
  std::vector<double> draws;
  const auto n = static_cast<std::uint64_t>(rows.size());
  for (int b = 0; b < resamples; ++b) {
    const Stream st(seed, StreamPurpose::kBootstrap, static_cast<std::uint32_t>(b), 0x5Au);
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<Eigen::Index>((static_cast<std::uint64_t>(st(i)[0]) * n) >> 32);
    const double g = rms_slope(distance, loss_change, rows, nullptr, nullptr);
    if (std::isfinite(g)) draws.push_back(g);
  }
  out.gamma_ci = std::isfinite(out.gamma) ? percentile_interval(std::move(draws), level) : Interval{std::nan(""), std::nan("")};
  return out;
}

BarrierScaling barrier_scaling(const std::vector<double>& distances, const std::vector<double>& barriers, int resamples, double level,
                               std::uint64_t seed) {
  require(distances.size() == barriers.size(), "barriers", barriers.size(),
          "must hold one value per distance (" + std::to_string(distances.size()) + ")");
  require(distances.size() >= 3, "distances", distances.size(), "need at least 3 pairs");
  require(resamples >= 10, "resamples", resamples, "must be >= 10");
  require(level > 0 && level < 1, "level", level, "must lie in (0, 1)");
  for (std::size_t i = 0; i < distances.size(); ++i) {
    require(distances[i] > 0 && std::isfinite(distances[i]), "distances", distances[i], "must be finite and > 0");
    require(barriers[i] >= 0 && std::isfinite(barriers[i]), "barriers", barriers[i], "must be finite and >= 0");
  }
  BarrierScaling out;
  const std::size_t n = distances.size();
  out.pairs = static_cast<int>(n);
  out.resamples = resamples;
  out.level = level;
  std::vector<std::size_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = i;
  out.zero_fraction = static_cast<double>(std::count(barriers.begin(), barriers.end(), 0.0)) / static_cast<double>(n);
  out.slope = log_slope(distances, barriers, all);
  std::vector<double> draws;
  std::vector<std::size_t> pick(n);
  for (int b = 0; b < resamples; ++b) {
    const Stream st(seed, StreamPurpose::kBootstrap, static_cast<std::uint32_t>(b), 0x5Cu);
    for (std::size_t i = 0; i < n; ++i)
      pick[i] = static_cast<std::size_t>((static_cast<std::uint64_t>(st(i)[0]) * static_cast<std::uint64_t>(n)) >> 32);
    const double s = log_slope(distances, barriers, pick);
    if (std::isfinite(s)) draws.push_back(s);
  }
  out.slope_ci = percentile_interval(std::move(draws), level);
  return out;
}

}  // namespace gengap::sim
