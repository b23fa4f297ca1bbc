// Walker-steps per second for Sinai walks: the ensemble runner (1 and 2 threads) against the
// plainest correct loop (one walker at a time, acceptance computed with exp at every step).
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "gengap/sim.hpp"

namespace sim = gengap::sim;

namespace {

// The runner on 64 Sinai environments, t = 2^16 steps, Metropolis at T = 1: walker-steps per second.
void time_sinai_runner(benchmark::State& state, unsigned threads, std::uint32_t walkers, sim::SimdPath path) {
  sim::EnsembleConfig cfg;
  cfg.environments = 64;
  cfg.walkers_per_env = walkers;
  cfg.times = {1u << 16};
  cfg.threads = threads;
  cfg.quantile_levels.clear();
  cfg.simd = path;
  const sim::SinaiPotential pot;
  const sim::Metropolis dyn;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    const auto r = sim::run_ensemble(pot, dyn, cfg);
    benchmark::DoNotOptimize(r.msd.back());
    steps += r.walker_steps;
  }
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["steps_per_s_per_thread"] =
      benchmark::Counter(static_cast<double>(steps) / static_cast<double>(threads), benchmark::Counter::kIsRate);
}

// The runner on the CPU's widest path, 1 and 2 threads, 64 or 1 walkers per environment.
void BM_EnsembleSinai(benchmark::State& state) {
  time_sinai_runner(state, static_cast<unsigned>(state.range(0)), static_cast<std::uint32_t>(state.range(1)), sim::SimdPath::kAuto);
}
BENCHMARK(BM_EnsembleSinai)->Args({1, 64})->Args({2, 64})->Args({1, 1})->Args({2, 1})->ArgNames({"threads", "walkers"})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// The runner on each inner-loop path (1 thread, 64 walkers per environment): scalar, AVX2, AVX-512.
// A path this CPU lacks is reported as skipped.
void BM_EnsembleSinaiPath(benchmark::State& state) {
  const auto path = static_cast<sim::SimdPath>(state.range(0));
  state.SetLabel(sim::simd_path_name(path));
  const auto have = sim::available_simd_paths();
  if (std::find(have.begin(), have.end(), path) == have.end()) {
    state.SkipWithError("this CPU lacks the path");
    return;
  }
  time_sinai_runner(state, 1, 64, path);
}
BENCHMARK(BM_EnsembleSinaiPath)
    ->Arg(static_cast<int>(sim::SimdPath::kScalar))
    ->Arg(static_cast<int>(sim::SimdPath::kAvx2))
    ->Arg(static_cast<int>(sim::SimdPath::kAvx512))
    ->ArgName("path")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The plainest correct loop: one walker, one uniform double per step, Metropolis with exp.
void BM_PlainLoop(benchmark::State& state) {
  const sim::SinaiPotential pot;
  const sim::Landscape land = pot.sample(1, 0, 1 << 14);
  const std::int64_t t_max = 1 << 16;
  std::uint64_t steps = 0;
  std::uint32_t walker = 0;
  for (auto _ : state) {
    const sim::Stream st(1, sim::StreamPurpose::kWalk, walker++, 0);
    std::int64_t x = 0;
    for (std::int64_t t = 0; t < t_max; t += 2) {
      const auto b = st(static_cast<std::uint64_t>(t >> 1));
      for (int k = 0; k < 2; ++k) {
        const double dir = sim::to_open01(b[2 * k]);
        const std::int64_t y = dir < 0.5 ? x - 1 : x + 1;
        const double dv = land(y) - land(x);
        if (dv <= 0 || sim::to_open01(b[2 * k + 1]) < std::exp(-dv)) x = y;
      }
    }
    benchmark::DoNotOptimize(x);
    steps += static_cast<std::uint64_t>(t_max);
  }
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PlainLoop)->Unit(benchmark::kMillisecond);

