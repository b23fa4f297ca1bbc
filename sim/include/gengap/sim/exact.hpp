/// @file exact.hpp
/// @brief The exact 1D dynamics at any time: the position distribution of the discrete-time walker
/// on one environment, computed without stepping by repeated squaring of its transition matrix in
/// nonnegative arithmetic, which keeps every rate down to the smallest double (see the theory page
/// "The master equation and why relative accuracy matters").
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Core>

#include "gengap/sim/dynamics.hpp"
#include "gengap/sim/hop_table.hpp"
#include "gengap/sim/landscape.hpp"
#include "gengap/sim/potential.hpp"

namespace gengap::sim {

/// A discrete-time nearest-neighbour chain on the sites [lo, lo + size()): from site x the walker
/// moves right with probability right[x - lo], left with probability left[x - lo], and stays
/// otherwise. The two end sites reflect (left[0] = right[size()-1] = 0).
struct BirthDeathChain {
  std::int64_t lo = 0;         ///< first site
  std::vector<double> right;   ///< P(x -> x+1)
  std::vector<double> left;    ///< P(x -> x-1)
  /// Number of sites.
  std::int64_t size() const noexcept { return static_cast<std::int64_t>(right.size()); }
};

/// The chain of the walker of ensemble.hpp on a landscape, with the probabilities computed in
/// double precision, P(x -> x+-1) = accept((V(x+-1) - V(x)) / T) / 2, and reflecting ends.
/// @throws InvalidArgument when temperature <= 0 or the landscape has fewer than 2 sites
BirthDeathChain chain_from_landscape(const Landscape& land, const Dynamics& dyn, double temperature);

/// The chain exactly as a HopTable represents it (probabilities rounded to multiples of 2^-32):
/// the chain the Monte Carlo walker actually runs, for comparisons with it.
BirthDeathChain chain_from_table(const HopTable& table);

/// What propagate_exact() computes.
struct ExactOptions {
  std::int64_t start = 0;   ///< the walker's start site (must lie in the chain)
  int octaves = 58;         ///< largest time 2^octaves steps (2^58 = 2.9e17, ln t = 40.2); 1 ... 62
  int per_octave = 4;       ///< times per factor 2: 1 (t = 2^k), 2 (also 1.5 2^k) or 4 (2^k {1, 1.25, 1.5, 1.75})
  bool extended = false;    ///< compute in long double (64-bit mantissa): the independent check, slower
  /// Called after each squaring with the fraction of squarings done.
  std::function<void(double)> progress;
};

/// The distribution P(x, t | start) at log-spaced times t = 2^k, 2^k (1 + j / per_octave).
struct ExactPropagation {
  std::int64_t lo = 0;                 ///< first site (column 0 of `distribution`)
  std::vector<double> times;           ///< t (steps; exact integers, held as doubles up to 2^62)
  std::vector<double> ln_t;            ///< ln t
  Eigen::MatrixXd distribution;        ///< row = time, column = site: P(x, t | start)
  std::vector<double> mean;            ///< \<x\>(t)
  std::vector<double> msd;             ///< \<x^2\>(t)
  /// Largest |row sum - 1| of any computed power before it was restored to 1 (rounding of one
  /// squaring, never accumulated): the conservation defect of the arithmetic.
  double squaring_defect = 0;
  /// Largest |sum_x P(x, t) - 1| over the returned distributions (no correction applied).
  double mass_defect = 0;
};

/// Propagates the chain exactly: the transition matrix P is squared `octaves` times,
/// A_{k+1} = A_k A_k with A_0 = P, and the row of the start site read at each time.
///
/// Accuracy: every entry of every A_k is a sum of products of nonnegative numbers, so one
/// squaring adds a relative error of at most (n + 1) u (u the unit roundoff, n the number of
/// sites) to each entry, however small; no subtraction ever occurs except for the stay
/// probability of a row that has not yet lost half its mass, which is set to 1 - (its hops) so
/// that the row sums to 1 exactly (the hop probabilities carry the physics; a rate of 1e-300
/// keeps all its digits). Rows that have lost more than half their mass are divided by their
/// sum (a relative change of at most (n + 1) u). The row-sum errors, which repeated squaring would
/// otherwise double with each squaring, therefore never accumulate. Measured against long
/// double (ExactOptions::extended): the distributions agree to a few 1e-16 at t = 2^58.
///
/// Cost: octaves dense n x n matrix products, about 2 n^3 octaves flops.
/// @throws InvalidArgument for bad options or a chain whose rows do not sum to <= 1
ExactPropagation propagate_exact(const BirthDeathChain& chain, const ExactOptions& options);

/// The mean first-passage time from `start` to `target` > start, with a reflecting wall at
/// `start` (no moves left of it), computed by propagation: the chain on [start, target] with
/// `target` absorbing, and the expected number of steps before absorption
/// sum_{t < 2^K} P(not absorbed at t) accumulated by doubling (B_{k+1} = B_k (I + A_k) on the
/// start row) until the survival probability at 2^K is below 1e-18. An independent route to
/// mfpt_exact() (first_passage.hpp), which sums the closed form.
/// @throws InvalidArgument when target <= start or a site is outside the chain;
/// RuntimeError when the walker is not absorbed by t = 2^62
double mfpt_by_propagation(const BirthDeathChain& chain, std::int64_t start, std::int64_t target);

/// The exact thermal averages for many environments of one potential.
struct ExactEnsembleConfig {
  std::uint64_t seed = 1;           ///< environment e is potential.sample(seed, e, half_width), as in run_ensemble()
  std::uint32_t environments = 32;  ///< >= 1
  double temperature = 1.0;         ///< T > 0
  std::int64_t half_width = 0;      ///< window [-hw, hw]; 0 = automatic: 8 (ln t_max + 1.2 sigma)^2 / sigma^2 sites (sigma^2 = s^2 / T^2), at least 64: Golosov's valley bottoms, where the walker sits, lie beyond it in fewer than 1e-3 of the environments
  int octaves = 58;                 ///< t_max = 2^octaves
  int per_octave = 4;               ///< see ExactOptions
  unsigned threads = 0;             ///< environments in parallel; 0 = all hardware threads
  /// Fraction of environments done, on the calling thread; an exception it throws stops the run
  /// once the environments being solved are done, and is rethrown (core::parallel_for).
  std::function<void(double)> progress;
};

/// What run_exact_ensemble() measured.
struct ExactEnsembleResult {
  std::vector<double> times;        ///< t
  std::vector<double> ln_t;         ///< ln t
  std::vector<double> msd;          ///< environment average of the thermal \<x^2\>(t)
  std::vector<double> msd_se;       ///< its standard error (std over environments / sqrt(N))
  Eigen::MatrixXd env_msd;          ///< thermal \<x^2\> per environment: row = environment, column = time
  /// Largest probability, over environments, within 1/8 of the window's half-width of either edge:
  /// where it is not negligible the reflecting edges shape the result (enlarge the window).
  std::vector<double> edge_mass;
  double squaring_defect = 0;       ///< largest ExactPropagation::squaring_defect
  double mass_defect = 0;           ///< largest ExactPropagation::mass_defect
  std::int64_t half_width = 0;      ///< the window used
  double sigma2 = 0;                ///< Var(V(x+1) - V(x)) / T^2
  double seconds = 0;               ///< wall-clock time
};

/// Runs propagate_exact() on each environment (start 0) in parallel: combine_exact() of one
/// run_exact_part() over every environment. The result does not depend on the number of threads.
/// @throws InvalidArgument for a bad configuration
ExactEnsembleResult run_exact_ensemble(const Potential& potential, const Dynamics& dynamics,
                                       const ExactEnsembleConfig& config);

/// One part of an exact ensemble: environments [env_begin, env_end) with their series, from which
/// combine_exact() computes the ensemble's statistics (what a shard of gengap-sim exact --shard holds).
struct ExactPart {
  std::uint32_t env_begin = 0;      ///< first environment
  std::uint32_t env_end = 0;        ///< one past the last
  std::vector<double> times;        ///< t
  std::vector<double> ln_t;         ///< ln t
  Eigen::MatrixXd env_msd;          ///< thermal \<x^2\>: row = environment of the part, column = time
  std::vector<double> edge_mass;    ///< largest edge mass over the part's environments, per time
  double squaring_defect = 0;       ///< largest over the part
  double mass_defect = 0;           ///< largest over the part
  std::int64_t half_width = 0;      ///< the window used
  double seconds = 0;               ///< wall-clock time of the part
};

/// Solves environments [env_begin, env_end) of the ensemble `config` describes (bitwise the same
/// series as in a whole run: environment e is potential.sample(seed, e, half_width)); the memory
/// check counts the part only. @throws as run_exact_ensemble(), and for an empty or too long range
ExactPart run_exact_part(const Potential& potential, const Dynamics& dynamics, const ExactEnsembleConfig& config,
                         std::uint32_t env_begin, std::uint32_t env_end);

/// The ensemble's statistics from parts covering environments [0, config.environments) in order:
/// bitwise run_exact_ensemble()'s (the same full matrix reduced by the same code); `seconds` is the
/// parts' sum. @throws InvalidArgument naming a part that is missing, out of order or inconsistent
ExactEnsembleResult combine_exact(const Potential& potential, const ExactEnsembleConfig& config, const std::vector<ExactPart>& parts);

/// check_exact_ensemble() for the part [env_begin, env_end): its memory, not the whole run's.
void check_exact_ensemble(const Potential& potential, const ExactEnsembleConfig& config, std::uint32_t env_begin, std::uint32_t env_end);

/// Checks everything run_exact_ensemble() checks before it starts: the configuration, the window
/// (automatic or given, 8 <= half_width <= 4096) and the memory (n x n matrices per thread, the series
/// per environment) against the machine's. @throws InvalidArgument naming the field and the estimate
void check_exact_ensemble(const Potential& potential, const ExactEnsembleConfig& config);

/// One time of kesten_convergence().
struct KestenPoint {
  double ln_t = 0;       ///< ln t
  double msd = 0;        ///< environment average of the thermal \<x^2\> (exact environments only)
  double msd_se = 0;     ///< its standard error
  double msd_cv = 0;     ///< the same average with Golosov's valley bottom as control variate (see below)
  double msd_cv_se = 0;  ///< its standard error
  double ratio = 0;      ///< sigma^4 msd_cv / (ln t - c)^4 (T = 1 units: sigma^2 = s^2 / T^2)
  double ratio_se = 0;   ///< its standard error (c held fixed)
  double valley = 0;     ///< sigma^4 E[b_Gamma^2] / Gamma^4, Gamma = ln t, over the valley-only environments
};

/// The approach of sigma^4 \<x^2\> / (ln t - c)^4 to Kesten's 61/45.
struct KestenConvergence {
  double fit_from = 0;                 ///< c was fitted on ln t >= fit_from
  double c = 0;                        ///< offset: \<x^2\>^(1/4) = A (ln t - c), least squares on msd_cv
  double amplitude4 = 0;               ///< sigma^4 A^4 of that fit (the asymptotic estimate of 61/45)
  double amplitude4_se = 0;            ///< its jackknife standard error over the exact environments
  double valley_c = 0;                 ///< the same fit of E[b_Gamma^2]^(1/4) alone (valley environments)
  double valley_amplitude4 = 0;        ///< sigma^4 A^4 of the valley-only fit (0 without valley samples)
  std::uint32_t valley_environments = 0;  ///< environments used for valley bottoms only
  std::vector<KestenPoint> points;     ///< one per time with ln t >= 1
};

/// Environment averages of an exact Sinai ensemble, sharpened with a control variate: in each
/// environment the walker sits near Golosov's valley bottom b_Gamma (theory.hpp) for Gamma = T ln t,
/// which costs O(window) to find. With Y = \<x^2\>_e (exact environments 0..n-1) and Z = b_Gamma^2,
/// E[Y] = E[Y - Z] + E[Z], the first term averaged over the n exact environments and the second over
/// `valley_samples` further environments (n ... n + valley_samples - 1, disjoint, so the two terms are
/// independent and the standard errors add in quadrature). The estimate is unbiased whatever the
/// correlation; its error shrinks by Var(Y - Z) / Var(Y) when Y and Z agree.
/// @param result run_exact_ensemble() of a Sinai potential (alpha = 1) with `seed`
/// @param potential the same potential
/// @param seed the same seed
/// @param temperature the same temperature
/// @param valley_samples extra environments for E[Z] (0: no control variate, msd_cv = msd)
/// @param fit_from fit c and A on ln t >= fit_from
/// @throws InvalidArgument for a potential with alpha != 1, fewer than 3 times >= fit_from
KestenConvergence kesten_convergence(const ExactEnsembleResult& result, const Potential& potential, std::uint64_t seed,
                                     double temperature, std::uint32_t valley_samples, double fit_from);

/// The valley depths Gamma = T ln t of kesten_convergence(): one per time with ln t >= 1 (`ln_t`:
/// ExactEnsembleResult::ln_t or ExactPart::ln_t).
std::vector<double> kesten_depths(const std::vector<double>& ln_t, double temperature);

/// Golosov's valley bottoms of environments [begin, end) at every depth of `gammas`
/// (row = environment - begin, column = depth): what kesten_convergence() samples, for environments
/// 0 ... environments + valley_samples - 1, computable in parts (sample_valley_bottoms_range()).
Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> kesten_valley_bottoms(const Potential& potential, std::uint64_t seed,
                                                                                    const std::vector<double>& gammas, std::uint32_t begin,
                                                                                    std::uint32_t end, unsigned threads = 0);

/// kesten_convergence() with the valley bottoms given: `bottoms` holds kesten_valley_bottoms() of
/// environments [0, environments + valley_samples) at kesten_depths() (ignored when valley_samples
/// < 2). Bitwise the same result as sampling them here.
/// @throws InvalidArgument as kesten_convergence(), and for a matrix of the wrong shape
KestenConvergence kesten_convergence(const ExactEnsembleResult& result, const Potential& potential, double temperature,
                                     std::uint32_t valley_samples, double fit_from,
                                     const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>& bottoms);

}  // namespace gengap::sim
