// Exact fractional Brownian landscapes by circulant embedding of fractional Gaussian noise.
#include "gengap/sim/fbm.hpp"

#include <cmath>
#include <complex>

#include <nlohmann/json.hpp>
#include <unsupported/Eigen/FFT>

#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

FbmPotential::FbmPotential(double alpha, double s) : alpha_(alpha), s_(s) {
  require(alpha >= 0.01 && alpha < 2, "alpha", alpha, "must lie in [0.01, 2) (alpha = 2H, H the Hurst exponent; below 0.01 the landscape's reach overflows)");
  require(s >= 1e-6 && s <= 1e6, "sigma", s, "the increment standard deviation must lie in [1e-6, 1e6] (beyond, sums of increments overflow)");
}

namespace {

// sqrt(lambda_k / size) of the circulant embedding of fGn with Hurst exponent `hurst` on `size`
// points (a power of two, twice the sample).
std::vector<double> circulant_roots(double hurst, std::size_t size) {
  const std::size_t m = size / 2;
  const double h2 = 2 * hurst;
  auto gamma = [h2](double k) {
    return 0.5 * (std::pow(std::abs(k + 1), h2) - 2 * std::pow(std::abs(k), h2) + std::pow(std::abs(k - 1), h2));
  };
  // First row of the circulant: g(0..m), then g(m-1..1).
  std::vector<std::complex<double>> row(size), lambda;
  for (std::size_t k = 0; k <= m; ++k) row[k] = gamma(static_cast<double>(k));
  for (std::size_t k = m + 1; k < size; ++k) row[k] = row[size - k];
  Eigen::FFT<double> fft;
  fft.fwd(lambda, row);
  std::vector<double> roots(size);
  for (std::size_t k = 0; k < size; ++k) {
    const double lam = lambda[k].real();
    // Non-negative in exact arithmetic for every H (Craigmile 2003); round-off can leave -1e-16.
    if (lam < -1e-9 * static_cast<double>(size)) {
      throw RuntimeError("circulant embedding failed: eigenvalue " + to_text(lam) + " < 0 for hurst = " + to_text(hurst));
    }
    roots[k] = std::sqrt(std::max(lam, 0.0) / static_cast<double>(size));
  }
  return roots;
}

}  // namespace

std::vector<double> sample_fgn(double hurst, std::size_t n, std::uint64_t seed, std::uint64_t env) {
  require(hurst > 0 && hurst < 1, "hurst", hurst, "must lie in (0, 1)");
  require(n >= 1, "n", n, "must be >= 1");
  std::size_t m = 1;
  while (m < n) m <<= 1;
  const std::size_t size = 2 * m;
  // The roots are the same for every path of one size: the last ones are kept per thread (up to
  // 2^22 points, 32 MiB), so a path costs one FFT instead of two.
  struct Cache {
    double hurst = -1;
    std::size_t size = 0;
    std::vector<double> roots;
  };
  thread_local Cache cache;
  std::vector<double> uncached;
  if (!(cache.hurst == hurst && cache.size == size)) {
    if (size <= (std::size_t{1} << 22)) {
      cache.roots = circulant_roots(hurst, size);
      cache.hurst = hurst;
      cache.size = size;
    } else {
      uncached = circulant_roots(hurst, size);
    }
  }
  const std::vector<double>& roots = uncached.empty() ? cache.roots : uncached;
  const Stream st(seed, StreamPurpose::kLandscape, static_cast<std::uint32_t>(env >> 32), static_cast<std::uint32_t>(env));
  std::vector<std::complex<double>> z(size), x;
  for (std::size_t k = 0; k < size; ++k) {
    const auto g = to_normal2(st(k));
    z[k] = roots[k] * std::complex<double>(g[0], g[1]);
  }
  Eigen::FFT<double> fft;
  fft.fwd(x, z);
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i].real();
  return out;
}

Landscape FbmPotential::sample(std::uint64_t seed, std::uint64_t env, std::int64_t hw) const {
  require(hw >= 1, "half_width", hw, "must be >= 1");
  const auto n = static_cast<std::size_t>(2 * hw);
  const std::vector<double> inc = sample_fgn(alpha_ / 2, n, seed, env);
  Landscape land;
  land.lo = -hw;
  land.v.resize(n + 1);
  land.v[0] = 0;
  for (std::size_t i = 0; i < n; ++i) land.v[i + 1] = land.v[i] + s_ * inc[i];
  const double v_origin = land.v[static_cast<std::size_t>(hw)];
  for (double& v : land.v) v -= v_origin;
  return land;
}

void FbmPotential::to_json(nlohmann::json& j) const {
  j = {{"name", "fbm"}, {"alpha", alpha_}, {"hurst", alpha_ / 2}, {"sigma", s_}, {"generator", "circulant-embedding"}};
}

}  // namespace gengap::sim
