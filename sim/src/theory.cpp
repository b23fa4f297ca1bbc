// Kesten's law, predicted exponents, Gamma-extrema and Golosov's valley bottom.
#include "gengap/sim/theory.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <thread>

#include "gengap/core/memory.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/core/parallel.hpp"

namespace gengap::sim {
namespace {

constexpr std::int64_t kMaxValleyHalfWidth = std::int64_t{1} << 30;  // the largest window searched for a valley
constexpr double kPi = 3.141592653589793238462643;
double c_k(long k) { const double o = 2.0 * static_cast<double>(k) + 1; return o * o * kPi * kPi / 8.0; }
}  // namespace

double kesten_pdf(double b) {
  const double a = std::abs(b);
  if (a < 1e-300) return 0.5;  // the series sums to (2/pi)(pi/4)
  // Alternating series: sum until the terms vanish, then average the last two partial sums.
  double sum = 0, prev = 0;
  for (long k = 0; k < 20'000'000; ++k) {
    const double term = ((k & 1) ? -1.0 : 1.0) / (2.0 * static_cast<double>(k) + 1) * std::exp(-c_k(k) * a);
    prev = sum;
    sum += term;
    if (std::abs(term) < 1e-17) break;
  }
  return (2 / kPi) * 0.5 * (sum + prev);
}

double kesten_cdf(double b) {
  if (b < 0) return 1 - kesten_cdf(-b);
  // F(b) = 1 - (2/pi) sum (-1)^k exp(-c_k b) / ((2k+1) c_k), b >= 0.
  double sum = 0;
  for (long k = 0; k < 1'000'000; ++k) {
    const double term = ((k & 1) ? -1.0 : 1.0) * std::exp(-c_k(k) * b) / ((2.0 * static_cast<double>(k) + 1) * c_k(k));
    sum += term;
    if (std::abs(term) < 1e-18) break;
  }
  return 1 - (2 / kPi) * sum;
}

double kesten_abs_moment(int n) {
  require(n >= 0, "n", n, "moment order must be >= 0");
  double fact = 1;
  for (int i = 2; i <= n; ++i) fact *= i;
  double sum = 0;
  for (long k = 0; k < 1'000'000; ++k) {
    const double term = ((k & 1) ? -1.0 : 1.0) / ((2.0 * static_cast<double>(k) + 1) * std::pow(c_k(k), n + 1));
    sum += term;
    if (std::abs(term) < 1e-20 * std::abs(sum)) break;
  }
  return (4 / kPi) * fact * sum;
}

double predicted_msd_exponent(double alpha) {
  require(alpha > 0 && alpha < 2, "alpha", alpha, "must lie in (0, 2)");
  return 4 / alpha;
}

double predicted_distance_exponent(double alpha) { return predicted_msd_exponent(alpha) / 2; }

std::vector<Extremum> gamma_extrema(const std::vector<double>& v, double gamma) {
  require(gamma > 0, "gamma", gamma, "must be > 0");
  std::vector<Extremum> out;
  if (v.empty()) return out;
  enum { kUnknown, kUp, kDown } state = kUnknown;
  std::size_t hi_i = 0, lo_i = 0;
  for (std::size_t i = 1; i < v.size(); ++i) {
    const double x = v[i];
    switch (state) {
      case kUnknown:
        if (x > v[hi_i]) hi_i = i;
        if (x < v[lo_i]) lo_i = i;
        if (x - v[lo_i] >= gamma && lo_i < i) {
          out.push_back({static_cast<std::int64_t>(lo_i), false});
          state = kUp;
          hi_i = i;
        } else if (v[hi_i] - x >= gamma && hi_i < i) {
          out.push_back({static_cast<std::int64_t>(hi_i), true});
          state = kDown;
          lo_i = i;
        }
        break;
      case kUp:
        if (x > v[hi_i]) {
          hi_i = i;
        } else if (v[hi_i] - x >= gamma) {
          out.push_back({static_cast<std::int64_t>(hi_i), true});
          state = kDown;
          lo_i = i;
        }
        break;
      case kDown:
        if (x < v[lo_i]) {
          lo_i = i;
        } else if (x - v[lo_i] >= gamma) {
          out.push_back({static_cast<std::int64_t>(lo_i), false});
          state = kUp;
          hi_i = i;
        }
        break;
    }
  }
  return out;
}

std::optional<std::int64_t> valley_bottom(const Landscape& land, double gamma) {
  if (!land.contains(0)) return std::nullopt;
  const std::vector<Extremum> ext = gamma_extrema(land.v, gamma);
  const std::int64_t x0 = -land.lo;
  // The first two extrema may depend on where the window starts: use maxima after them.
  for (std::size_t i = 2; i + 2 < ext.size(); ++i) {
    if (!ext[i].is_max || ext[i].x > x0) continue;
    if (ext[i + 2].is_max && ext[i + 2].x > x0) return ext[i + 1].x + land.lo;
  }
  return std::nullopt;
}

double valley_window_factor(double alpha) {
  require(alpha > 0 && alpha < 2, "alpha", alpha, "must lie in (0, 2)");
  return 64 * std::pow(16.0, alpha - 1);
}

namespace {

// The reach (Gamma^2 / s^2)^(1/alpha) of a valley of depth gamma, in sites.
double valley_reach(const Potential& potential, double gamma) {
  const double s2 = potential.increment_variance();
  require(s2 > 0, "potential", potential.name(), "valley bottoms need a potential with non-zero increments");
  return std::pow(gamma * gamma / s2, 1.0 / potential.alpha());
}

// Memory of one thread's window: the path (and, for fBm, the circulant embedding's FFT buffers).
double window_bytes(const Potential& potential, double hw) {
  return potential.extendable() ? (2 * hw + 1) * 64.0 : (2 * hw + 1) * 320.0;
}

}  // namespace

std::int64_t check_valley_request(const Potential& potential, double gamma, std::uint32_t samples, unsigned threads,
                                  const std::string& field) {
  require(gamma > 0 && std::isfinite(gamma), "gamma", gamma, "must be finite and > 0");
  require(potential.increment_variance() > 0 && gamma >= 1e-3 * std::sqrt(potential.increment_variance()), "gamma", gamma,
          "must be >= 1e-3 sigma (a shallower valley is a single step; b / gamma^2 would overflow)");
  require(samples >= 1, "samples", samples, "must be >= 1");
  // Extendable paths start at 8 reaches and grow the same path; the others get one fixed window
  // (valley_window_factor reaches), since drawing a new path for a larger window would bias the
  // sample toward small valleys.
  const double reach = valley_reach(potential, gamma);
  const double factor = potential.extendable() ? 8.0 : valley_window_factor(potential.alpha());
  const double want = std::max(64.0, std::ceil(factor * reach));
  require(std::isfinite(want) && want <= static_cast<double>(kMaxValleyHalfWidth), "gamma", gamma,
          "a valley this deep needs a window of half-width about " + (std::isfinite(want) ? to_text(want) : std::string("infinitely many")) +
              " sites; at most 2^30 are searched "
              "(lower gamma or raise sigma)");
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const double th = std::min<double>(threads == 0 ? hw_threads : threads, samples);
  core::require_memory(field, std::to_string(samples) + " (gamma " + to_text(gamma) + ")",
                       static_cast<double>(samples) * 8.0 + th * window_bytes(potential, want),
                       "samples x 8 B + threads x the window of half-width " + to_text(want));
  return static_cast<std::int64_t>(want);
}

std::vector<std::int64_t> sample_valley_bottoms(const Potential& potential, double gamma, std::uint32_t samples,
                                                std::uint64_t seed, unsigned threads) {
  require(samples >= 1, "samples", samples, "must be >= 1");
  return sample_valley_bottoms_range(potential, gamma, 0, samples, seed, threads);
}

std::vector<std::int64_t> sample_valley_bottoms_range(const Potential& potential, double gamma, std::uint32_t begin, std::uint32_t end,
                                                      std::uint64_t seed, unsigned threads) {
  require(begin < end, "sample range", "[" + std::to_string(begin) + ", " + std::to_string(end) + ")", "must not be empty");
  const std::int64_t hw0 = check_valley_request(potential, gamma, end - begin, threads);
  const bool grow = potential.extendable();
  std::vector<std::int64_t> out(end - begin);
  core::parallel_for(
      end - begin, threads,
      [&](std::uint32_t k) {
        const std::uint32_t i = begin + k;
        for (std::int64_t hw = hw0;; hw *= 2) {
          if (hw > kMaxValleyHalfWidth) throw RuntimeError("valley sample " + std::to_string(i) + ": no bottom found within half-width 2^30");
          if (auto b = valley_bottom(potential.sample(seed, i, hw), gamma)) {
            out[k] = *b;
            return;
          }
          if (!grow)
            throw RuntimeError("valley sample " + std::to_string(i) + ": the fixed window of half-width " + std::to_string(hw) +
                               " does not decide the bottom of depth " + to_text(gamma) + " (" + potential.name() +
                               " paths cannot be extended without drawing a new path, which would bias the sample toward small valleys)");
        }
      },
      nullptr);
  return out;
}

ValleyCurves sample_valley_curves(const Potential& potential, const std::vector<double>& gammas, std::uint32_t samples,
                                  std::uint64_t seed, std::int64_t half_width, unsigned threads) {
  require(!gammas.empty(), "gammas", "[]", "need at least one depth");
  for (double g : gammas) require(g > 0 && std::isfinite(g), "gammas", g, "every depth must be finite and > 0");
  const double gmax = *std::max_element(gammas.begin(), gammas.end());
  const std::int64_t auto_hw = check_valley_request(potential, gmax, samples, threads, "samples");
  ValleyCurves out;
  out.gammas = gammas;
  out.half_width = half_width > 0 ? half_width : (potential.extendable() ? 8 * auto_hw : auto_hw);
  require(out.half_width >= 8 && out.half_width <= kMaxValleyHalfWidth, "half_width", out.half_width, "must lie in [8, 2^30]");
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const double th = std::min<double>(threads == 0 ? hw_threads : threads, samples);
  core::require_memory("samples", std::to_string(samples) + " x " + std::to_string(gammas.size()) + " depths",
                       static_cast<double>(samples) * static_cast<double>(gammas.size()) * 8.0 +
                           th * window_bytes(potential, static_cast<double>(out.half_width)),
                       "samples x depths x 8 B + threads x the window of half-width " + std::to_string(out.half_width));
  const auto ng = static_cast<Eigen::Index>(gammas.size());
  out.bottoms = Eigen::MatrixXd::Constant(samples, ng, std::numeric_limits<double>::quiet_NaN());
  core::parallel_for(
      samples, threads,
      [&](std::uint32_t i) {
        const Landscape land = potential.sample(seed, i, out.half_width);
        for (Eigen::Index g = 0; g < ng; ++g)
          if (auto b = valley_bottom(land, gammas[static_cast<std::size_t>(g)])) out.bottoms(i, g) = static_cast<double>(*b);
      },
      nullptr);
  out.undecided.assign(gammas.size(), 0);
  for (Eigen::Index g = 0; g < ng; ++g)
    for (std::uint32_t i = 0; i < samples; ++i) out.undecided[static_cast<std::size_t>(g)] += std::isnan(out.bottoms(i, g)) ? 1u : 0u;
  return out;
}

ValleyExponent valley_exponent(const ValleyCurves& curves, double s, int resamples, double level, std::uint64_t seed) {
  require(s > 0 && std::isfinite(s), "s", s, "must be finite and > 0");
  require(curves.gammas.size() >= 3 && curves.bottoms.cols() == static_cast<Eigen::Index>(curves.gammas.size()), "gammas",
          curves.gammas.size(), "need at least 3 depths, one column each (the fit has three parameters)");
  require(resamples >= 10 && level > 0 && level < 1, "resamples", resamples, "must be >= 10 with a level in (0, 1)");
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 0; i < curves.bottoms.rows(); ++i)
    if (!curves.bottoms.row(i).array().isNaN().any()) rows.push_back(i);
  ValleyExponent out;
  out.paths = static_cast<std::uint32_t>(rows.size());
  out.undecided = static_cast<std::uint32_t>(curves.bottoms.rows()) - out.paths;
  require(rows.size() >= 2, "curves", std::to_string(rows.size()) + " decided paths", "need at least 2");
  const auto ng = curves.bottoms.cols();
  Eigen::MatrixXd sq(static_cast<Eigen::Index>(rows.size()), ng);
  for (std::size_t r = 0; r < rows.size(); ++r) sq.row(static_cast<Eigen::Index>(r)) = curves.bottoms.row(rows[r]).array().square();
  for (double g : curves.gammas) out.x.push_back(g / s);
  // ln y = ln C + k ln(x - c), c < min x: least squares in (ln C, k) for each c, c profiled on
  // g = ln(min x - c) over [-4, 8] (a grid, then golden-section refinement). Returns (k, ln C, c).
  const double x_min = *std::min_element(out.x.begin(), out.x.end());
  auto fit = [&](const Eigen::VectorXd& m) {
    const std::size_t np = out.x.size();
    const double n = static_cast<double>(np);
    std::vector<double> ly(np);
    for (std::size_t i = 0; i < np; ++i) ly[i] = std::log(m(static_cast<Eigen::Index>(i)));
    auto at = [&](double g, double* k_out, double* a_out) {
      const double c = x_min - std::exp(g);
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      std::vector<double> lz(np);
      for (std::size_t i = 0; i < np; ++i) {
        lz[i] = std::log(out.x[i] - c);
        sx += lz[i];
        sy += ly[i];
        sxx += lz[i] * lz[i];
        sxy += lz[i] * ly[i];
      }
      const double k = (n * sxy - sx * sy) / (n * sxx - sx * sx), a0 = (sy - k * sx) / n;
      double rss = 0;
      for (std::size_t i = 0; i < np; ++i) rss += (ly[i] - a0 - k * lz[i]) * (ly[i] - a0 - k * lz[i]);
      if (k_out) *k_out = k;
      if (a_out) *a_out = a0;
      return rss;
    };
    constexpr int kGrid = 240;
    double best_g = -4, best = std::numeric_limits<double>::infinity();
    for (int i = 0; i <= kGrid; ++i) {
      const double g = -4 + 12.0 * i / kGrid;
      const double r = at(g, nullptr, nullptr);
      if (r < best) {
        best = r;
        best_g = g;
      }
    }
    double lo = best_g - 12.0 / kGrid, hi = best_g + 12.0 / kGrid;
    const double phi = 0.5 * (std::sqrt(5.0) - 1);
    for (int it = 0; it < 60; ++it) {
      const double g1 = hi - phi * (hi - lo), g2 = lo + phi * (hi - lo);
      if (at(g1, nullptr, nullptr) < at(g2, nullptr, nullptr)) {
        hi = g2;
      } else {
        lo = g1;
      }
    }
    const double g = 0.5 * (lo + hi);
    double k = 0, a0 = 0;
    at(g, &k, &a0);
    return std::array<double, 3>{k, a0, x_min - std::exp(g)};
  };
  const Eigen::VectorXd mean = sq.colwise().mean().transpose();
  const double np = static_cast<double>(rows.size());
  for (Eigen::Index g = 0; g < ng; ++g) {
    out.second_moment.push_back(mean(g));
    out.second_moment_se.push_back(std::sqrt((sq.col(g).array() - mean(g)).square().sum() / (np - 1) / np));
  }
  require((mean.array() > 0).all(), "curves", "E b^2 = 0", "every depth needs some path whose bottom is not the start");
  const auto f = fit(mean);
  out.exponent = f[0];
  out.amplitude = std::exp(f[1]);
  out.offset = f[2];
  std::vector<double> draws;
  for (int b = 0; b < resamples; ++b) {
    const Stream st(seed, StreamPurpose::kBootstrap, static_cast<std::uint32_t>(b), 0x7A11u);
    Eigen::VectorXd acc = Eigen::VectorXd::Zero(ng);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const auto pick = static_cast<Eigen::Index>((static_cast<std::uint64_t>(st(r)[0]) * rows.size()) >> 32);
      acc += sq.row(pick).transpose();
    }
    if ((acc.array() > 0).all()) draws.push_back(fit(acc / np)[0]);
  }
  out.ci = percentile_interval(draws, level);
  return out;
}

double ks_distance(std::vector<double> sample, double (*cdf)(double)) {
  require(!sample.empty(), "sample", "[]", "must not be empty");
  std::sort(sample.begin(), sample.end());
  const double n = static_cast<double>(sample.size());
  double d = 0;
  for (std::size_t i = 0; i < sample.size(); ++i) {
    const double f = cdf(sample[i]);
    d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return d;
}

}  // namespace gengap::sim
