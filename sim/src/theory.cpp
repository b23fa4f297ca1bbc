// Kesten's law, predicted exponents, Gamma-extrema and Golosov's valley bottom.
#include "gengap/sim/theory.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "gengap/core/memory.hpp"
#include "gengap/sim/error.hpp"
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

std::int64_t check_valley_request(const Potential& potential, double gamma, std::uint32_t samples, unsigned threads,
                                  const std::string& field) {
  require(gamma > 0 && std::isfinite(gamma), "gamma", gamma, "must be finite and > 0");
  require(samples >= 1, "samples", samples, "must be >= 1");
  const double s2 = potential.increment_variance();
  require(s2 > 0, "potential", potential.name(), "valley bottoms need a potential with non-zero increments");
  // A valley of depth Gamma spans about (Gamma^2 / s^2)^(1/alpha) sites; the search starts at 8 times that.
  const double reach = std::pow(gamma * gamma / s2, 1.0 / potential.alpha());
  const double want = std::max(64.0, std::ceil(8 * reach));
  require(std::isfinite(want) && want <= static_cast<double>(kMaxValleyHalfWidth), "gamma", gamma,
          "a valley this deep needs a window of half-width about " + (std::isfinite(want) ? to_text(want) : std::string("infinitely many")) +
              " sites; at most 2^30 are searched "
          "(lower gamma or raise sigma)");
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const double th = std::min<double>(threads == 0 ? hw_threads : threads, samples);
  core::require_memory(field, std::to_string(samples) + " (gamma " + to_text(gamma) + ")",
                       static_cast<double>(samples) * 8.0 + th * (2 * want + 1) * 64.0,
                       "samples x 8 B + threads x (2 x " + to_text(want) + " + 1) x 64 B for the windows");
  return static_cast<std::int64_t>(want);
}

std::vector<std::int64_t> sample_valley_bottoms(const Potential& potential, double gamma, std::uint32_t samples,
                                                std::uint64_t seed, unsigned threads) {
  const std::int64_t hw0 = check_valley_request(potential, gamma, samples, threads);
  std::vector<std::int64_t> out(samples);
  core::parallel_for(
      samples, threads,
      [&](std::uint32_t i) {
        for (std::int64_t hw = hw0;; hw *= 2) {
          if (hw > kMaxValleyHalfWidth) throw RuntimeError("valley sample " + std::to_string(i) + ": no bottom found within half-width 2^30");
          if (auto b = valley_bottom(potential.sample(seed, i, hw), gamma)) {
            out[i] = *b;
            return;
          }
        }
      },
      nullptr);
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
