/// @file theory.hpp
/// @brief Exact results of the theory: Kesten's law of Sinai's walk, the predicted growth
/// exponents, and Golosov's valley bottom computed from the potential alone.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

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

/// Checks a request of sample_valley_bottoms() before any work: gamma finite and > 0, samples >= 1,
/// a potential with increments, the window a valley of depth gamma needs (about 8 (gamma^2 / s^2)^(1/alpha)
/// sites, at most 2^30), and the memory of the samples and of the threads' windows. Returns the
/// initial window half-width. @throws InvalidArgument naming the field, the value and the estimate
/// `field` names the sample count in messages (e.g. "valley_samples").
std::int64_t check_valley_request(const Potential& potential, double gamma, std::uint32_t samples, unsigned threads = 0,
                                  const std::string& field = "samples");

/// Samples b_Gamma for environments 0..samples-1 of `potential` with the given seed, growing each
/// window until the bottom is decided. Deterministic, multi-threaded (threads = 0: all).
/// @throws InvalidArgument for gamma <= 0 or samples = 0
std::vector<std::int64_t> sample_valley_bottoms(const Potential& potential, double gamma, std::uint32_t samples,
                                                std::uint64_t seed, unsigned threads = 0);

/// Kolmogorov-Smirnov distance sup |F_n(x) - F(x)| between a sample and a continuous CDF.
double ks_distance(std::vector<double> sample, double (*cdf)(double));

}  // namespace gengap::sim