// Philox alone: blocks per second (4 words each).
void BM_Philox(benchmark::State& state) {
  const sim::Stream st(1, sim::StreamPurpose::kWalk, 0, 0);
  std::uint64_t i = 0;
  std::uint32_t acc = 0;
  for (auto _ : state) {
    acc ^= st(i++)[0];
  }
  benchmark::DoNotOptimize(acc);
  state.counters["words_per_s"] = benchmark::Counter(4.0 * static_cast<double>(i), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Philox);


// Noisy gradient descent at D = 1000 on a Fourier field of 1024 modes: walker-steps per second of
// the runner (walkers of a landscape batched into matrix products) against a plain loop (one
// walker, scalar loops over modes and coordinates, std::normal_distribution noise).
void BM_SgdRunner(benchmark::State& state) {
  sim::FourierFieldOptions o;
  o.dim = 1000;
  o.modes = 1024;
  sim::SgdConfig c;
  c.landscapes = static_cast<std::uint32_t>(state.range(0));
  c.walkers = static_cast<std::uint32_t>(state.range(1));
  c.times = {100};
  c.threads = static_cast<unsigned>(state.range(0));
  std::uint64_t steps = 0;
  for (auto _ : state) {
    const auto r = sim::run_sgd(
        [&o](std::uint32_t i) {
          auto p = o;
          p.index = i;
          return std::make_unique<sim::FourierField>(p);
        },
        c);
    benchmark::DoNotOptimize(r.mean_distance.back());
    steps += r.steps;
  }
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SgdRunner)->Args({1, 1})->Args({1, 16})->Args({2, 16})->ArgNames({"threads", "walkers"})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SgdPlainLoop(benchmark::State& state) {
  sim::FourierFieldOptions o;
  o.dim = 1000;
  o.modes = 1024;
  const sim::FourierField f(o);
  // The modes copied row by row, so the loops below run over contiguous memory.
  std::vector<double> k(static_cast<std::size_t>(o.modes) * static_cast<std::size_t>(o.dim));
  for (int j = 0; j < o.modes; ++j)
    for (int c = 0; c < o.dim; ++c) k[static_cast<std::size_t>(j) * static_cast<std::size_t>(o.dim) + static_cast<std::size_t>(c)] = f.wavevectors()(j, c);
  const Eigen::VectorXd &a = f.amplitudes(), &phi = f.phases();
  const int d = o.dim, m = o.modes;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> z;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    std::vector<double> w(static_cast<std::size_t>(d), 0.0), g(static_cast<std::size_t>(d));
    for (int t = 0; t < 100; ++t) {
      std::fill(g.begin(), g.end(), 0.0);
      for (int j = 0; j < m; ++j) {
        const double* kj = &k[static_cast<std::size_t>(j) * static_cast<std::size_t>(d)];
        double arg = phi[j];
        for (int c = 0; c < d; ++c) arg += kj[c] * w[static_cast<std::size_t>(c)];
        const double sj = a[j] * std::sin(arg);
        for (int c = 0; c < d; ++c) g[static_cast<std::size_t>(c)] -= sj * kj[c];
      }
      for (int c = 0; c < d; ++c) w[static_cast<std::size_t>(c)] += -0.1 * g[static_cast<std::size_t>(c)] + 0.1 * z(rng);
      ++steps;
    }
    benchmark::DoNotOptimize(w.data());
  }
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SgdPlainLoop)->Unit(benchmark::kMillisecond);

// The exact solver: one environment (Sinai, s = 3), t up to 2^58 (ln t = 40.2), 4 times per octave,
// against the window half-width hw (n = 2 hw + 1 sites). Cost ~ 58 dense n x n products.
void BM_ExactSolver(benchmark::State& state) {
  const sim::SinaiPotential pot(sim::SinaiPotential::Increments::kGaussian, 3.0);
  const auto hw = static_cast<std::int64_t>(state.range(0));
  const sim::BirthDeathChain chain = sim::chain_from_landscape(pot.sample(1, 0, hw), sim::Metropolis{}, 1.0);
  sim::ExactOptions opt;
  opt.octaves = 58;
  for (auto _ : state) {
    const auto p = sim::propagate_exact(chain, opt);
    benchmark::DoNotOptimize(p.msd.back());
  }
  state.counters["sites"] = static_cast<double>(chain.size());
  state.counters["squarings_per_s"] = benchmark::Counter(58.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExactSolver)->Arg(50)->Arg(100)->Arg(200)->Arg(400)->Arg(800)->ArgName("hw")->Unit(benchmark::kSecond);

// Walker-steps per second on a 2D lattice field (L = 256, s = 3, T = 1), one thread, 16 walkers on
// each of 4 fields, t = 2^16 (field synthesis included).
void BM_LatticeWalk2D(benchmark::State& state) {
  const sim::LatticeField field({2, 256, 1.0, 3.0, 3});
  sim::LatticeWalkConfig cfg;
  cfg.environments = 4;
  cfg.walkers_per_env = 16;
  cfg.times = {1u << 16};
  cfg.threads = 1;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    const auto r = sim::run_lattice_walk(field, cfg);
    benchmark::DoNotOptimize(r.msd.back());
    steps += r.walker_steps;
  }
  state.counters["walker_steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LatticeWalk2D)->Unit(benchmark::kMillisecond)->UseRealTime();  // the walk runs on a worker thread

}  // namespace

BENCHMARK_MAIN();
