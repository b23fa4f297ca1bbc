// Curve overlap: closed forms for identical and scaled curves, and the iterations-vs-epochs contrast.
#include <cmath>

#include <catch2/catch.hpp>

#include "gengap/sim/error.hpp"
#include "gengap/sim/overlap.hpp"

using namespace gengap::sim;

TEST_CASE("overlap of identical, scaled and shifted curves", "[overlap]") {
  Curve a;
  for (int i = 1; i <= 100; ++i) {
    a.x.push_back(i * 10.0);
    a.y.push_back(std::log(i * 10.0));
  }
  Curve same = a, scaled = a;
  for (double& v : scaled.y) v *= 1.2;
  CHECK(curve_overlap({a, same}).spread == Approx(0.0).margin(1e-12));
  // Two curves differing by a factor r: |r - 1| / (r + 1).
  CHECK(curve_overlap({a, scaled}).spread == Approx(0.2 / 2.2).epsilon(1e-9));
  // d against iterations overlaps for every batch size; against epochs (x divided by B / 128) it does not.
  std::vector<Curve> iters, epochs;
  for (double b : {128.0, 512.0, 2048.0}) {
    Curve it, ep;
    for (int i = 1; i <= 200; ++i) {
      const double t = std::pow(10.0, 0.03 * i);
      it.x.push_back(t);
      it.y.push_back(std::log1p(t));
      ep.x.push_back(t * b / 128.0);  // t iterations of batch b are t * b / N epochs (N = 128 here)
      ep.y.push_back(std::log1p(t));
    }
    iters.push_back(it);
    epochs.push_back(ep);
  }
  const Overlap oi = curve_overlap(iters), oe = curve_overlap(epochs);
  CHECK(oi.spread < 1e-12);
  CHECK(oe.spread > 0.1);
  CHECK(oi.x_lo == Approx(std::pow(10.0, 0.03)));
}

TEST_CASE("overlap rejects bad curves", "[overlap][errors]") {
  Curve a{{1, 2, 3}, {1, 2, 3}}, b{{10, 20}, {1, 2}}, bad{{1, 1}, {1, 2}};
  CHECK_THROWS_WITH(curve_overlap({a}), Catch::StartsWith("curves = 1"));
  CHECK_THROWS_WITH(curve_overlap({a, b}), Catch::Contains("no common x range"));
  CHECK_THROWS_WITH(curve_overlap({a, bad}), Catch::StartsWith("curve x = 1"));
}
