// Noisy gradient descent on continuous landscapes.
#include "gengap/sim/sgd.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "gengap/core/memory.hpp"
#include "gengap/sim/error.hpp"
#include "gengap/sim/philox.hpp"

namespace gengap::sim {

namespace {
void check(const SgdConfig& c) {
  require(c.landscapes >= 1, "landscapes", c.landscapes, "must be >= 1");
  require(c.walkers >= 1, "walkers", c.walkers, "must be >= 1");
  require(c.lr > 0 && std::isfinite(c.lr), "lr", c.lr, "must be > 0");
  require(c.momentum >= 0 && c.momentum < 1, "momentum", c.momentum, "must lie in [0, 1)");
  require(c.noise >= 0 && std::isfinite(c.noise), "noise", c.noise, "must be >= 0");
  require(c.batch >= 1, "batch", c.batch, "must be >= 1");
  require(c.temperature >= 0 && std::isfinite(c.temperature), "temperature", c.temperature, "must be >= 0");
  require(!c.times.empty(), "times", "[]", "need at least one recording time");
  for (std::size_t i = 0; i < c.times.size(); ++i)
    require(c.times[i] >= 1 && (i == 0 || c.times[i] > c.times[i - 1]), "times", c.times[i], "must be >= 1 and increasing");
}
}  // namespace

void check_sgd(const FourierFieldOptions& field, const SgdConfig& c, std::size_t runs) {
  FourierField::check_options(field);
  check(c);
  const double m = field.modes, d = field.dim, w = c.walkers;
  const unsigned hw_threads = std::max(1u, std::thread::hardware_concurrency());
  const double threads = std::min<double>(c.threads == 0 ? hw_threads : c.threads, c.landscapes);
  // Per thread: the modes, the M x walkers phases and sines of one evaluation, positions, velocities
  // and gradients; the results: four landscapes x times matrices.
  const double bytes = threads * (m * (d + 3) * 8 + 2 * m * w * 8 + 3 * d * w * 8) + 4.0 * c.landscapes * static_cast<double>(c.times.size()) * 8;
  core::require_memory("dim", std::to_string(field.dim) + " (modes " + std::to_string(field.modes) + ", walkers " +
                                  std::to_string(c.walkers) + ")",
                       bytes, "threads x (modes x (dim + 3) + 2 modes x walkers + 3 dim x walkers) x 8 B");
  // Work: two M x D by D x walkers products per step (4 M D flops per walker and step).
  const double flops = static_cast<double>(runs) * c.landscapes * w * static_cast<double>(c.times.back()) * 4 * m * d;
  require(flops <= 1e18, "t_max", c.times.back(),
          "with these sizes the run needs about " + to_text(flops) + " flops (more than a year of one machine); "
          "lower t_max, dim, modes, walkers or landscapes");
}

SgdResult run_sgd(const FieldFactory& make_field, const SgdConfig& c) {
  check(c);
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n_t = c.times.size();
  const std::uint64_t t_end = c.times.back();
  const double kick = std::sqrt(c.lr * c.lr * c.noise * c.noise / static_cast<double>(c.batch) + 2 * c.lr * c.temperature);
  // Per landscape and time: sums over its walkers.
  Eigen::MatrixXd dist(c.landscapes, n_t), sq(c.landscapes, n_t), val(c.landscapes, n_t), coord(c.landscapes, n_t);
  std::atomic<std::uint32_t> next{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  auto worker = [&] {
    try {
      for (std::uint32_t e = next++; e < c.landscapes && !failed; e = next++) {
        const std::unique_ptr<Field> f = make_field(e);
        require(f != nullptr, "field", "null", "the factory must return a field");
        const int d = f->dim();
        const Eigen::Index n = c.walkers;
        Eigen::MatrixXd w = Eigen::MatrixXd::Zero(d, n), v = Eigen::MatrixXd::Zero(d, n), g(d, n);
        Eigen::VectorXd values;
        const std::uint64_t blocks = (static_cast<std::uint64_t>(d) + 1) / 2;
        std::vector<Stream> streams;
        for (std::uint32_t i = 0; i < c.walkers; ++i) streams.emplace_back(c.seed, StreamPurpose::kNoise, i, e);
        std::size_t k = 0;
        for (std::uint64_t t = 1; t <= t_end; ++t) {
          const bool record = t == c.times[k];
          f->evaluate(w, nullptr, &g);
          v = c.momentum * v - c.lr * g;
          if (kick > 0)
            for (Eigen::Index i = 0; i < n; ++i) {
              const Stream& s = streams[static_cast<std::size_t>(i)];
              for (std::uint64_t b = 0; b < blocks; ++b) {
                const auto z = to_normal2(s((t - 1) * blocks + b));
                const auto r = static_cast<Eigen::Index>(2 * b);
                v(r, i) += kick * z[0];
                if (r + 1 < d) v(r + 1, i) += kick * z[1];
              }
            }
          w += v;
          if (record) {
            f->evaluate(w, &values, nullptr);
            const Eigen::VectorXd r2 = w.colwise().squaredNorm().transpose();
            dist(e, static_cast<Eigen::Index>(k)) = r2.array().sqrt().sum();
            sq(e, static_cast<Eigen::Index>(k)) = r2.sum();
            val(e, static_cast<Eigen::Index>(k)) = values.sum();
            coord(e, static_cast<Eigen::Index>(k)) = r2.sum() / d;
            ++k;
          }
          if (t % 256 == 0) {
            done += 256 * c.walkers;
            if (failed) return;  // another landscape failed, or the caller asked to stop
          }
        }
        done += (t_end % 256) * c.walkers;
      }
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  unsigned nth = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  nth = std::min<unsigned>(nth, c.landscapes);
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < nth; ++i) pool.emplace_back(worker);
  const double total = static_cast<double>(t_end) * c.walkers * c.landscapes;
  std::exception_ptr stopped;  // thrown by progress: the caller asks to stop
  if (c.progress) {
    while (done.load() < static_cast<std::uint64_t>(total) && !failed) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      try {
        c.progress(static_cast<double>(done.load()) / total);
      } catch (...) {
        stopped = std::current_exception();
        failed = true;
      }
    }
  }
  for (auto& th : pool) th.join();
  if (stopped) std::rethrow_exception(stopped);
  if (error) std::rethrow_exception(error);
  SgdResult r;
  r.times = c.times;
  const double nw = static_cast<double>(c.walkers);
  r.env_distance = dist / nw;
  const double all = nw * c.landscapes;
  for (std::size_t k = 0; k < n_t; ++k) {
    const auto kk = static_cast<Eigen::Index>(k);
    r.mean_distance.push_back(dist.col(kk).sum() / all);
    r.msd.push_back(sq.col(kk).sum() / all);
    r.mean_value.push_back(val.col(kk).sum() / all);
    r.coordinate_variance.push_back(coord.col(kk).sum() / all);
  }
  r.steps = static_cast<std::uint64_t>(total);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<BatchRun> run_batch_sweep(const FourierFieldOptions& field, const SgdConfig& base, double lr_small,
                                      std::int64_t small_batch, const std::vector<std::int64_t>& batches, bool sqrt_scaling,
                                      const std::function<void(std::int64_t, double)>& progress) {
  require(!batches.empty(), "batch_sizes", "[]", "need at least one batch size");
  require(small_batch >= 1, "small_batch", small_batch, "must be >= 1");
  {
    SgdConfig c = base;
    c.lr = lr_small;
    c.batch = small_batch;
    check_sgd(field, c, batches.size());
  }
  std::vector<BatchRun> out;
  for (auto b : batches) {
    require(b >= 1, "batch_sizes", b, "every batch size must be >= 1");
    SgdConfig c = base;
    c.batch = b;
    c.lr = lr_small * (sqrt_scaling ? std::sqrt(static_cast<double>(b) / static_cast<double>(small_batch)) : 1.0);
    c.progress = nullptr;
    if (progress) c.progress = [&progress, b](double f) { progress(b, f); };
    out.push_back({b, c.lr,
                   run_sgd(
                       [&field](std::uint32_t i) {
                         FourierFieldOptions o = field;
                         o.index = i;
                         return std::make_unique<FourierField>(o);
                       },
                       c)});
    if (progress) progress(b, 1.0);
  }
  return out;
}

void to_json(nlohmann::json& j, const SgdResult& r) {
  j = {{"times", r.times},       {"mean_distance", r.mean_distance}, {"msd", r.msd},
       {"mean_value", r.mean_value}, {"coordinate_variance", r.coordinate_variance},
       {"steps", r.steps},       {"seconds", r.seconds}};
}

}  // namespace gengap::sim
