// The ensemble runner: lanes of walkers stepped together, Philox streams per walker.
#include "gengap/sim/ensemble.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "gengap/core/memory.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/hop_table.hpp"
#include "gengap/sim/philox.hpp"
#include "gengap/sim/times.hpp"
#include "walk_kernels.hpp"

namespace gengap::sim {
namespace {

using detail::kMaxLanes;                   // walkers a kernel steps together: at most this many
constexpr std::int64_t kMinMargin = 256;   // grow a window when a walker gets this close to its edge
constexpr std::uint64_t kMaxTime = std::uint64_t{1} << 32;

/// One environment's landscape and hop table, grown on demand.
struct Env {
  std::uint64_t index = 0;
  std::int64_t hw = 0;
  HopTable table;
};

double window_bytes(std::int64_t hw);

/// Environments per work item: enough to fill the kernel's lanes, but never so many that a thread
/// is left without work, nor that one work item's windows (half-width hw0) hold more than 256 MiB.
/// The grouping does not change the results, only the speed.
std::uint32_t group_size(int lanes, const EnsembleConfig& cfg, std::uint32_t n_env, std::int64_t hw0) {
  const unsigned threads = cfg.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : cfg.threads;
  const std::uint32_t fill = static_cast<std::uint32_t>(lanes) / cfg.walkers_per_env;
  const std::uint32_t share = (n_env + threads - 1) / threads;
  const auto memory = static_cast<std::uint32_t>(std::min(1e6, 256.0 * 1024 * 1024 / window_bytes(hw0)));
  return std::max<std::uint32_t>(1, std::min({fill, share, memory}));
}

void build(Env& env, const Potential& pot, const Dynamics& dyn, const EnsembleConfig& cfg, std::int64_t hw) {
  if (hw > cfg.max_half_width) {
    throw RuntimeError("environment " + std::to_string(env.index) + ": a walker needs a window of half-width " +
                       std::to_string(hw) + " > max_half_width = " + std::to_string(cfg.max_half_width));
  }
  if (window_bytes(hw) > core::memory_budget_bytes()) {
    throw RuntimeError("environment " + std::to_string(env.index) + ": a walker needs a window of half-width " + std::to_string(hw) +
                       ", about " + core::format_bytes(window_bytes(hw)) + " of memory, more than this machine has");
  }
  env.hw = hw;
  env.table = HopTable(pot.sample(cfg.seed, env.index, hw), dyn, cfg.temperature);
}

/// Per-run shared state.
struct Run {
  const Potential& pot;
  const Dynamics& dyn;
  const EnsembleConfig& cfg;
  detail::WalkKernel kernel;  // the inner loop, chosen from cfg.simd and the CPU
  std::size_t n_times;
  std::int64_t hw0;
  // Per (env, time) sums over the env's walkers; written by the one thread owning the env.
  std::vector<double> sum_x, sum_x2, sum_abs;
  std::uint32_t env_begin, env_end;    // the environments this run simulates (a shard: a part of them)
  std::vector<std::int32_t> recorded;  // [time][walker of the range] when quantiles are asked for
  std::vector<std::int32_t> final_pos;
  std::atomic<std::uint64_t> steps_done{0};
  std::atomic<std::int64_t> largest_hw{0};
  std::atomic<bool> abort{false};
};

/// Simulates the environments [e0, e1) with all their walkers.
void simulate_group(Run& run, std::uint32_t e0, std::uint32_t e1) {
  const EnsembleConfig& cfg = run.cfg;
  const std::uint32_t W = cfg.walkers_per_env;
  std::vector<Env> envs(e1 - e0);
  for (std::uint32_t e = e0; e < e1; ++e) {
    envs[e - e0].index = e;
    build(envs[e - e0], run.pot, run.dyn, cfg, run.hw0);
  }
  const std::uint64_t total = std::uint64_t{e1 - e0} * W;
  const std::uint64_t n_walkers_all = std::uint64_t{run.env_end - run.env_begin} * W;
  const int lanes = run.kernel.lanes;
  detail::LaneStreams rng;
  rng.key0 = static_cast<std::uint32_t>(cfg.seed);
  rng.key1 = static_cast<std::uint32_t>(cfg.seed >> 32);
  rng.purpose = static_cast<std::uint32_t>(StreamPurpose::kWalk) << 24;

  for (std::uint64_t first = 0; first < total; first += static_cast<std::uint64_t>(lanes)) {
    // Lanes past the last walker repeat it (same stream, same path); only `active` lanes are recorded.
    const int active = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(lanes), total - first));
    int env_of[kMaxLanes];
    std::int32_t pos[kMaxLanes];
    const HopThresholds* origin[kMaxLanes];
    for (int l = 0; l < lanes; ++l) {
      const std::uint64_t id = first + static_cast<std::uint64_t>(std::min(l, active - 1));
      env_of[l] = static_cast<int>(id / W);
      rng.walker[l] = static_cast<std::uint32_t>(id % W);
      rng.env[l] = e0 + static_cast<std::uint32_t>(id / W);
      pos[l] = 0;
      origin[l] = envs[static_cast<std::size_t>(env_of[l])].table.origin();
    }
    std::uint64_t t = 0;
    for (std::size_t r = 0; r < run.n_times; ++r) {
      const std::uint64_t target = cfg.times[r];
      while (t < target) {
        if (run.abort.load(std::memory_order_relaxed)) return;
        // Steps allowed before any walker could reach its window's edge.
        std::int64_t margin = INT64_MAX;
        for (int l = 0; l < active; ++l) {
          Env& env = envs[static_cast<std::size_t>(env_of[l])];
          std::int64_t d = env.hw - std::abs(static_cast<std::int64_t>(pos[l]));
          if (d < kMinMargin) {
            if (!run.pot.extendable()) {
              throw RuntimeError("environment " + std::to_string(env.index) + ": a walker reached x = " +
                                 std::to_string(pos[l]) + ", within " + std::to_string(d) +
                                 " sites of the edge of the window [-" + std::to_string(env.hw) + ", " +
                                 std::to_string(env.hw) + "] of a potential that cannot grow (" + run.pot.name() +
                                 "); rerun with a larger half_width");
            }
            std::int64_t hw = env.hw;
            while (hw - std::abs(static_cast<std::int64_t>(pos[l])) < 4 * kMinMargin) hw *= 2;
            build(env, run.pot, run.dyn, cfg, hw);
            for (int m = 0; m < lanes; ++m) origin[m] = envs[static_cast<std::size_t>(env_of[m])].table.origin();
            d = env.hw - std::abs(static_cast<std::int64_t>(pos[l]));
          }
          margin = std::min(margin, d - 1);
        }
        const std::uint64_t n = std::min<std::uint64_t>(target - t, static_cast<std::uint64_t>(margin));
        const std::uint64_t end = t + n;
        // Each lane holds a pointer to its current site's thresholds: one load and two compares a step.
        const HopThresholds* p[kMaxLanes];
        for (int l = 0; l < lanes; ++l) p[l] = origin[l] + pos[l];
        if (n > 0) run.kernel.advance(rng, p, t, end);
        t = end;
        for (int l = 0; l < lanes; ++l) pos[l] = static_cast<std::int32_t>(p[l] - origin[l]);
        run.steps_done.fetch_add(n * static_cast<std::uint64_t>(active), std::memory_order_relaxed);
      }
      for (int l = 0; l < active; ++l) {
        const std::size_t e = rng.env[l] - run.env_begin;
        const double x = pos[l];
        run.sum_x[e * run.n_times + r] += x;
        run.sum_x2[e * run.n_times + r] += x * x;
        run.sum_abs[e * run.n_times + r] += std::abs(x);
        const std::uint64_t id = std::uint64_t{rng.env[l] - run.env_begin} * W + rng.walker[l];
        if (!run.recorded.empty()) run.recorded[r * n_walkers_all + id] = pos[l];
        if (r + 1 == run.n_times && !run.final_pos.empty()) run.final_pos[id] = pos[l];
      }
    }
  }
  std::int64_t hw_max = 0;
  for (const Env& env : envs) hw_max = std::max(hw_max, env.hw);
  std::int64_t prev = run.largest_hw.load();
  while (prev < hw_max && !run.largest_hw.compare_exchange_weak(prev, hw_max)) {
  }
}

