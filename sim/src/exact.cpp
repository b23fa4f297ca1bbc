// The exact 1D dynamics: repeated squaring of the transition matrix in nonnegative arithmetic.
#include "gengap/sim/exact.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define GENGAP_HAVE_MXCSR 1
#endif

#include <Eigen/Core>

#include "gengap/core/memory.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/theory.hpp"
#include "gengap/core/parallel.hpp"

namespace gengap::sim {
namespace {

template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S>
using Row = Eigen::Matrix<S, 1, Eigen::Dynamic>;

void check_chain(const BirthDeathChain& c) {
  const std::int64_t n = c.size();
  require(n >= 2, "chain.size", n, "must be >= 2 sites");
  require(static_cast<std::int64_t>(c.left.size()) == n, "chain.left.size", c.left.size(),
          "must equal chain.right.size() = " + std::to_string(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double r = c.right[static_cast<std::size_t>(i)], l = c.left[static_cast<std::size_t>(i)];
    require(std::isfinite(r) && r >= 0 && r <= 1, "chain.right", r, "must lie in [0, 1] (site " + std::to_string(c.lo + i) + ")");
    require(std::isfinite(l) && l >= 0 && l <= 1, "chain.left", l, "must lie in [0, 1] (site " + std::to_string(c.lo + i) + ")");
    require(r + l <= 1.0 + 1e-15, "chain.right + chain.left", r + l,
            "must be <= 1 (site " + std::to_string(c.lo + i) + ")");
  }
  require(c.left.front() == 0.0, "chain.left[0]", c.left.front(), "must be 0: the first site reflects");
  require(c.right.back() == 0.0, "chain.right[last]", c.right.back(), "must be 0: the last site reflects");
}

template <class S>
Mat<S> transition_matrix(const BirthDeathChain& c) {
  const Eigen::Index n = static_cast<Eigen::Index>(c.size());
  Mat<S> p = Mat<S>::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const S r = static_cast<S>(c.right[static_cast<std::size_t>(i)]);
    const S l = static_cast<S>(c.left[static_cast<std::size_t>(i)]);
    if (i + 1 < n) p(i, i + 1) = r;
    if (i > 0) p(i, i - 1) = l;
    p(i, i) = std::max(S(0), S(1) - r - l);
  }
  return p;
}

/// Restores the rows of a computed power to sum 1 without ever subtracting two comparable numbers
/// from a hop probability; returns the largest |row sum - 1| found.
template <class S>
double restore_rows(Mat<S>& a) {
  double defect = 0;
  const Eigen::Index n = a.rows();
  for (Eigen::Index x = 0; x < n; ++x) {
    auto row = a.row(x);
    const S off = row.head(x).sum() + row.tail(n - x - 1).sum();
    const S total = off + row(x);
    defect = std::max(defect, static_cast<double>(std::abs(total - S(1))));
    if (off <= S(0.5)) {
      row(x) = S(1) - off;  // stay probability >= 1/2: the complement is accurate to u
    } else {
      row /= total;  // a relative change of one rounding's size, for every entry alike
    }
  }
  return defect;
}

template <class S>
void square(Mat<S>& a, Mat<S>& tmp, double& defect) {
  tmp.noalias() = a * a;
  defect = std::max(defect, restore_rows(tmp));
  a.swap(tmp);
}

/// Flushes subnormal results to zero (and reads subnormal inputs as zero) on this thread while it
/// lives, then restores the previous mode. Probabilities below 2.2e-308 (a barrier of 709 T) carry
/// no physics and, as subnormals, no relative accuracy either; arithmetic on them costs about 100
/// times a normal operation, which made the squarings 4x slower (5.8 s against 1.4 s for 807
/// sites and 51 octaves, the same <x^2> to every printed digit). The x87 unit of the long double
/// check is not affected.
class FlushSubnormals {
 public:
  FlushSubnormals() {
#ifdef GENGAP_HAVE_MXCSR
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) and DAZ (bit 6)
#endif
  }
  ~FlushSubnormals() {
#ifdef GENGAP_HAVE_MXCSR
    _mm_setcsr(saved_);
#endif
  }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  unsigned saved_ = 0;
};

template <class S>
ExactPropagation propagate(const BirthDeathChain& chain, const ExactOptions& opt) {
  const FlushSubnormals flush;
  const Eigen::Index n = static_cast<Eigen::Index>(chain.size());
  const Eigen::Index s = static_cast<Eigen::Index>(opt.start - chain.lo);
  std::vector<Row<S>> rows;
  std::vector<double> times;
  Mat<S> cur = transition_matrix<S>(chain), prev, prev2, tmp(n, n);
  double defect = 0;
  for (int k = 0; k <= opt.octaves; ++k) {
    const double t = std::ldexp(1.0, k);
    const Row<S> r = cur.row(s);
    rows.push_back(r);
    times.push_back(t);
    if (k < opt.octaves) {
      if (opt.per_octave == 4 && k >= 2) {
        rows.push_back(r * prev2);
        times.push_back(t * 1.25);
      }
      if (opt.per_octave >= 2 && k >= 1) {
        rows.push_back(r * prev);
        times.push_back(t * 1.5);
      }
      if (opt.per_octave == 4 && k >= 2) {
        rows.push_back((r * prev) * prev2);
        times.push_back(t * 1.75);
      }
      prev2.swap(prev);
      prev = cur;
      square(cur, tmp, defect);
    }
    if (opt.progress) opt.progress(static_cast<double>(k + 1) / (opt.octaves + 1));
  }
  ExactPropagation out;
  out.lo = chain.lo;
  out.times = times;
  out.squaring_defect = defect;
  out.distribution.resize(static_cast<Eigen::Index>(rows.size()), n);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Eigen::Index ii = static_cast<Eigen::Index>(i);
    out.distribution.row(ii) = rows[i].template cast<double>();
    out.ln_t.push_back(std::log(times[i]));
    double m = 0, m2 = 0, mass = 0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const double p = out.distribution(ii, j);
      const double x = static_cast<double>(chain.lo + j);
      mass += p;
      m += p * x;
      m2 += p * x * x;
    }
    out.mean.push_back(m);
    out.msd.push_back(m2);
    out.mass_defect = std::max(out.mass_defect, std::abs(mass - 1.0));
  }
  return out;
}

}  // namespace

