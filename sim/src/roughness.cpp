// The structure function along random directions and its local exponent, with a bootstrap band.
#include "gengap/sim/roughness.hpp"

#include <algorithm>
#include <cmath>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

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
  // The range's exponent: least squares of ln S on ln r.
  auto ls_slope = [&radii, n_r](const Eigen::VectorXd& sv) {
    double mx = 0, my = 0;
    for (Eigen::Index i = 0; i < n_r; ++i) {
      if (!(sv(i) > 0)) return std::nan("");
      mx += std::log(radii[static_cast<std::size_t>(i)]);
      my += std::log(sv(i));
    }
    mx /= static_cast<double>(n_r);
    my /= static_cast<double>(n_r);
    double sxy = 0, sxx = 0;
    for (Eigen::Index i = 0; i < n_r; ++i) {
      const double dx = std::log(radii[static_cast<std::size_t>(i)]) - mx;
      sxy += dx * (std::log(sv(i)) - my);
      sxx += dx * dx;
    }
    return sxy / sxx;
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
  const double lo_q = (1 - level) / 2;
  for (auto& d : draws) {
    if (d.empty()) {
      c.alpha_ci.push_back({std::nan(""), std::nan("")});
      continue;
    }
    std::sort(d.begin(), d.end());
    auto q = [&d](double p) { return d[static_cast<std::size_t>(std::floor(p * static_cast<double>(d.size() - 1)))]; };
    c.alpha_ci.push_back({q(lo_q), q(1 - lo_q)});
  }
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

}  // namespace gengap::sim