double quantile_sorted(const std::vector<std::int32_t>& s, double q) {
  // Linear interpolation between order statistics (type 7, as R and NumPy default).
  const double h = (static_cast<double>(s.size()) - 1) * q;
  const auto i = static_cast<std::size_t>(std::floor(h));
  const std::size_t j = std::min(i + 1, s.size() - 1);
  return s[i] + (h - static_cast<double>(i)) * (s[j] - s[i]);
}

}  // namespace

double theory_sigma2(const Potential& potential, double temperature) {
  require(temperature >= 1e-6 && temperature <= 1e6, "temperature", temperature, "must lie in [1e-6, 1e6]");
  return potential.increment_variance() / (temperature * temperature);
}

namespace {

/// Bytes a window of half-width hw holds while it is built: the potential, the hop table and the
/// sampler's workspace (fBm's circulant embedding: an FFT of twice the window).
double window_bytes(std::int64_t hw) { return static_cast<double>(2 * hw + 1) * 64.0; }

/// Validates the configuration and the range [env_begin, env_end) of environments to simulate, and
/// returns the initial window half-width; refuses a request whose memory estimate (for the range)
/// exceeds the machine's.
std::int64_t prepare(const Potential& potential, const EnsembleConfig& cfg, std::uint32_t env_begin, std::uint32_t env_end) {
  require(cfg.environments >= 1, "environments", cfg.environments, "must be >= 1");
  require(env_begin < env_end && env_end <= cfg.environments, "environment range",
          "[" + std::to_string(env_begin) + ", " + std::to_string(env_end) + ")",
          "must be a non-empty part of [0, " + std::to_string(cfg.environments) + ")");
  require(cfg.walkers_per_env >= 1, "walkers", cfg.walkers_per_env, "must be >= 1");
  require(cfg.temperature >= 1e-6 && cfg.temperature <= 1e6, "temperature", cfg.temperature, "must lie in [1e-6, 1e6]");
  check_times(cfg.times);
  require(cfg.times.back() <= kMaxTime, "times", cfg.times.back(),
          "must be <= 2^32 (hop probabilities are resolved to 2^-32; use the exact solver for longer times)");
  require(cfg.half_width == 0 || cfg.half_width > kMinMargin, "half_width", cfg.half_width,
          "must be 0 (automatic) or > 256 (walkers keep 256 sites from the edge)");
  require(cfg.max_half_width >= kMinMargin * 4, "max_half_width", cfg.max_half_width, "must be >= 1024");
  require(cfg.quantile_levels.size() <= kMaxQuantileLevels, "quantiles", std::to_string(cfg.quantile_levels.size()) + " levels",
          "at most " + std::to_string(kMaxQuantileLevels) + " levels");
  for (double q : cfg.quantile_levels) require(q > 0 && q < 1, "quantiles", q, "levels must lie in (0, 1)");
  require(std::uint64_t{cfg.environments} * cfg.walkers_per_env <= (std::uint64_t{1} << 32), "walkers",
          std::uint64_t{cfg.environments} * cfg.walkers_per_env, "environments x walkers must be <= 2^32");
  const std::uint32_t n_env = env_end - env_begin;  // what this run holds
  const std::uint64_t n_walkers = std::uint64_t{n_env} * cfg.walkers_per_env;
  std::int64_t hw0 = 0;
  if (cfg.half_width > 0) {
    hw0 = cfg.half_width;
  } else if (potential.extendable()) {
    hw0 = 1024;
  } else {
    // Reach of the ultra-slow law, (T ln t / s)^(2/alpha), times a safety factor of 8, capped at
    // kAutoWindowCap (an FFT of 2^24 complex values, 256 MiB, per environment): a larger window must
    // be asked for explicitly; a walker reaching the edge stops the run with an error saying so.
    constexpr std::int64_t kAutoWindowCap = std::int64_t{1} << 22;
    const double s = std::sqrt(potential.increment_variance());
    // Never more than 10 sqrt(t): free diffusion's reach, which a random potential only slows
    // (matters for small alpha, where (ln t)^(2/alpha) explodes long before it applies).
    const double t_max = static_cast<double>(cfg.times.back());
    const double reach = std::min(std::pow(cfg.temperature * std::log(t_max + 1) / s, 2.0 / potential.alpha()),
                                  10 * std::sqrt(t_max));
    const double want = std::min(8 * reach + 4 * kMinMargin, static_cast<double>(kAutoWindowCap));
    hw0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(want), 1024, std::min(kAutoWindowCap, cfg.max_half_width));
  }
  require(hw0 <= cfg.max_half_width, "half_width", hw0, "must be <= max_half_width");
  // Memory: per (environment, time) sums and the result matrix; recorded positions for quantiles;
  // final positions; the windows that the threads hold at once.
  const double n_t = static_cast<double>(cfg.times.size());
  const double cells = static_cast<double>(n_env) * n_t * 32.0;
  const double levels = static_cast<double>(cfg.quantile_levels.size());
  // Recorded positions, the quantile table (8 B per cell, and about 32 B per cell once written as JSON)
  // and the sorted copy of one time's positions.
  const double recorded = cfg.quantile_levels.empty() ? 0.0 : n_t * static_cast<double>(n_walkers) * 8.0 + n_t * levels * 40.0 + levels * 8.0 +
                                                               static_cast<double>(n_walkers) * 8.0;
  const double positions = cfg.keep_positions ? static_cast<double>(n_walkers) * 8.0 : 0.0;
  const std::uint32_t per_group = group_size(detail::walk_kernel(cfg.simd).lanes, cfg, n_env, hw0);
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const double groups = std::ceil(static_cast<double>(n_env) / per_group);
  const double threads = std::min<double>(cfg.threads == 0 ? hw_threads : cfg.threads, groups);
  const double windows = threads * per_group * window_bytes(hw0);
  const std::string value = std::to_string(n_env) + " x " + std::to_string(cfg.walkers_per_env) + " walkers, half_width " +
                            std::to_string(hw0);
  core::require_memory(cfg.half_width > 0 ? "half_width" : "environments", cfg.half_width > 0 ? std::to_string(cfg.half_width) : value,
                       cells + recorded + positions + windows,
                       "environments x times x 32 B" + std::string(recorded > 0 ? " + times x (walkers + levels x 5) x 8 B for quantiles" : "") +
                           " + threads x (2 half_width + 1) x 64 B for the windows");
  return hw0;
}

}  // namespace