BirthDeathChain chain_from_landscape(const Landscape& land, const Dynamics& dyn, double temperature) {
  require(temperature >= 1e-6 && temperature <= 1e6, "temperature", temperature, "must lie in [1e-6, 1e6]");
  require(land.size() >= 2, "landscape.size", land.size(), "must be >= 2 sites");
  BirthDeathChain c;
  c.lo = land.lo;
  const std::size_t n = land.v.size();
  c.right.assign(n, 0.0);
  c.left.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 1 < n) c.right[i] = hop_probability(dyn, (land.v[i + 1] - land.v[i]) / temperature);
    if (i > 0) c.left[i] = hop_probability(dyn, (land.v[i - 1] - land.v[i]) / temperature);
  }
  return c;
}

BirthDeathChain chain_from_table(const HopTable& table) {
  require(table.size() >= 2, "table.size", table.size(), "must be >= 2 sites");
  BirthDeathChain c;
  c.lo = table.lo();
  for (std::int64_t x = table.lo(); x < table.lo() + table.size(); ++x) {
    c.right.push_back(table.p_right(x));
    c.left.push_back(table.p_left(x));
  }
  c.left.front() = 0.0;
  c.right.back() = 0.0;
  return c;
}

ExactPropagation propagate_exact(const BirthDeathChain& chain, const ExactOptions& options) {
  check_chain(chain);
  require(options.start >= chain.lo && options.start < chain.lo + chain.size(), "start", options.start,
          "must lie in the chain [" + std::to_string(chain.lo) + ", " + std::to_string(chain.lo + chain.size() - 1) + "]");
  require(options.octaves >= 0 && options.octaves <= 62, "octaves", options.octaves, "must lie in [0, 62] (t <= 2^62)");
  require(options.per_octave == 1 || options.per_octave == 2 || options.per_octave == 4, "per_octave",
          options.per_octave, "must be 1, 2 or 4");
  return options.extended ? propagate<long double>(chain, options) : propagate<double>(chain, options);
}

