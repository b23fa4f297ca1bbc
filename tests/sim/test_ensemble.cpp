// The ensemble runner: determinism, an independent scalar reference, window growth, errors, and
// Sinai's walk against Kesten's 61/45.
#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "gengap/sim/ensemble.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/fbm.hpp"
#include "gengap/sim/fit.hpp"
#include "gengap/sim/heat_bath.hpp"
#include "gengap/sim/hop_table.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/sim/sinai.hpp"
#include "gengap/sim/theory.hpp"
#include "gengap/sim/times.hpp"

using namespace gengap::sim;

namespace {
EnsembleConfig small_config() {
  EnsembleConfig c;
  c.environments = 37;  // not a multiple of the lane count
  c.walkers_per_env = 5;
  c.times = log_times(20000, 4);
  c.seed = 2024;
  c.keep_positions = true;
  return c;
}
}  // namespace

TEST_CASE("same seed: bitwise-identical results on 1 and 2 threads", "[ensemble]") {
  const SinaiPotential pot;
  const HeatBath dyn;
  EnsembleConfig c = small_config();
  c.threads = 1;
  const auto a = run_ensemble(pot, dyn, c);
  c.threads = 2;
  const auto b = run_ensemble(pot, dyn, c);
  CHECK(a.msd == b.msd);
  CHECK(a.mean_x == b.mean_x);
  CHECK(a.mean_abs == b.mean_abs);
  CHECK(a.final_positions == b.final_positions);
  CHECK(a.quantiles == b.quantiles);
  CHECK(a.env_msd == b.env_msd);
  c.seed = 2025;
  const auto d = run_ensemble(pot, dyn, c);
  CHECK(d.final_positions != a.final_positions);
}

TEST_CASE("runner equals a plain scalar walk on the same streams", "[ensemble]") {
  const SinaiPotential pot(SinaiPotential::Increments::kBinary, 1.0);
  const Metropolis dyn;
  EnsembleConfig c = small_config();
  c.temperature = 0.7;
  const auto r = run_ensemble(pot, dyn, c);
  const std::uint64_t t_max = c.times.back();
  for (std::uint32_t e : {0u, 17u, 36u}) {
    const HopTable table(pot.sample(c.seed, e, 1 << 16), dyn, c.temperature);
    for (std::uint32_t w = 0; w < c.walkers_per_env; ++w) {
      const Stream st(c.seed, StreamPurpose::kWalk, w, e);
      std::int64_t x = 0;
      for (std::uint64_t t = 0; t < t_max; ++t) x = hop(table.origin(), x, st(t >> 2)[t & 3]);
      REQUIRE(r.final_positions[e * c.walkers_per_env + w] == x);
    }
  }
}

TEST_CASE("every SIMD path gives bitwise the same walk", "[ensemble][simd]") {
  const std::vector<SimdPath> paths = available_simd_paths();
  REQUIRE(paths.front() == SimdPath::kScalar);
  for (SimdPath p : {SimdPath::kAvx2, SimdPath::kAvx512}) {
    if (std::find(paths.begin(), paths.end(), p) == paths.end()) WARN(simd_path_name(p) << ": not on this CPU, not compared");
  }
  const SinaiPotential sinai;
  const FbmPotential fbm(1.0);
  struct Case {
    const char* name;
    const Potential* pot;
    bool heat_bath;
    std::uint32_t envs, walkers;
    double temperature;
    std::int64_t half_width;
  };
  // Lanes that straddle environments (5, 1 walker per env), whole groups of the widest kernel (64),
  // a partial last group, windows that grow mid-run (half_width 300, T = 3), a potential that cannot
  // grow.
  const std::vector<Case> cases = {{"sinai W=5", &sinai, true, 37, 5, 1.0, 0},
                                   {"sinai W=1", &sinai, false, 23, 1, 1.0, 0},
                                   {"sinai W=64 growing", &sinai, false, 3, 64, 3.0, 300},
                                   {"fbm W=20", &fbm, false, 5, 20, 1.0, 0}};
  const HeatBath hb;
  const Metropolis metro;
  for (const Case& k : cases) {
    EnsembleConfig c = small_config();
    c.environments = k.envs;
    c.walkers_per_env = k.walkers;
    c.temperature = k.temperature;
    c.half_width = k.half_width;
    c.times = {1, 2, 3, 7, 1001, 4099, 20001};  // recording times off the 4-step Philox blocks
    const Dynamics& dyn = k.heat_bath ? static_cast<const Dynamics&>(hb) : static_cast<const Dynamics&>(metro);
    c.simd = SimdPath::kScalar;
    const auto ref = run_ensemble(*k.pot, dyn, c);
    CHECK(ref.simd == SimdPath::kScalar);
    for (SimdPath p : paths) {
      INFO(k.name << ", path " << simd_path_name(p));
      c.simd = p;
      const auto r = run_ensemble(*k.pot, dyn, c);
      CHECK(r.simd == p);
      CHECK(r.final_positions == ref.final_positions);
      CHECK(r.msd == ref.msd);
      CHECK(r.mean_x == ref.mean_x);
      CHECK(r.quantiles == ref.quantiles);
      CHECK(r.walker_steps == ref.walker_steps);
    }
    c.simd = SimdPath::kAuto;
    CHECK(run_ensemble(*k.pot, dyn, c).simd == paths.back());
  }
}

