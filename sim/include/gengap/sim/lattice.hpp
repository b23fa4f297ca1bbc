/// @file lattice.hpp
/// @brief Gaussian random potentials on the lattice Z^d (d = 1, 2, 3) with power-law structure
/// function, by spectral synthesis on a periodic box, and Metropolis walkers on them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Core>

#include "gengap/sim/dynamics.hpp"

namespace gengap::sim {

/// The law of a lattice field.
struct LatticeFieldOptions {
  int dim = 2;             ///< d = 1, 2 or 3
  std::int64_t box = 256;  ///< side L of the periodic box (a power of two, 8 ... 2^20 / ... : L^d <= 2^24 sites)
  double alpha = 1.0;      ///< structure-function exponent, in (0, 2)
  double s = 1.0;          ///< E[(V(x + e_1) - V(x))^2]^(1/2), energy units (> 0)
  int subharmonics = 3;    ///< levels of subharmonic modes below the box's lowest wave number (0 ... 8)
};

/// Checks lattice field options without synthesizing the field: dim in {1, 2, 3}, box a power of two
/// >= 8 with box^dim <= 2^24, alpha in (0, 2), s > 0, subharmonics in [0, 8]. @throws InvalidArgument
void check_lattice_options(const LatticeFieldOptions& options);

/// A stationary Gaussian field on the periodic box {0 .. L-1}^d:
/// V(x) = Re sum_{k != 0} a_k (g_k + i h_k) exp(i k.x), k in (2 pi / L) Z^d, g, h iid N(0, 1),
/// with a_k^2 proportional to |k|^-(d + alpha), the spectral density whose structure function is
/// E[(V(x) - V(y))^2] ~ |x - y|^alpha, plus `subharmonics` levels of subharmonic modes that stand in
/// for the wave numbers below 2 pi / L the grid cannot hold (without them D(r) bends down well
/// before r = L / 4). Normalized so that D(e_1) = s^2 exactly, and shifted so that V(0) = 0.
///
/// Accuracy: the periodic field's structure function D(r) = 2 sum_k a_k^2 (1 - cos k.r) is known
/// exactly (structure_function()); it follows C |r|^alpha up to lattice effects at |r| ~ 1 and the
/// box at |r| ~ L / 2. Walkers must stay within L / 4 of the origin (the runner enforces it), where
/// the measured local exponent stays within a few hundredths of alpha (tests; the simulator docs
/// list it per d and alpha).
class LatticeField {
 public:
  /// @throws InvalidArgument for d outside 1..3, L not a power of two >= 8, L^d > 2^24 sites,
  /// alpha outside (0, 2) or s <= 0
  explicit LatticeField(const LatticeFieldOptions& options);
  /// The law.
  const LatticeFieldOptions& options() const noexcept { return opt_; }
  /// Number of sites L^d.
  std::int64_t sites() const noexcept { return static_cast<std::int64_t>(amp_.size()); }
  /// The exact structure function D(r) = E[(V(x + r) - V(x))^2] of the periodic field (O(L^d)).
  double structure_function(const std::array<std::int64_t, 3>& r) const;
  /// Environment `env` of seed `seed`: V at every site, x_0 fastest: index x_0 + L x_1 + L^2 x_2.
  /// Deterministic in (seed, env).
  std::vector<double> sample(std::uint64_t seed, std::uint64_t env) const;

 private:
  LatticeFieldOptions opt_;
  std::vector<double> amp_;  // a_k, in FFT order, a_0 = 0
  std::vector<std::array<double, 3>> sub_k_;  // subharmonic wave vectors
  std::vector<double> sub_amp_;                // and their amplitudes
};

/// What run_lattice_walk() simulates.
struct LatticeWalkConfig {
  std::uint64_t seed = 1;             ///< environments and walks derive from it
  std::uint32_t environments = 20;    ///< independent fields, >= 1
  std::uint32_t walkers_per_env = 10; ///< walkers per field, all from the origin, >= 1
  double temperature = 1.0;           ///< T > 0
  std::vector<std::uint64_t> times;   ///< recording times (steps), increasing, 1 ... 2^40
  unsigned threads = 0;               ///< 0 = all hardware threads; results do not depend on it
  /// Walk only environments [env_begin, env_end) (env_end = 0: to the last): a part of a run split
  /// across machines; the result's env_msd then holds the part's rows and msd their mean.
  /// combine_lattice_walk() of the parts in order is bitwise the whole run.
  std::uint32_t env_begin = 0;
  std::uint32_t env_end = 0;          ///< see env_begin
  /// Fraction of environments done, on the calling thread; an exception it throws stops the run
  /// once the environments being walked are done, and is rethrown (core::parallel_for).
  std::function<void(double)> progress;
};

/// What run_lattice_walk() measured.
struct LatticeWalkResult {
  std::vector<std::uint64_t> times;  ///< recording times
  std::vector<double> msd;           ///< \<|x|^2\>(t) over all walkers
  Eigen::MatrixXd env_msd;           ///< per environment (mean over its walkers): row = env, column = time
  std::int64_t max_reach = 0;        ///< the largest |x_i| any walker reached on any axis
  std::uint64_t walker_steps = 0;    ///< steps simulated
  double seconds = 0;                ///< wall-clock time
};

/// Discrete-time walkers: each step picks one of the 2d neighbours with probability 1/(2d) and
/// moves there with probability dynamics.accept((V(y) - V(x)) / T) (hop_probability(); Metropolis:
/// min(1, exp(-(V(y) - V(x)) / T))). Walker w of environment e uses the Philox stream (seed, walk,
/// w, e); the field of environment e is field.sample(seed, e). Bitwise independent of the thread count.
/// @throws InvalidArgument for a bad configuration; RuntimeError when a walker gets farther than
/// L / 4 from the origin on some axis (the periodic box would show: use a larger box)
LatticeWalkResult run_lattice_walk(const LatticeField& field, const Dynamics& dynamics, const LatticeWalkConfig& config);

/// run_lattice_walk() with the Metropolis rule.
LatticeWalkResult run_lattice_walk(const LatticeField& field, const LatticeWalkConfig& config);

/// Checks a run_lattice_walks() request before any work: the field's options, the walk settings,
/// and the memory (field, per-thread samples, results) against the machine's. @throws InvalidArgument
void check_lattice_walks(const LatticeFieldOptions& options, const LatticeWalkConfig& config, const std::vector<double>& temperatures);

/// run_lattice_walk() at several temperatures (config.temperature is not used): each field is
/// synthesized once and walked at every temperature, walker w of environment e drawing the same
/// stream at each (result k is bitwise run_lattice_walk() at temperatures[k]). `seconds` is the
/// time of the whole call in every result.
/// @throws as run_lattice_walk(), and InvalidArgument for an empty list
std::vector<LatticeWalkResult> run_lattice_walks(const LatticeField& field, const Dynamics& dynamics, const LatticeWalkConfig& config,
                                                 const std::vector<double>& temperatures);

/// A whole run from its parts (LatticeWalkConfig::env_begin, env_end) in environment order: env_msd
/// stacked, msd its column means (bitwise the whole run's), max_reach the largest, walker_steps and
/// seconds the sums. @throws InvalidArgument for no parts or parts with different times
LatticeWalkResult combine_lattice_walk(const std::vector<LatticeWalkResult>& parts);

/// run_lattice_walks() with the Metropolis rule.
std::vector<LatticeWalkResult> run_lattice_walks(const LatticeField& field, const LatticeWalkConfig& config,
                                                 const std::vector<double>& temperatures);

}  // namespace gengap::sim