double mfpt_by_propagation(const BirthDeathChain& chain, std::int64_t start, std::int64_t target) {
  check_chain(chain);
  require(target > start, "target", target, "must be > start = " + std::to_string(start));
  require(start >= chain.lo && target < chain.lo + chain.size(), "target", target,
          "start and target must lie in the chain [" + std::to_string(chain.lo) + ", " +
              std::to_string(chain.lo + chain.size() - 1) + "]");
  // The chain on [start, target]: a wall left of start, target absorbing.
  BirthDeathChain sub;
  sub.lo = start;
  const auto i0 = static_cast<std::size_t>(start - chain.lo), i1 = static_cast<std::size_t>(target - chain.lo);
  sub.right.assign(chain.right.begin() + static_cast<std::ptrdiff_t>(i0), chain.right.begin() + static_cast<std::ptrdiff_t>(i1) + 1);
  sub.left.assign(chain.left.begin() + static_cast<std::ptrdiff_t>(i0), chain.left.begin() + static_cast<std::ptrdiff_t>(i1) + 1);
  sub.left.front() = 0.0;
  sub.right.back() = 0.0;
  sub.left.back() = 0.0;
  const Eigen::Index m = static_cast<Eigen::Index>(sub.size());
  Mat<double> a = transition_matrix<double>(sub), tmp(m, m);
  // b = e_0 (sum_{t < 2^k} A^t): expected visits to each site before time 2^k.
  Row<double> b = Row<double>::Zero(m);
  b(0) = 1.0;
  double defect = 0;
  for (int k = 0; k <= 62; ++k) {
    const double survival = a.row(0).head(m - 1).sum();
    if (survival < 1e-18) return b.head(m - 1).sum();
    b += b * a;  // sum_{t < 2^(k+1)} = sum_{t < 2^k} (I + A^(2^k))
    square(a, tmp, defect);
  }
  throw RuntimeError("mfpt_by_propagation: the walker is not absorbed at " + std::to_string(target) +
                     " by t = 2^62 steps (survival >= 1e-18)");
}