void check_ensemble(const Potential& potential, const EnsembleConfig& cfg) { (void)prepare(potential, cfg, 0, cfg.environments); }

void check_ensemble(const Potential& potential, const EnsembleConfig& cfg, std::uint32_t env_begin, std::uint32_t env_end) {
  (void)prepare(potential, cfg, env_begin, env_end);
}

EnsemblePart run_ensemble_part(const Potential& potential, const Dynamics& dynamics, const EnsembleConfig& cfg, std::uint32_t env_begin,
                               std::uint32_t env_end) {
  const std::int64_t hw0 = prepare(potential, cfg, env_begin, env_end);
  const std::uint32_t n_env = env_end - env_begin;
  const std::uint64_t n_walkers = std::uint64_t{n_env} * cfg.walkers_per_env;
  Run run{potential, dynamics, cfg, detail::walk_kernel(cfg.simd), cfg.times.size(), hw0, {}, {}, {}, env_begin, env_end, {}, {}, {}, {}, {}};
  const std::size_t cells = std::size_t{n_env} * run.n_times;
  run.sum_x.assign(cells, 0);
  run.sum_x2.assign(cells, 0);
  run.sum_abs.assign(cells, 0);
  if (!cfg.quantile_levels.empty()) run.recorded.assign(run.n_times * n_walkers, 0);
  if (cfg.keep_positions) run.final_pos.assign(n_walkers, 0);

  // Work items: groups of environments holding at least one kernel's lanes of walkers, handed out in order.
  const std::uint32_t per_group = group_size(run.kernel.lanes, cfg, n_env, hw0);
  const std::uint32_t n_groups = (n_env + per_group - 1) / per_group;
  std::atomic<std::uint32_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (;;) {
      const std::uint32_t g = next.fetch_add(1);
      if (g >= n_groups || run.abort.load()) return;
      try {
        simulate_group(run, env_begin + g * per_group, env_begin + std::min(n_env, (g + 1) * per_group));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        run.abort = true;
        return;
      }
    }
  };
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const unsigned n_threads = std::min<unsigned>(cfg.threads == 0 ? hw_threads : cfg.threads, n_groups);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < n_threads; ++i) pool.emplace_back(worker);
  const double total_steps = static_cast<double>(n_walkers) * static_cast<double>(cfg.times.back());
  std::exception_ptr stopped;  // thrown by progress: the caller asks to stop
  if (cfg.progress) {
    std::atomic<bool> finished{false};
    std::thread joiner([&] {
      for (auto& th : pool) th.join();
      finished = true;
    });
    while (!finished.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (stopped) continue;
      try {
        cfg.progress(static_cast<double>(run.steps_done.load()) / total_steps);
      } catch (...) {
        stopped = std::current_exception();
        run.abort = true;  // the walkers stop within one stretch of steps (at most a window's width)
      }
    }
    joiner.join();
  } else {
    for (auto& th : pool) th.join();
  }
  if (stopped) std::rethrow_exception(stopped);
  if (error) std::rethrow_exception(error);

  EnsemblePart part;
  part.env_begin = env_begin;
  part.env_end = env_end;
  part.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  part.walker_steps = run.steps_done.load();
  part.simd = run.kernel.path;
  part.largest_half_width = run.largest_hw.load();
  part.sum_x = std::move(run.sum_x);
  part.sum_x2 = std::move(run.sum_x2);
  part.sum_abs = std::move(run.sum_abs);
  part.recorded = std::move(run.recorded);
  part.final_positions = std::move(run.final_pos);
  return part;
}

