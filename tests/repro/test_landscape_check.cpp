// The landscape and premise checks of the weight-distance experiment on inputs whose answer is
// known: the snapshot plan, and the sqrt(B) premise on noise records written here — constant
// tr(Sigma) (the premise holds: sqrt scaling keeps v = lr^2 tr(Sigma)/B constant, the controls do
// not) and tr(Sigma) growing like B (the premise fails).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "gengap/train/run_log.hpp"
#include "landscape_check.hpp"
#include "../train/test_support.hpp"

using namespace gengap;
using namespace gengap::repro::detail;
namespace fs = std::filesystem;

namespace {
LandscapeSettings settings() {
  LandscapeSettings s;
  s.checkpoints = {0.01, 0.1, 1.0};
  s.seeds = {1};
  s.resamples = 400;
  s.premise_max_deviation = 0.5;
  return s;
}

// A noise.csv with tr(Sigma)(t) = trace0 x (1 + 5% noise) at every due update up to T.
fs::path write_noise(const std::string& name, double trace0, std::int64_t T, unsigned seed) {
  const fs::path dir = fs::path(GENGAP_TEST_TMP) / "premise" / name;
  fs::create_directories(dir);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  std::ofstream f(dir / train::run_log::kNoiseFile);
  f << "iteration,epoch,trace,grad_sq,b_simple,group_size,groups\n";
  for (std::int64_t t = 1; t <= T; ++t)
    if (train::run_log::noise_due(t)) {
      const double tr = trace0 * (1 + 0.05 * z(rng));
      f << t << ',' << t / 100.0 << ',' << tr << ",1," << tr << ",16,2\n";
    }
  return dir;
}

// Runs for the sqrt rule at B = 32, 64, 256 and the controls at 64, 256: tr(Sigma) = trace(B).
std::vector<NoiseRun> runs(double (*trace)(std::int64_t), std::int64_t T) {
  std::vector<NoiseRun> r;
  unsigned seed = 1;
  for (std::int64_t b : {32, 64, 256})
    for (int s = 0; s < 3; ++s)
      r.push_back({"sqrt", b, 0.1 * std::sqrt(b / 32.0), write_noise("sqrt_" + std::to_string(b) + "_" + std::to_string(s), trace(b), T, seed++)});
  for (std::int64_t b : {64, 256})
    for (int s = 0; s < 3; ++s) {
      r.push_back({"none", b, 0.1, write_noise("none_" + std::to_string(b) + "_" + std::to_string(s), trace(b), T, seed++)});
      r.push_back({"linear", b, 0.1 * b / 32.0, write_noise("linear_" + std::to_string(b) + "_" + std::to_string(s), trace(b), T, seed++)});
    }
  return r;
}
double constant_trace(std::int64_t) { return 40.0; }
double growing_trace(std::int64_t b) { return 40.0 * static_cast<double>(b) / 32.0; }
}  // namespace

TEST_CASE("landscape plan: checkpoints, their previous updates, w_0 and the barrier iterates", "[landscape]") {
  const LandscapeSettings s = settings();
  CHECK(checkpoint_iterations(s, 1000) == std::vector<std::int64_t>{10, 100, 1000});
  const auto b = barrier_iterations(s, 1000);
  REQUIRE(b.size() == 8);
  CHECK(b.front() == 10);
  CHECK(b.back() == 1000);
  const auto snap = snapshot_iterations(s, 1000);
  for (std::int64_t t : {0, 9, 10, 99, 100, 999, 1000}) CHECK(std::count(snap.begin(), snap.end(), t) == 1);
  CHECK(std::is_sorted(snap.begin(), snap.end()));
  CHECK(checkpoint_iterations(s, 50) == std::vector<std::int64_t>{1, 5, 50});
}

TEST_CASE("the sqrt(B) premise: constant tr(Sigma) supports it against both controls, tr(Sigma) ~ B falsifies it", "[landscape]") {
  const fs::path out = fs::path(GENGAP_TEST_TMP) / "premise";
  fs::create_directories(out);
  const LandscapeSettings s = settings();
  {
    std::vector<repro::Verdict> v;
    std::string md;
    const auto j = check_premise(s, runs(constant_trace, 1000), 32, 1000, out, "test", &v, &md);
    REQUIRE(v.size() == 1);
    CHECK(v[0].outcome == sim::Outcome::kSupported);
    // Simultaneous Student-t intervals over the points and curves (calibrated on nulls: test_claims.cpp)
    // are wider than the percentile bootstrap of the maximum they replace (which gave < 0.2 here).
    CHECK(j["deviation"]["hi"].get<double>() < 0.35);
    CHECK(j["deviation"]["value"].get<double>() < 0.1);
    CHECK(j["controls"]["no lr scaling"]["lo"].get<double>() > 0.8);    // v ~ 1/B: 1 - 32/256
    CHECK(j["controls"]["linear lr scaling"]["lo"].get<double>() > 5);  // v ~ B: 256/32 - 1
    CHECK(fs::exists(out / "premise.csv"));
    CHECK(fs::exists(out / "noise_B64.csv"));
  }
  {
    std::vector<repro::Verdict> v;
    std::string md;
    check_premise(s, runs(growing_trace, 1000), 32, 1000, out, "test", &v, &md);
    REQUIRE(v.size() == 1);
    CHECK(v[0].outcome == sim::Outcome::kFalsified);
  }
}
