// Lattice Gaussian fields by spectral synthesis on a periodic box, and Metropolis walkers on them.
#include "gengap/sim/lattice.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <complex>

#include <unsupported/Eigen/FFT>

#include "gengap/core/memory.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/metropolis.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/sim/times.hpp"
#include "gengap/core/parallel.hpp"

namespace gengap::sim {
namespace {

constexpr double kTwoPi = 6.283185307179586476925;

/// Wave number of FFT index i on a box of side L.
double wave(std::int64_t i, std::int64_t L) { return kTwoPi * static_cast<double>(i <= L / 2 ? i : i - L) / static_cast<double>(L); }

/// The lattice Laplacian's symbol sum_i 4 sin^2(k_i / 2), which is |k|^2 for small k: with it the
/// d = 1, alpha = 1 field is a random walk, D(r) = s^2 |r| down to r = 1.
double lattice_k2(double k0, double k1, double k2) {
  auto f = [](double k) { return 4.0 * std::pow(std::sin(k / 2.0), 2); };
  return f(k0) + f(k1) + f(k2);
}

/// sum_k c_k exp(i k.x) for every x, in place: unscaled inverse DFT along each axis.
void synthesize(std::vector<std::complex<double>>& c, int dim, std::int64_t L) {
  Eigen::FFT<double> fft;
  fft.SetFlag(Eigen::FFT<double>::Unscaled);
  const auto n = static_cast<std::size_t>(L);
  std::vector<std::complex<double>> line(n), out(n);
  std::size_t stride = 1;
  for (int axis = 0; axis < dim; ++axis) {
    const std::size_t block = stride * n;
    for (std::size_t base = 0; base < c.size(); base += block) {
      for (std::size_t off = 0; off < stride; ++off) {
        for (std::size_t i = 0; i < n; ++i) line[i] = c[base + off + i * stride];
        fft.inv(out, line);
        for (std::size_t i = 0; i < n; ++i) c[base + off + i * stride] = out[i];
      }
    }
    stride *= n;
  }
}

}  // namespace

void check_lattice_options(const LatticeFieldOptions& o) {
  require(o.dim >= 1 && o.dim <= 3, "dim", o.dim, "must be 1, 2 or 3");
  require(o.box >= 8 && (o.box & (o.box - 1)) == 0, "box", o.box, "must be a power of two >= 8");
  require(o.dim * std::log2(static_cast<double>(o.box)) <= 24.0, "box", o.box,
          "box^dim must be <= 2^24 sites (dim = " + std::to_string(o.dim) + ")");
  require(o.alpha > 0 && o.alpha < 2, "alpha", o.alpha, "must lie in (0, 2)");
  require(o.s > 0 && std::isfinite(o.s), "s", o.s, "must be > 0");
  require(o.subharmonics >= 0 && o.subharmonics <= 8, "subharmonics", o.subharmonics, "must lie in [0, 8]");
}

void check_lattice_walks(const LatticeFieldOptions& o, const LatticeWalkConfig& cfg, const std::vector<double>& temperatures) {
  check_lattice_options(o);
  require(cfg.environments >= 1, "environments", cfg.environments, "must be >= 1");
  require(cfg.walkers_per_env >= 1, "walkers", cfg.walkers_per_env, "must be >= 1");
  require(!temperatures.empty(), "temperatures", "[]", "must name at least one temperature");
  for (double temp : temperatures) require(temp > 0 && std::isfinite(temp), "temperature", temp, "must be > 0");
  check_times(cfg.times);
  require(cfg.times.back() <= (std::uint64_t{1} << 40), "times", cfg.times.back(), "must be <= 2^40");
  // Memory: the field's spectrum and one sample per thread (complex FFT workspace), and the results.
  const double sites = std::pow(static_cast<double>(o.box), o.dim);
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const double threads = std::min<double>(cfg.threads == 0 ? hw_threads : cfg.threads, cfg.environments);
  const double results = static_cast<double>(cfg.environments) * static_cast<double>(cfg.times.size()) * static_cast<double>(temperatures.size()) * 8.0 +
                         static_cast<double>(cfg.environments) * static_cast<double>(temperatures.size()) * 8.0;
  core::require_memory("environments", std::to_string(cfg.environments) + " (box " + std::to_string(o.box) + "^" + std::to_string(o.dim) + ")",
                       sites * 8 + threads * sites * 40 + results,
                       "box^dim x 8 B + threads x box^dim x 40 B + environments x times x temperatures x 8 B");
}

LatticeField::LatticeField(const LatticeFieldOptions& o) : opt_(o) {
  check_lattice_options(o);
  const std::int64_t L = o.box;
  const std::int64_t n = o.dim == 1 ? L : o.dim == 2 ? L * L : L * L * L;
  amp_.assign(static_cast<std::size_t>(n), 0.0);
  double d1 = 0;  // D(e_1) of the unnormalized spectrum
  for (std::int64_t idx = 1; idx < n; ++idx) {
    const std::int64_t i0 = idx % L, i1 = (idx / L) % L, i2 = idx / (L * L);
    const double k0 = wave(i0, L), k1 = o.dim > 1 ? wave(i1, L) : 0.0, k2 = o.dim > 2 ? wave(i2, L) : 0.0;
    const double k2sum = lattice_k2(k0, k1, k2);
    const double a2 = std::pow(k2sum, -(o.dim + o.alpha) / 2.0);
    amp_[static_cast<std::size_t>(idx)] = a2;
    d1 += 2.0 * a2 * (1.0 - std::cos(k0));
  }
  // Subharmonics (Lane, Glindemann & Dainty 1992): the dropped cell |k_i| < pi / L around k = 0,
  // split into 3^d cells of a third the width, the centre split again, `subharmonics` times; each
  // outer cell contributes one mode at its centre with the spectral weight of its volume.
  const double dk = kTwoPi / static_cast<double>(L);
  for (int p = 1; p <= o.subharmonics; ++p) {
    const double step = dk / std::pow(3.0, p), volume = std::pow(3.0, -p * o.dim);
    for (int m = 0; m < (o.dim == 1 ? 3 : o.dim == 2 ? 9 : 27); ++m) {
      const int m0 = m % 3 - 1, m1 = (m / 3) % 3 - 1, m2 = m / 9 - 1;
      if (m0 == 0 && m1 == 0 && m2 == 0) continue;
      const std::array<double, 3> k{step * m0, step * m1, step * m2};
      const double a2 = volume * std::pow(lattice_k2(k[0], k[1], k[2]), -(o.dim + o.alpha) / 2.0);
      sub_k_.push_back(k);
      sub_amp_.push_back(a2);
      d1 += 2.0 * a2 * (1.0 - std::cos(k[0]));
    }
  }
  const double scale = o.s * o.s / d1;
  for (double& a : amp_) a = std::sqrt(a * scale);
  for (double& a : sub_amp_) a = std::sqrt(a * scale);
}

double LatticeField::structure_function(const std::array<std::int64_t, 3>& r) const {
  const std::int64_t L = opt_.box;
  double d = 0;
  for (std::int64_t idx = 1; idx < sites(); ++idx) {
    const std::int64_t i0 = idx % L, i1 = (idx / L) % L, i2 = idx / (L * L);
    const double phase = wave(i0, L) * static_cast<double>(r[0]) + (opt_.dim > 1 ? wave(i1, L) * static_cast<double>(r[1]) : 0.0) +
                         (opt_.dim > 2 ? wave(i2, L) * static_cast<double>(r[2]) : 0.0);
    const double a = amp_[static_cast<std::size_t>(idx)];
    d += 2.0 * a * a * (1.0 - std::cos(phase));
  }
  for (std::size_t j = 0; j < sub_k_.size(); ++j) {
    const double phase = sub_k_[j][0] * static_cast<double>(r[0]) + sub_k_[j][1] * static_cast<double>(r[1]) +
                         sub_k_[j][2] * static_cast<double>(r[2]);
    d += 2.0 * sub_amp_[j] * sub_amp_[j] * (1.0 - std::cos(phase));
  }
  return d;
}

std::vector<double> LatticeField::sample(std::uint64_t seed, std::uint64_t env) const {
  // Stream (seed, landscape, 'LF' tag ^ high word of env, low word of env): one block per mode.
  const Stream st(seed, StreamPurpose::kLandscape, 0x4C460000u ^ static_cast<std::uint32_t>(env >> 32),
                  static_cast<std::uint32_t>(env));
  std::vector<std::complex<double>> c(amp_.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    const auto g = to_normal2(st(i));
    c[i] = amp_[i] * std::complex<double>(g[0], g[1]);
  }
  synthesize(c, opt_.dim, opt_.box);
  // The subharmonic modes (not periodic on the box: walkers stay within box / 4 anyway), from the
  // blocks after the grid's.
  const std::int64_t L = opt_.box;
  // exp(i k.x) = prod_axis exp(i k_a x_a): one table per axis, coordinates in [-L/2, L/2).
  const auto n = static_cast<std::size_t>(L);
  std::vector<std::complex<double>> e0(n), e1(n), e2(n);
  for (std::size_t j = 0; j < sub_k_.size(); ++j) {
    const auto g = to_normal2(st(c.size() + j));
    const std::complex<double> z = sub_amp_[j] * std::complex<double>(g[0], g[1]);
    for (std::size_t q = 0; q < n; ++q) {
      const double x = static_cast<double>(q < n / 2 ? static_cast<std::int64_t>(q) : static_cast<std::int64_t>(q) - L);
      e0[q] = std::polar(1.0, sub_k_[j][0] * x);
      e1[q] = std::polar(1.0, sub_k_[j][1] * x);
      e2[q] = std::polar(1.0, sub_k_[j][2] * x);
    }
    const std::size_t n1 = opt_.dim > 1 ? n : 1, n2 = opt_.dim > 2 ? n : 1;
    for (std::size_t i2 = 0; i2 < n2; ++i2) {
      for (std::size_t i1 = 0; i1 < n1; ++i1) {
        const std::complex<double> w = z * e1[i1] * e2[i2];
        std::complex<double>* row = c.data() + (i2 * n1 + i1) * n;
        for (std::size_t i0 = 0; i0 < n; ++i0) row[i0] += w * e0[i0];
      }
    }
  }
  std::vector<double> v(c.size());
  const double v0 = c[0].real();
  for (std::size_t i = 0; i < c.size(); ++i) v[i] = c[i].real() - v0;
  return v;
}

std::vector<LatticeWalkResult> run_lattice_walks(const LatticeField& field, const Dynamics& dyn, const LatticeWalkConfig& cfg,
                                                 const std::vector<double>& temperatures) {
  check_lattice_walks(field.options(), cfg, temperatures);
  const int dim = field.options().dim;
  const std::int64_t L = field.options().box, mask = L - 1, reach_limit = L / 4;
  const std::size_t n_t = cfg.times.size(), n_temp = temperatures.size();
  const std::uint32_t env_begin = cfg.env_begin, env_end = cfg.env_end == 0 ? cfg.environments : cfg.env_end;
  require(env_begin < env_end && env_end <= cfg.environments, "environment range",
          "[" + std::to_string(env_begin) + ", " + std::to_string(env_end) + ")",
          "must be a non-empty part of [0, " + std::to_string(cfg.environments) + ")");
  const std::uint32_t n_env = env_end - env_begin, W = cfg.walkers_per_env;

  std::vector<LatticeWalkResult> res(n_temp);
  for (auto& r : res) {
    r.times = cfg.times;
    r.env_msd = Eigen::MatrixXd::Zero(n_env, static_cast<Eigen::Index>(n_t));
  }
  std::vector<std::int64_t> reach(n_env * n_temp, 0);
  const auto t0 = std::chrono::steady_clock::now();
  // An exception from cfg.progress (the caller asks to stop) also stops the walks under way, at their
  // next recording time: an environment's walks can take minutes.
  std::atomic<bool> stop{false};
  std::function<void(double)> progress;
  if (cfg.progress)
    progress = [&](double f) {
      try {
        cfg.progress(f);
      } catch (...) {
        stop = true;
        throw;
      }
    };
  core::parallel_for(
      n_env, cfg.threads,
      [&](std::uint32_t row) {
        const std::uint32_t e = env_begin + row;
        const std::vector<double> v = field.sample(cfg.seed, e);  // once, for every temperature
        for (std::size_t k = 0; k < n_temp; ++k) {
          const double inv_t = 1.0 / temperatures[k];
          Eigen::MatrixXd& env_msd = res[k].env_msd;
          std::int64_t& far = reach[row * n_temp + k];
          for (std::uint32_t w = 0; w < W; ++w) {
            const Stream st(cfg.seed, StreamPurpose::kWalk, w, e);
            std::array<std::int64_t, 3> x{0, 0, 0};
            std::int64_t site = 0;
            std::uint64_t t = 0;
            for (std::size_t r = 0; r < n_t; ++r) {
              for (; t < cfg.times[r]; ++t) {
                const Block4x32 b = st(t >> 1);
                const std::uint32_t u_dir = b[(t & 1) * 2], u_acc = b[(t & 1) * 2 + 1];
                const auto move = static_cast<int>((static_cast<std::uint64_t>(u_dir) * static_cast<std::uint64_t>(2 * dim)) >> 32);
                const int axis = move >> 1;
                const std::int64_t step = (move & 1) ? 1 : -1;
                std::array<std::int64_t, 3> y = x;
                y[static_cast<std::size_t>(axis)] += step;
                const std::int64_t ysite = (y[0] & mask) + L * ((y[1] & mask) + L * (y[2] & mask));
                const double dv = (v[static_cast<std::size_t>(ysite)] - v[static_cast<std::size_t>(site)]) * inv_t;
                // u < 1 always, so a rule that accepts with probability 1 always moves.
                if (to_open01(u_acc) < dyn.accept(dv)) {
                  x = y;
                  site = ysite;
                  if (std::abs(y[static_cast<std::size_t>(axis)]) > reach_limit) {
                    throw RuntimeError("environment " + std::to_string(e) + ", walker " + std::to_string(w) + ", T = " +
                                       to_text(temperatures[k]) + ": reached " + std::to_string(y[static_cast<std::size_t>(axis)]) +
                                       " on axis " + std::to_string(axis) + ", farther than box / 4 = " +
                                       std::to_string(reach_limit) +
                                       " from the origin, where the periodic box would show; rerun with a larger box");
                  }
                }
              }
              const double r2 = static_cast<double>(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
              env_msd(row, static_cast<Eigen::Index>(r)) += r2 / W;
              if (stop.load(std::memory_order_relaxed)) return;  // the result is discarded
            }
            far = std::max({far, std::abs(x[0]), std::abs(x[1]), std::abs(x[2])});
          }
        }
      },
      progress);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t k = 0; k < n_temp; ++k) {
    LatticeWalkResult& r = res[k];
    r.msd.resize(n_t);
    for (std::size_t i = 0; i < n_t; ++i) r.msd[i] = r.env_msd.col(static_cast<Eigen::Index>(i)).mean();
    for (std::uint32_t e = 0; e < n_env; ++e) r.max_reach = std::max(r.max_reach, reach[e * n_temp + k]);
    r.walker_steps = std::uint64_t{n_env} * W * cfg.times.back();
    r.seconds = seconds;
  }
  return res;
}

LatticeWalkResult combine_lattice_walk(const std::vector<LatticeWalkResult>& parts) {
  require(!parts.empty(), "parts", 0, "need at least one part");
  const std::size_t n_t = parts.front().times.size();
  Eigen::Index rows = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    require(parts[k].times == parts.front().times && parts[k].env_msd.cols() == static_cast<Eigen::Index>(n_t), "part " + std::to_string(k),
            parts[k].env_msd.cols(), "must have the first part's recording times");
    rows += parts[k].env_msd.rows();
  }
  LatticeWalkResult r;
  r.times = parts.front().times;
  r.env_msd.resize(rows, static_cast<Eigen::Index>(n_t));
  Eigen::Index at = 0;
  for (const LatticeWalkResult& p : parts) {
    r.env_msd.middleRows(at, p.env_msd.rows()) = p.env_msd;
    at += p.env_msd.rows();
    r.max_reach = std::max(r.max_reach, p.max_reach);
    r.walker_steps += p.walker_steps;
    r.seconds += p.seconds;
  }
  r.msd.resize(n_t);
  for (std::size_t i = 0; i < n_t; ++i) r.msd[i] = r.env_msd.col(static_cast<Eigen::Index>(i)).mean();
  return r;
}

std::vector<LatticeWalkResult> run_lattice_walks(const LatticeField& field, const LatticeWalkConfig& cfg,
                                                 const std::vector<double>& temperatures) {
  return run_lattice_walks(field, Metropolis(), cfg, temperatures);
}

LatticeWalkResult run_lattice_walk(const LatticeField& field, const Dynamics& dyn, const LatticeWalkConfig& cfg) {
  return run_lattice_walks(field, dyn, cfg, {cfg.temperature}).front();
}

LatticeWalkResult run_lattice_walk(const LatticeField& field, const LatticeWalkConfig& cfg) {
  return run_lattice_walk(field, Metropolis(), cfg);
}

}  // namespace gengap::sim
