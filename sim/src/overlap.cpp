// Overlap of growth curves on their common range.
#include "gengap/sim/overlap.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gengap/sim/error.hpp"

namespace gengap::sim {
namespace {
double interpolate(const Curve& c, double x) {
  const auto it = std::lower_bound(c.x.begin(), c.x.end(), x);
  if (it == c.x.begin()) return c.y.front();
  if (it == c.x.end()) return c.y.back();
  const auto j = static_cast<std::size_t>(it - c.x.begin());
  const double l0 = std::log(c.x[j - 1]), l1 = std::log(c.x[j]);
  const double w = (std::log(x) - l0) / (l1 - l0);
  return c.y[j - 1] + w * (c.y[j] - c.y[j - 1]);
}
}  // namespace

Overlap curve_overlap(const std::vector<Curve>& curves, int points) {
  require(curves.size() >= 2, "curves", curves.size(), "need at least two curves");
  require(points >= 2, "points", points, "must be >= 2");
  Overlap o;
  o.x_lo = 0;
  o.x_hi = INFINITY;
  for (std::size_t k = 0; k < curves.size(); ++k) {
    const Curve& c = curves[k];
    require(c.x.size() == c.y.size() && c.x.size() >= 2, "curve", k, "needs x and y of the same length >= 2");
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      require(c.x[i] > 0 && std::isfinite(c.x[i]) && (i == 0 || c.x[i] > c.x[i - 1]), "curve x", c.x[i],
              "must be finite, > 0 and strictly increasing");
      require(c.y[i] > 0 && std::isfinite(c.y[i]), "curve y", c.y[i], "must be finite and > 0");
    }
    o.x_lo = std::max(o.x_lo, c.x.front());
    o.x_hi = std::min(o.x_hi, c.x.back());
  }
  require(o.x_hi > o.x_lo, "curves", "[" + to_text(o.x_lo) + ", " + to_text(o.x_hi) + "]", "have no common x range");
  o.points = points;
  double total = 0;
  for (int p = 0; p < points; ++p) {
    const double x = std::exp(std::log(o.x_lo) + (std::log(o.x_hi) - std::log(o.x_lo)) * p / (points - 1));
    std::vector<double> v(curves.size());
    double m = 0;
    for (std::size_t k = 0; k < curves.size(); ++k) m += v[k] = interpolate(curves[k], x);
    const double n = static_cast<double>(curves.size());
    m /= n;
    double var = 0;  // two passes: no cancellation for nearly identical curves
    for (double vk : v) var += (vk - m) * (vk - m);
    total += std::sqrt(var / n) / m;
  }
  o.spread = total / points;
  return o;
}

}  // namespace gengap::sim
