/// @file theory.hpp
/// @brief Exact results of the theory: Kesten's law of Sinai's walk, the predicted growth
/// exponents, and Golosov's valley bottom computed from the potential alone.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <Eigen/Core>

#include "gengap/sim/fit.hpp"
#include "gengap/sim/landscape.hpp"
#include "gengap/sim/potential.hpp"

namespace gengap::sim {

/// E|b| under Kesten's law: 5/6.
inline constexpr double kKestenMeanAbs = 5.0 / 6.0;
/// E b^2 under Kesten's law: 61/45 (the limit of sigma^4 \<x^2\> / (ln t)^4 for Sinai's walk).
inline constexpr double kKestenSecondMoment = 61.0 / 45.0;

/// Kesten's density of b = lim sigma^2 x_t / (ln t)^2 for Sinai's walk:
/// f(b) = (2/pi) sum_{k>=0} (-1)^k / (2k+1) exp(-(2k+1)^2 pi^2 |b| / 8), b real.
double kesten_pdf(double b);
/// Kesten's CDF, P(b' <= b).
double kesten_cdf(double b);
/// E|b|^n under Kesten's law, n >= 0 (closed-form series; n = 1 gives 5/6, n = 2 gives 61/45).
double kesten_abs_moment(int n);

/// Growth exponent of \<x^2\> in ln t predicted for a potential with structure-function exponent
/// alpha: \<x^2\> ~ (T ln t / s)^(4/alpha). Throws InvalidArgument unless 0 < alpha < 2.
double predicted_msd_exponent(double alpha);
/// Growth exponent of the distance d = \<x^2\>^(1/2) in ln t: 2/alpha (= 1/gamma, paper notation).
double predicted_distance_exponent(double alpha);

/// One Gamma-extremum of a potential path.
struct Extremum {
  std::int64_t x;  ///< site
  bool is_max;     ///< maximum (true) or minimum (false)
};

/// The Gamma-extrema of the path v[0..n): alternating maxima and minima between which the path
/// changes by at least gamma (a zigzag with threshold gamma), as indices into v. Ties go to the
/// first site. The first extremum found depends on where the path starts; those inside are
/// intrinsic.
std::vector<Extremum> gamma_extrema(const std::vector<double>& v, double gamma);

/// Golosov's b_Gamma: the bottom of the smallest valley containing site 0 whose depth is at least
/// gamma — the Gamma-minimum between the two consecutive Gamma-maxima that enclose 0. Returns
/// nothing when the window does not hold a Gamma-maximum on each side of 0 with a Gamma-extremum
/// beyond it (the window is too small to decide).
std::optional<std::int64_t> valley_bottom(const Landscape& land, double gamma);

/// The half-width of the fixed window, in reaches (gamma^2 / s^2)^(1/alpha), that a valley search on a
/// path that cannot be extended (fBm) uses: 64 x 16^(alpha - 1) (16 at alpha = 0.5, 64 at 1, 256 at
/// 1.5). The valley's size in reaches grows with alpha: in 4000 samples |b_Gamma| / reach reached 0.7
/// (alpha = 0.5), 8 (1) and 84 (1.5); none of them was left undecided at these windows.
/// @throws InvalidArgument unless 0 < alpha < 2
double valley_window_factor(double alpha);

/// Checks a request of sample_valley_bottoms() before any work: gamma finite and > 0, samples >= 1,
/// a potential with increments, the window a valley of depth gamma needs (8 reaches to start with on
/// an extendable path; valley_window_factor() reaches, fixed, otherwise; at most 2^30 sites), and the
/// memory of the samples and of the threads' windows. Returns the initial window half-width.
/// @throws InvalidArgument naming the field, the value and the estimate
/// `field` names the sample count in messages (e.g. "valley_samples").
std::int64_t check_valley_request(const Potential& potential, double gamma, std::uint32_t samples, unsigned threads = 0,
                                  const std::string& field = "samples");

/// Samples b_Gamma for environments 0..samples-1 of `potential` with the given seed. On an extendable
/// path (Sinai) the window grows, the same path, until the bottom is decided; otherwise (fBm, whose
/// path changes with the window) one fixed window of valley_window_factor() reaches is searched, and
/// a sample it does not decide is an error, never a redraw: redrawing at a larger window would bias
/// the sample toward small valleys (measured: Gamma = 20, s = 6, E b^2 = 418 against 556). Deterministic,
/// multi-threaded (threads = 0: all).
/// @throws InvalidArgument for gamma <= 0 or samples = 0; RuntimeError for an undecided fixed window
std::vector<std::int64_t> sample_valley_bottoms(const Potential& potential, double gamma, std::uint32_t samples,
                                                std::uint64_t seed, unsigned threads = 0);

/// sample_valley_bottoms() for environments [begin, end) only (a part of a run split across
/// machines): element i is bitwise element begin + i of sample_valley_bottoms() with end samples.
/// @throws InvalidArgument for an empty range, as sample_valley_bottoms() otherwise
std::vector<std::int64_t> sample_valley_bottoms_range(const Potential& potential, double gamma, std::uint32_t begin, std::uint32_t end,
                                                      std::uint64_t seed, unsigned threads = 0);

/// Valley bottoms of many depths on the same paths (what the exponent of E b_Gamma^2 against Gamma
/// is fitted on: the depths are paired, so their ratios carry little noise).
struct ValleyCurves {
  std::vector<double> gammas;               ///< the depths
  std::int64_t half_width = 0;              ///< the one window every path was sampled on
  Eigen::MatrixXd bottoms;                  ///< row = sample, column = depth: b_Gamma in sites; NaN where the window does not decide it
  std::vector<std::uint32_t> undecided;     ///< per depth, the samples left NaN
};

/// b_Gamma for every depth in `gammas` on paths 0..samples-1 of `potential` (seed), each sampled once
/// on a fixed window (half_width, or 0: the window check_valley_request() gives the largest depth, 8x
/// larger on an extendable path). Undecided samples are NaN and counted, never redrawn.
/// Deterministic, multi-threaded (threads = 0: all).
/// @throws InvalidArgument for an empty or non-positive depth, samples = 0, a window outside [8, 2^30]
/// or one the memory cannot hold
ValleyCurves sample_valley_curves(const Potential& potential, const std::vector<double>& gammas, std::uint32_t samples,
                                  std::uint64_t seed, std::int64_t half_width = 0, unsigned threads = 0);

/// The growth of E b_Gamma^2 with the depth: E b^2 = C (Gamma/s - c)^k on the paths decided at every
/// depth, with a bootstrap over paths (the depths are paired on each path). The offset c carries the
/// lattice correction, as in Kesten's fit of Sinai's walk: without it the local slope
/// d ln E b^2 / d ln(Gamma/s) rises slowly toward 4/alpha (measured at alpha = 1 from 2.3 at
/// Gamma/s = 1.5 to 3.8 at 20, where a plain power fits 3.24; with c = -1.3, 4.1).
struct ValleyExponent {
  double exponent = 0;                ///< k (least squares on ln E b^2, c profiled below the smallest Gamma/s); 4/alpha for fBm
  Interval ci;                        ///< its percentile bootstrap interval over paths
  double amplitude = 0;               ///< C
  double offset = 0;                  ///< c
  std::vector<double> x;              ///< Gamma / s of each depth
  std::vector<double> second_moment;  ///< E b^2 per depth (sites^2)
  std::vector<double> second_moment_se;  ///< its standard error
  std::uint32_t paths = 0;            ///< paths decided at every depth (the ones used)
  std::uint32_t undecided = 0;        ///< paths left out because the window did not decide some depth
};

/// Fits ValleyExponent to `curves` of a potential whose increments have standard deviation `s`
/// (`resamples` bootstrap draws at `level`, seeded).
/// @throws InvalidArgument for s <= 0, fewer than 3 depths, fewer than 2 decided paths, resamples < 10
ValleyExponent valley_exponent(const ValleyCurves& curves, double s, int resamples = 200, double level = 0.95, std::uint64_t seed = 1);

/// Kolmogorov-Smirnov distance sup |F_n(x) - F(x)| between a sample and a continuous CDF.
double ks_distance(std::vector<double> sample, double (*cdf)(double));

}  // namespace gengap::sim