namespace {
/// Validates an exact-ensemble request and returns the window's half-width.
std::int64_t prepare_exact(const Potential& potential, const ExactEnsembleConfig& cfg, std::uint32_t n_env) {
  require(cfg.environments >= 1, "environments", cfg.environments, "must be >= 1");
  require(cfg.temperature >= 1e-6 && cfg.temperature <= 1e6, "temperature", cfg.temperature, "must lie in [1e-6, 1e6]");
  require(cfg.octaves >= 1 && cfg.octaves <= 62, "octaves", cfg.octaves, "must lie in [1, 62] (t <= 2^62)");
  require(cfg.per_octave == 1 || cfg.per_octave == 2 || cfg.per_octave == 4, "per_octave", cfg.per_octave,
          "must be 1, 2 or 4");
  require(cfg.half_width >= 0, "half_width", cfg.half_width, "must be >= 0 (0 = automatic)");
  const double sigma2 = potential.increment_variance() / (cfg.temperature * cfg.temperature);
  std::int64_t hw = cfg.half_width;
  if (hw == 0) {
    require(sigma2 > 0, "potential", potential.name(), "the automatic window needs a potential with increments; give half_width");
    // Golosov's valley at Gamma = T ln t lies within (Gamma/T + 1.2 sigma)^2 / sigma^2 sites, the
    // lattice shifting Gamma by about 1.2 sigma (measured: c = -7.1, -9.1, -14.6 at sigma = 6, 8, 12);
    // 8 times that: valley bottoms lie beyond it in fewer than 1e-3 of the environments (sigma = 6).
    const double ln_t = cfg.octaves * std::log(2.0), reach = ln_t + 1.2 * std::sqrt(sigma2);
    const double want = std::ceil(8.0 * reach * reach / sigma2);
    hw = want > 1e9 ? std::int64_t{1000000000} : std::max<std::int64_t>(64, static_cast<std::int64_t>(want));
  }
  require(hw >= 8 && hw <= 4096, "half_width", hw,
          "must lie in [8, 4096] (a window of n = 2 hw + 1 sites costs n^2 doubles per matrix and 2 n^3 flops per "
          "squaring); for the automatic window 8 (ln t_max + 1.2 sigma)^2 / sigma^2 lower octaves or raise sigma^2");
  // Memory: about five n x n matrices per thread at work, and per environment its series.
  const double n = static_cast<double>(2 * hw + 1);
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const double threads = std::min<double>(cfg.threads == 0 ? hw_threads : cfg.threads, n_env);
  const double series = static_cast<double>(n_env) * (cfg.octaves * cfg.per_octave + 2) * 4 * 8.0;
  core::require_memory("environments", std::to_string(n_env) + " (half_width " + std::to_string(hw) + ")",
                       threads * 5 * n * n * 8 + series, "threads x 5 n^2 x 8 B + environments x times x 32 B");
  return hw;
}
}  // namespace

void check_exact_ensemble(const Potential& potential, const ExactEnsembleConfig& cfg) {
  (void)prepare_exact(potential, cfg, cfg.environments);
}

namespace {
void require_part(const ExactEnsembleConfig& cfg, std::uint32_t env_begin, std::uint32_t env_end) {
  require(env_begin < env_end && env_end <= cfg.environments, "environment range",
          "[" + std::to_string(env_begin) + ", " + std::to_string(env_end) + ")",
          "must be a non-empty part of [0, " + std::to_string(cfg.environments) + ")");
}
}  // namespace

void check_exact_ensemble(const Potential& potential, const ExactEnsembleConfig& cfg, std::uint32_t env_begin, std::uint32_t env_end) {
  require_part(cfg, env_begin, env_end);
  (void)prepare_exact(potential, cfg, env_end - env_begin);
}

ExactPart run_exact_part(const Potential& potential, const Dynamics& dynamics, const ExactEnsembleConfig& cfg, std::uint32_t env_begin,
                         std::uint32_t env_end) {
  require_part(cfg, env_begin, env_end);
  const std::int64_t hw = prepare_exact(potential, cfg, env_end - env_begin);
  const std::uint32_t n_env = env_end - env_begin;
  std::vector<ExactPropagation> props(n_env);
  std::vector<std::vector<double>> edge_t(n_env);
  const auto t0 = std::chrono::steady_clock::now();
  core::parallel_for(
      n_env, cfg.threads,
      [&](std::uint32_t k) {
        const Landscape land = potential.sample(cfg.seed, env_begin + k, hw);
        ExactOptions opt;
        opt.octaves = cfg.octaves;
        opt.per_octave = cfg.per_octave;
        ExactPropagation p = propagate_exact(chain_from_landscape(land, dynamics, cfg.temperature), opt);
        // Probability within hw / 8 sites of either edge, before the distributions are dropped.
        const Eigen::Index band = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(hw / 8));
        std::vector<double> em(static_cast<std::size_t>(p.distribution.rows()));
        for (Eigen::Index r = 0; r < p.distribution.rows(); ++r) {
          em[static_cast<std::size_t>(r)] = p.distribution.row(r).head(band).sum() + p.distribution.row(r).tail(band).sum();
        }
        edge_t[k] = std::move(em);
        p.distribution.resize(0, 0);
        props[k] = std::move(p);
      },
      cfg.progress);

  ExactPart part;
  part.env_begin = env_begin;
  part.env_end = env_end;
  part.half_width = hw;
  const std::size_t n_t = props[0].times.size();
  part.times = props[0].times;
  part.ln_t = props[0].ln_t;
  part.env_msd.resize(n_env, static_cast<Eigen::Index>(n_t));
  part.edge_mass.assign(n_t, 0.0);
  for (std::uint32_t k = 0; k < n_env; ++k) {
    for (std::size_t i = 0; i < n_t; ++i) {
      part.env_msd(k, static_cast<Eigen::Index>(i)) = props[k].msd[i];
      part.edge_mass[i] = std::max(part.edge_mass[i], edge_t[k][i]);
    }
    part.squaring_defect = std::max(part.squaring_defect, props[k].squaring_defect);
    part.mass_defect = std::max(part.mass_defect, props[k].mass_defect);
  }
  part.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return part;
}