void check_ensemble_parts(const EnsembleConfig& cfg, const std::vector<EnsemblePart>& parts) {
  const std::size_t n_t = cfg.times.size();
  std::uint32_t next = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const EnsemblePart& p = parts[k];
    const std::string which = "part " + std::to_string(k);
    require(p.env_begin == next && p.env_end > p.env_begin && p.env_end <= cfg.environments, which,
            "[" + std::to_string(p.env_begin) + ", " + std::to_string(p.env_end) + ")",
            "the parts must cover [0, " + std::to_string(cfg.environments) + ") in order; expected one starting at " + std::to_string(next));
    const std::size_t n_env = p.env_end - p.env_begin;
    const std::size_t n_walk = n_env * cfg.walkers_per_env;
    require(p.sum_x.size() == n_env * n_t && p.sum_x2.size() == n_env * n_t && p.sum_abs.size() == n_env * n_t, which,
            p.sum_x2.size(), "must hold environments x times = " + std::to_string(n_env * n_t) + " sums");
    require(p.recorded.size() == (cfg.quantile_levels.empty() ? 0 : n_walk * n_t), which, p.recorded.size(),
            "recorded positions: must hold walkers x times (with quantile levels) or none");
    require(p.final_positions.size() == (cfg.keep_positions ? n_walk : 0), which, p.final_positions.size(),
            "final positions: must hold one per walker (keep_positions) or none");
    next = p.env_end;
  }
  require(next == cfg.environments, "parts", next, "cover only [0, " + std::to_string(next) + ") of " + std::to_string(cfg.environments) + " environments");
}

