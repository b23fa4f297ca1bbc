/// @file ensemble.hpp
/// @brief The ensemble runner: many environments x walkers of one potential and one dynamics,
/// multi-threaded, recorded at chosen (log-spaced) times, bitwise independent of the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "gengap/sim/dynamics.hpp"
#include "gengap/sim/potential.hpp"

namespace gengap::sim {

/// The instruction set of the runner's inner loop (Philox draws and hops). Every path gives bitwise
/// the same results; they differ only in speed. The choice is made at run time from the CPU, so a
/// binary built on one machine runs right on another.
enum class SimdPath {
  kAuto,    ///< the widest path this CPU runs
  kScalar,  ///< portable C++, 8 walkers per group
  kAvx2,    ///< AVX2 Philox (4 streams per vector), scalar hops, 32 walkers per group
  kAvx512,  ///< AVX-512 Philox (8 streams per vector), scalar hops, 64 walkers per group
};

/// The path's name: "auto", "scalar", "avx2" or "avx512".
std::string simd_path_name(SimdPath path);

/// The path named `name` (as simd_path_name() writes it).
/// @throws InvalidArgument for any other name
SimdPath parse_simd_path(const std::string& name);

/// The paths this CPU (and its operating system) can run, narrowest first; always starts with kScalar.
std::vector<SimdPath> available_simd_paths();

/// The most quantile levels an ensemble records (EnsembleConfig::quantile_levels).
inline constexpr std::size_t kMaxQuantileLevels = 10000;

/// What to simulate and record. Every field is checked by run_ensemble().
struct EnsembleConfig {
  std::uint64_t seed = 1;                  ///< master seed: landscapes and walks derive from it
  std::uint32_t environments = 1000;       ///< independent potentials (disorder samples), >= 1
  std::uint32_t walkers_per_env = 1;       ///< walkers per potential, all starting at x = 0, >= 1
  double temperature = 1.0;                ///< T > 0, energy units
  std::vector<std::uint64_t> times;        ///< recording times (steps), increasing, 1 <= t <= 2^32
  std::int64_t half_width = 0;             ///< initial window [-hw, hw]; 0 = automatic
  std::int64_t max_half_width = 1 << 26;   ///< a window never grows past this (memory bound)
  unsigned threads = 0;                    ///< worker threads; 0 = all hardware threads
  std::vector<double> quantile_levels{0.05, 0.25, 0.5, 0.75, 0.95};  ///< levels in (0,1) of x, at most kMaxQuantileLevels; empty: none
  bool keep_positions = false;             ///< keep every walker's position at the last time
  SimdPath simd = SimdPath::kAuto;         ///< inner-loop instruction set (results do not depend on it)
  /// Called on the calling thread about 5 times a second with the fraction of steps done. An
  /// exception it throws stops the run (the walkers stop within one stretch of steps, at most a
  /// window's width) and is rethrown by run_ensemble(): how a caller cancels (e.g. Ctrl-C in Python).
  std::function<void(double)> progress;
};

/// What run_ensemble() measured. Averages are over all walkers of all environments.
struct EnsembleResult {
  std::vector<std::uint64_t> times;    ///< recording times
  std::vector<double> mean_x;          ///< \<x\>(t)
  std::vector<double> msd;             ///< \<x^2\>(t)
  std::vector<double> mean_abs;        ///< \<|x|\>(t)
  std::vector<double> quantile_levels; ///< the levels of `quantiles`' columns
  Eigen::MatrixXd quantiles;           ///< quantiles of x: row = time, column = level
  Eigen::MatrixXd env_msd;             ///< thermal \<x^2\> per environment: row = env, column = time
  std::vector<std::int32_t> final_positions;  ///< x at the last time, env-major (if kept)
  double sigma2 = 0;                   ///< Var(V(x+1)-V(x)) / T^2, the theory's sigma^2
  double alpha = 0;                    ///< the potential's structure-function exponent
  std::uint64_t walker_steps = 0;      ///< steps simulated, all walkers together
  std::int64_t largest_half_width = 0; ///< the largest window any environment needed
  double seconds = 0;                  ///< wall-clock time of the run
  SimdPath simd = SimdPath::kScalar;   ///< the inner-loop path that ran (never kAuto)
};

/// Simulates the ensemble: combine_ensemble() of one run_ensemble_part() over every environment. Walker w of environment e uses its own Philox stream
/// (seed, e, w); the potential of environment e is potential.sample(seed, e, hw). Results are
/// therefore bitwise identical for any number of threads and any SimdPath.
///
/// A walker never leaves its window: when it comes within reach of the edge the window grows
/// (extendable potentials, the environment unchanged), or the run stops with RuntimeError.
/// @throws InvalidArgument for a bad configuration (including a SimdPath this CPU cannot run),
/// RuntimeError when a window cannot grow
EnsembleResult run_ensemble(const Potential& potential, const Dynamics& dynamics, const EnsembleConfig& config);

/// One part of an ensemble run: the environments [env_begin, env_end) with the per-environment sums
/// and positions from which combine_ensemble() computes every statistic. What a shard of a run
/// split across machines holds (gengap-sim walk --shard).
struct EnsemblePart {
  std::uint32_t env_begin = 0;              ///< first environment
  std::uint32_t env_end = 0;                ///< one past the last
  std::vector<double> sum_x;                ///< sum over the environment's walkers of x: row-major (environment in the part, time)
  std::vector<double> sum_x2;               ///< the same of x^2
  std::vector<double> sum_abs;              ///< the same of |x|
  std::vector<std::int32_t> recorded;       ///< x of every walker of the part at every time, time-major (with quantile levels; else empty)
  std::vector<std::int32_t> final_positions;  ///< x at the last time, environment-major (with keep_positions; else empty)
  std::uint64_t walker_steps = 0;           ///< steps simulated
  std::int64_t largest_half_width = 0;      ///< the largest window any of its environments needed
  double seconds = 0;                       ///< wall-clock time of the part
  SimdPath simd = SimdPath::kScalar;        ///< the inner-loop path that ran
};

/// Simulates environments [env_begin, env_end) of the ensemble `config` describes (each environment
/// and walker on its own stream, as run_ensemble(): the part's numbers are bitwise those of the same
/// environments in a whole run). The memory check counts the part only.
/// @throws as run_ensemble(), and InvalidArgument for an empty range or one past config.environments
EnsemblePart run_ensemble_part(const Potential& potential, const Dynamics& dynamics, const EnsembleConfig& config,
                               std::uint32_t env_begin, std::uint32_t env_end);

/// The statistics of a whole ensemble from its parts, which must cover environments
/// [0, config.environments) in order. The sums are accumulated environment by environment in index
/// order, so the result is bitwise run_ensemble()'s however the environments were split; `seconds`
/// and `walker_steps` are the parts' sums, `simd` the first part's.
/// @throws InvalidArgument naming the part that is missing, out of order or of the wrong size
EnsembleResult combine_ensemble(const Potential& potential, const EnsembleConfig& config, const std::vector<EnsemblePart>& parts);

/// Checks everything run_ensemble() checks before it starts, without simulating: the configuration,
/// and the memory the request needs (sums per environment and time, recorded positions, the windows
/// the threads hold) against the machine's (core::require_memory).
/// @throws InvalidArgument naming the field, the value and, for memory, the estimate
void check_ensemble(const Potential& potential, const EnsembleConfig& config);

/// check_ensemble() for the part [env_begin, env_end) (run_ensemble_part()): its memory, not the whole run's.
void check_ensemble(const Potential& potential, const EnsembleConfig& config, std::uint32_t env_begin, std::uint32_t env_end);

/// The theory's sigma^2 = Var(V(x+1)-V(x)) / T^2 (the variance of the log-ratio sum per site:
/// with detailed balance it telescopes to the potential difference).
double theory_sigma2(const Potential& potential, double temperature);

}  // namespace gengap::sim