ExactEnsembleResult combine_exact(const Potential& potential, const ExactEnsembleConfig& cfg, const std::vector<ExactPart>& parts) {
  require(!parts.empty(), "parts", 0, "need at least one part");
  const std::size_t n_t = parts.front().times.size();
  std::uint32_t next = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const ExactPart& p = parts[k];
    const std::string which = "part " + std::to_string(k);
    require(p.env_begin == next && p.env_end > p.env_begin && p.env_end <= cfg.environments, which,
            "[" + std::to_string(p.env_begin) + ", " + std::to_string(p.env_end) + ")",
            "the parts must cover [0, " + std::to_string(cfg.environments) + ") in order; expected one starting at " + std::to_string(next));
    require(p.env_msd.rows() == static_cast<Eigen::Index>(p.env_end - p.env_begin) && p.env_msd.cols() == static_cast<Eigen::Index>(n_t) &&
                p.times == parts.front().times && p.ln_t == parts.front().ln_t && p.edge_mass.size() == n_t &&
                p.half_width == parts.front().half_width,
            which, p.env_msd.rows(), "must hold one series per environment at the first part's times and window");
    next = p.env_end;
  }
  require(next == cfg.environments, "parts", next, "cover only [0, " + std::to_string(next) + ") of " + std::to_string(cfg.environments) + " environments");
  const std::uint32_t n_env = cfg.environments;
  ExactEnsembleResult res;
  res.sigma2 = potential.increment_variance() / (cfg.temperature * cfg.temperature);
  res.half_width = parts.front().half_width;
  res.times = parts.front().times;
  res.ln_t = parts.front().ln_t;
  res.env_msd.resize(n_env, static_cast<Eigen::Index>(n_t));
  res.edge_mass.assign(n_t, 0.0);
  for (const ExactPart& p : parts) {
    res.env_msd.middleRows(p.env_begin, p.env_end - p.env_begin) = p.env_msd;
    for (std::size_t i = 0; i < n_t; ++i) res.edge_mass[i] = std::max(res.edge_mass[i], p.edge_mass[i]);
    res.squaring_defect = std::max(res.squaring_defect, p.squaring_defect);
    res.mass_defect = std::max(res.mass_defect, p.mass_defect);
    res.seconds += p.seconds;
  }
  for (std::size_t i = 0; i < n_t; ++i) {
    const auto col = res.env_msd.col(static_cast<Eigen::Index>(i));
    const double mean = col.mean();
    res.msd.push_back(mean);
    const double var = n_env > 1 ? (col.array() - mean).square().sum() / (n_env - 1) : 0.0;
    res.msd_se.push_back(std::sqrt(var / n_env));
  }
  return res;
}