EnsembleResult combine_ensemble(const Potential& potential, const EnsembleConfig& cfg, const std::vector<EnsemblePart>& parts) {
  check_ensemble_parts(cfg, parts);
  const std::size_t n_times = cfg.times.size();
  const std::uint64_t n_walkers = std::uint64_t{cfg.environments} * cfg.walkers_per_env;
  EnsembleResult res;
  res.times = cfg.times;
  res.sigma2 = theory_sigma2(potential, cfg.temperature);
  res.alpha = potential.alpha();
  res.simd = parts.front().simd;
  for (const EnsemblePart& p : parts) {
    res.seconds += p.seconds;
    res.walker_steps += p.walker_steps;
    res.largest_half_width = std::max(res.largest_half_width, p.largest_half_width);
  }
  const double W = cfg.walkers_per_env;
  const double N = static_cast<double>(n_walkers);
  res.env_msd.resize(cfg.environments, static_cast<Eigen::Index>(n_times));
  res.mean_x.assign(n_times, 0);
  res.msd.assign(n_times, 0);
  res.mean_abs.assign(n_times, 0);
  // Environment by environment in index order, whatever the parts: the sums are the same bits as one run's.
  for (const EnsemblePart& p : parts) {
    for (std::size_t e = p.env_begin; e < p.env_end; ++e) {
      for (std::size_t r = 0; r < n_times; ++r) {
        const std::size_t c = (e - p.env_begin) * n_times + r;
        res.env_msd(static_cast<Eigen::Index>(e), static_cast<Eigen::Index>(r)) = p.sum_x2[c] / W;
        res.mean_x[r] += p.sum_x[c];
        res.msd[r] += p.sum_x2[c];
        res.mean_abs[r] += p.sum_abs[c];
      }
    }
  }
  for (std::size_t r = 0; r < n_times; ++r) {
    res.mean_x[r] /= N;
    res.msd[r] /= N;
    res.mean_abs[r] /= N;
  }
  res.quantile_levels = cfg.quantile_levels;
  res.quantiles.resize(static_cast<Eigen::Index>(n_times), static_cast<Eigen::Index>(cfg.quantile_levels.size()));
  if (!cfg.quantile_levels.empty()) {
    std::vector<std::int32_t> s(n_walkers);
    for (std::size_t r = 0; r < n_times; ++r) {
      auto out = s.begin();
      for (const EnsemblePart& p : parts) {
        const std::size_t n_walk = std::size_t{p.env_end - p.env_begin} * cfg.walkers_per_env;
        out = std::copy_n(p.recorded.begin() + static_cast<std::ptrdiff_t>(r * n_walk), n_walk, out);
      }
      std::sort(s.begin(), s.end());
      for (std::size_t q = 0; q < cfg.quantile_levels.size(); ++q) {
        res.quantiles(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(q)) = quantile_sorted(s, cfg.quantile_levels[q]);
      }
    }
  }
  if (cfg.keep_positions)
    for (const EnsemblePart& p : parts) res.final_positions.insert(res.final_positions.end(), p.final_positions.begin(), p.final_positions.end());
  return res;
}

EnsembleResult run_ensemble(const Potential& potential, const Dynamics& dynamics, const EnsembleConfig& cfg) {
  std::vector<EnsemblePart> one;
  one.push_back(run_ensemble_part(potential, dynamics, cfg, 0, cfg.environments));
  return combine_ensemble(potential, cfg, one);
}

}  // namespace gengap::sim