TEST_CASE("SIMD path names and a path the CPU lacks", "[ensemble][simd][errors]") {
  for (SimdPath p : {SimdPath::kAuto, SimdPath::kScalar, SimdPath::kAvx2, SimdPath::kAvx512}) {
    CHECK(parse_simd_path(simd_path_name(p)) == p);
  }
  CHECK_THROWS_AS(parse_simd_path("sse9"), InvalidArgument);
  CHECK_THROWS_WITH(parse_simd_path("AVX512"), "simd = AVX512: must be auto, scalar, avx2 or avx512");
  const std::vector<SimdPath> paths = available_simd_paths();
  if (paths.back() != SimdPath::kAvx512) {
    EnsembleConfig c = small_config();
    c.simd = SimdPath::kAvx512;
    CHECK_THROWS_WITH(run_ensemble(SinaiPotential{}, Metropolis{}, c), Catch::StartsWith("simd = avx512: this CPU cannot run it"));
  }
}

TEST_CASE("a growing window does not change the walk", "[ensemble]") {
  const SinaiPotential pot;
  const Metropolis dyn;
  EnsembleConfig c = small_config();
  c.temperature = 3.0;  // weak disorder: walkers travel far
  c.half_width = 300;    // the runner grows a window when a walker comes within 256 sites of its edge
  const auto grown = run_ensemble(pot, dyn, c);
  CHECK(grown.largest_half_width > 300);
  c.half_width = 1 << 16;
  const auto big = run_ensemble(pot, dyn, c);
  CHECK(grown.final_positions == big.final_positions);
  CHECK(grown.msd == big.msd);
}

TEST_CASE("a potential that cannot grow stops the run with a clear error", "[ensemble][errors]") {
  const FbmPotential pot(1.5);
  EnsembleConfig c = small_config();
  c.temperature = 50;
  c.half_width = 300;
  CHECK_THROWS_WITH(run_ensemble(pot, Metropolis{}, c), Catch::Contains("edge of the window") && Catch::Contains("half_width"));
  c.half_width = 1 << 20;
  c.max_half_width = 1 << 16;
  CHECK_THROWS_WITH(run_ensemble(pot, Metropolis{}, c), Catch::StartsWith("half_width = 1048576"));
}

TEST_CASE("bad ensemble configurations name the field", "[ensemble][errors]") {
  const SinaiPotential pot;
  const Metropolis dyn;
  EnsembleConfig c = small_config();
  c.walkers_per_env = 0;
  CHECK_THROWS_WITH(run_ensemble(pot, dyn, c), Catch::StartsWith("walkers = 0"));
  c = small_config();
  c.environments = 0;
  CHECK_THROWS_WITH(run_ensemble(pot, dyn, c), Catch::StartsWith("environments = 0"));
  c = small_config();
  c.temperature = 0;
  CHECK_THROWS_WITH(run_ensemble(pot, dyn, c), Catch::StartsWith("temperature = 0"));
  c = small_config();
  c.times = {5, 3};
  CHECK_THROWS_WITH(run_ensemble(pot, dyn, c), Catch::StartsWith("times = 3"));
  c = small_config();
  c.times = {(std::uint64_t{1} << 32) + 1};
  CHECK_THROWS_WITH(run_ensemble(pot, dyn, c), Catch::Contains("2^32"));
  c = small_config();
  c.quantile_levels = {1.5};
  CHECK_THROWS_WITH(run_ensemble(pot, dyn, c), Catch::StartsWith("quantiles = 1.5"));
}

namespace {
// sigma^4 A^4 from the fit <x^2>^(1/4) = A (ln t - c) over t >= 1000, with one walker per
// environment. Its relative standard error is about 2.2/sqrt(N_env) per time; the fitted offset
// c roughly doubles it, hence the tolerance of 4 x 2.2/sqrt(N_env) (stated, not tuned).
void check_kesten(std::uint32_t envs, std::uint64_t t_max, std::uint64_t seed) {
  const double s = 3.0;  // strong disorder: the asymptotic regime starts early
  const SinaiPotential pot(SinaiPotential::Increments::kGaussian, s);
  EnsembleConfig c;
  c.environments = envs;
  c.walkers_per_env = 1;
  c.times = log_times(t_max, 8);
  c.seed = seed;
  c.quantile_levels.clear();
  const auto r = run_ensemble(pot, Metropolis{}, c);
  CHECK(r.sigma2 == s * s);
  std::vector<double> t, y;
  for (std::size_t i = 0; i < r.times.size(); ++i)
    if (r.times[i] >= 1000) {
      t.push_back(static_cast<double>(r.times[i]));
      y.push_back(r.msd[i]);
    }
  const FitResult f = fit_log_fixed(t, y, 4.0);
  const double estimate = r.sigma2 * r.sigma2 * std::pow(f.param("A"), 4);
  const double tol = 4 * 2.2 / std::sqrt(static_cast<double>(envs));
  INFO("N_env = " << envs << ", t_max = " << t_max << ", sigma^4 A^4 = " << estimate << ", c = " << f.param("c")
                  << ", 61/45 = " << kKestenSecondMoment << ", relative tolerance " << tol);
  CHECK(std::abs(estimate / kKestenSecondMoment - 1) < tol);
  // Log growth beats the power law on the same data.
  const auto cmp = compare_models(t, y, 4.0);
  CHECK(cmp.front().model != "power");
}
}  // namespace

TEST_CASE("Sinai: sigma^4 <x^2> / (ln t - c)^4 approaches 61/45 (4000 environments, t = 2^20)", "[ensemble][kesten]") {
  check_kesten(4000, std::uint64_t{1} << 20, 1);
}

TEST_CASE("Sinai long validation: 61/45 with 16000 environments, t = 2^22", "[long][kesten]") {
  check_kesten(16000, std::uint64_t{1} << 22, 7);
}