ExactEnsembleResult run_exact_ensemble(const Potential& potential, const Dynamics& dynamics, const ExactEnsembleConfig& cfg) {
  std::vector<ExactPart> one;
  one.push_back(run_exact_part(potential, dynamics, cfg, 0, cfg.environments));
  return combine_exact(potential, cfg, one);
}

std::vector<double> kesten_depths(const std::vector<double>& ln_t, double temperature) {
  std::vector<double> g;
  for (double l : ln_t)
    if (l >= 1.0) g.push_back(temperature * l);
  return g;
}

Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> kesten_valley_bottoms(const Potential& potential, std::uint64_t seed,
                                                                                    const std::vector<double>& gammas, std::uint32_t begin,
                                                                                    std::uint32_t end, unsigned threads) {
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> b(static_cast<Eigen::Index>(end - begin), static_cast<Eigen::Index>(gammas.size()));
  for (std::size_t g = 0; g < gammas.size(); ++g) {
    const std::vector<std::int64_t> col = sample_valley_bottoms_range(potential, gammas[g], begin, end, seed, threads);
    for (std::uint32_t i = 0; i < end - begin; ++i) b(i, static_cast<Eigen::Index>(g)) = col[i];
  }
  return b;
}

namespace {
/// Least squares of y^(1/4) = A (x - c) over x >= from; returns {A, c}, or {NaN, NaN} with fewer than 3 points.
std::pair<double, double> fit_quartic_root(const std::vector<double>& x, const std::vector<double>& y, double from) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] < from || !(y[i] > 0)) continue;
    const double yq = std::pow(y[i], 0.25);
    sx += x[i];
    sy += yq;
    sxx += x[i] * x[i];
    sxy += x[i] * yq;
    ++m;
  }
  if (m < 3) return {std::nan(""), std::nan("")};
  const double a = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  return {a, -((sy - a * sx) / m) / a};
}
}  // namespace

KestenConvergence kesten_convergence(const ExactEnsembleResult& r, const Potential& potential, std::uint64_t seed,
                                     double temperature, std::uint32_t valley_samples, double fit_from) {
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> bottoms;
  if (valley_samples >= 2) {
    const auto n_env = static_cast<std::uint32_t>(r.env_msd.rows());
    bottoms = kesten_valley_bottoms(potential, seed, kesten_depths(r.ln_t, temperature), 0, n_env + valley_samples, 0);
  }
  return kesten_convergence(r, potential, temperature, valley_samples, fit_from, bottoms);
}

KestenConvergence kesten_convergence(const ExactEnsembleResult& r, const Potential& potential, double temperature,
                                     std::uint32_t valley_samples, double fit_from,
                                     const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>& bottoms) {
  require(potential.alpha() == 1.0, "potential", potential.name(), "Kesten's law is for Sinai potentials (alpha = 1)");
  require(temperature >= 1e-6 && temperature <= 1e6, "temperature", temperature, "must lie in [1e-6, 1e6]");
  const auto n_env = static_cast<std::uint32_t>(r.env_msd.rows());
  require(n_env >= 2, "environments", n_env, "must be >= 2 for standard errors");
  const std::size_t n_points = kesten_depths(r.ln_t, temperature).size();
  if (valley_samples >= 2)
    require(bottoms.rows() == static_cast<Eigen::Index>(n_env) + valley_samples && bottoms.cols() == static_cast<Eigen::Index>(n_points),
            "valley bottoms", std::to_string(bottoms.rows()) + " x " + std::to_string(bottoms.cols()),
            "must be (environments + valley_samples) x (times with ln t >= 1) = " + std::to_string(n_env + valley_samples) + " x " +
                std::to_string(n_points));
  KestenConvergence out;
  out.fit_from = fit_from;
  out.valley_environments = valley_samples;
  Eigen::Index point = 0;
  const double s4 = r.sigma2 * r.sigma2;
  std::vector<std::vector<double>> env_term;  // per point: Y - Z (or Y) of each exact environment
  std::vector<double> mean_term;              // per point: their mean
  for (std::size_t i = 0; i < r.times.size(); ++i) {
    if (r.ln_t[i] < 1.0) continue;
    KestenPoint pt;
    pt.ln_t = r.ln_t[i];
    const Eigen::VectorXd y = r.env_msd.col(static_cast<Eigen::Index>(i));
    pt.msd = y.mean();
    pt.msd_se = std::sqrt((y.array() - pt.msd).square().sum() / (n_env - 1) / n_env);
    pt.msd_cv = pt.msd;
    pt.msd_cv_se = pt.msd_se;
    if (valley_samples >= 2) {
      const auto b = bottoms.col(point);
      Eigen::VectorXd d(n_env), z(valley_samples);
      for (std::uint32_t e = 0; e < n_env; ++e) d(e) = y(e) - static_cast<double>(b(e)) * static_cast<double>(b(e));
      for (std::uint32_t e = 0; e < valley_samples; ++e) z(e) = std::pow(static_cast<double>(b(n_env + e)), 2);
      const double md = d.mean(), mz = z.mean();
      const double vd = (d.array() - md).square().sum() / (n_env - 1);
      const double vz = (z.array() - mz).square().sum() / (valley_samples - 1);
      pt.msd_cv = md + mz;
      pt.msd_cv_se = std::sqrt(vd / n_env + vz / valley_samples);
      pt.valley = s4 * mz / std::pow(r.ln_t[i], 4);
      env_term.emplace_back(d.data(), d.data() + n_env);
      mean_term.push_back(md);
    } else {
      env_term.emplace_back(y.data(), y.data() + n_env);
      mean_term.push_back(pt.msd);
    }
    out.points.push_back(pt);
    ++point;
  }
  // <x^2>^(1/4) = A (ln t - c): least squares on the late times; jackknife over the exact environments.
  std::vector<double> lt, ycv, yval;
  for (const auto& p : out.points) {
    lt.push_back(p.ln_t);
    ycv.push_back(p.msd_cv);
    yval.push_back(p.valley * std::pow(p.ln_t, 4) / s4);
  }
  const auto [a, c] = fit_quartic_root(lt, ycv, fit_from);
  require(std::isfinite(a) && a > 0, "fit_from", fit_from, "must leave at least 3 times with ln t >= fit_from and <x^2> > 0");
  out.c = c;
  out.amplitude4 = s4 * std::pow(a, 4);
  std::vector<double> jack;
  for (std::uint32_t leave = 0; leave < n_env; ++leave) {
    std::vector<double> yj(lt.size());
    for (std::size_t i = 0; i < lt.size(); ++i) {
      // Removing environment `leave` from the mean of Y - Z (or of Y) changes the estimate by (mean - y_leave) / (n - 1).
      const double yl = env_term[i][leave];
      yj[i] = ycv[i] + (mean_term[i] - yl) / (n_env - 1);
    }
    jack.push_back(s4 * std::pow(fit_quartic_root(lt, yj, fit_from).first, 4));
  }
  double jm = 0, jv = 0;
  for (double v : jack) jm += v / n_env;
  for (double v : jack) jv += (v - jm) * (v - jm);
  out.amplitude4_se = std::sqrt(jv * (n_env - 1) / n_env);
  if (valley_samples >= 2) {
    const auto [av, cv] = fit_quartic_root(lt, yval, fit_from);
    out.valley_c = cv;
    out.valley_amplitude4 = s4 * std::pow(av, 4);
  }
  for (auto& p : out.points) {
    const double l4 = std::pow(p.ln_t - out.c, 4);
    p.ratio = p.ln_t > out.c ? s4 * p.msd_cv / l4 : std::nan("");
    p.ratio_se = p.ln_t > out.c ? s4 * p.msd_cv_se / l4 : std::nan("");
  }
  return out;
}

}  // namespace gengap::sim
