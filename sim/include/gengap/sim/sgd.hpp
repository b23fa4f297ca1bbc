/// @file sgd.hpp
/// @brief Noisy gradient descent on a continuous landscape: SGD with batch-size dependent gradient
/// noise (optionally with momentum) and overdamped Langevin dynamics, many walkers per landscape and
/// many landscapes, recording how far the walkers get at log-spaced times.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "gengap/sim/field.hpp"

namespace gengap::sim {

/// What to simulate. Every field is checked by run_sgd().
///
/// One step, for every walker (all start at w = 0, v = 0):
///   v <- mu v - lr grad V(w) + sqrt(lr^2 noise^2 / B + 2 lr T) xi,   w <- w + v,
/// with xi standard normal in R^D, drawn from the walker's own Philox stream. With mu = 0 this is
/// SGD, w <- w - lr (grad V + noise xi / sqrt(B)), plus the Langevin term sqrt(2 lr T) xi when T > 0.
struct SgdConfig {
  std::uint32_t landscapes = 8;   ///< independent landscapes (disorder samples), >= 1
  std::uint32_t walkers = 4;      ///< walkers per landscape, >= 1
  double lr = 0.1;                ///< learning rate (step size), > 0
  double momentum = 0;            ///< heavy-ball momentum mu, in [0, 1)
  double noise = 1.0;             ///< std per coordinate of one sample's gradient noise, >= 0
  std::int64_t batch = 1;         ///< batch size B >= 1: the batch gradient's noise is noise / sqrt(B)
  double temperature = 0;         ///< Langevin temperature T >= 0 (0 = SGD noise only)
  std::vector<std::uint64_t> times;  ///< recording times (steps), increasing, >= 1
  std::uint64_t seed = 1;         ///< seeds the noise (the landscapes have their own seed)
  unsigned threads = 0;           ///< worker threads; 0 = all hardware threads
  /// Called on the calling thread about 5 times a second with the fraction of steps done. An
  /// exception it throws stops the run (within 256 steps) and is rethrown by run_sgd().
  std::function<void(double)> progress;
};

/// What was recorded, at each time of SgdConfig::times.
struct SgdResult {
  std::vector<std::uint64_t> times;      ///< the recording times
  std::vector<double> mean_distance;     ///< E |w_t - w_0| over all walkers
  std::vector<double> msd;               ///< E |w_t - w_0|^2
  std::vector<double> mean_value;        ///< E V(w_t)
  std::vector<double> coordinate_variance;  ///< E w_{t,i}^2 over walkers and coordinates
  Eigen::MatrixXd env_distance;          ///< landscapes x times: E |w_t - w_0| over the landscape's walkers
  std::uint64_t steps = 0;               ///< walker steps done
  double seconds = 0;                    ///< wall-clock time
};

/// Makes landscape number i (0-based); called once per landscape, possibly from several threads.
using FieldFactory = std::function<std::unique_ptr<Field>(std::uint32_t)>;

/// Runs the dynamics. Landscapes are spread over threads; results are bitwise the same for any
/// number of threads. @throws InvalidArgument for a bad setting (named in the message)
SgdResult run_sgd(const FieldFactory& make_field, const SgdConfig& config);

/// Checks a request on Fourier landscapes before any work: the field's options and `config`, the
/// memory (modes, per-thread workspaces, results) against the machine's, and the work of `runs` runs
/// (at most 1e18 flops). @throws InvalidArgument naming the field, the value and the estimate
void check_sgd(const FourierFieldOptions& field, const SgdConfig& config, std::size_t runs = 1);

/// One batch size of a sweep.
struct BatchRun {
  std::int64_t batch = 0;  ///< B
  double lr = 0;           ///< the learning rate used
  SgdResult result;        ///< what run_sgd() recorded
};

/// The batch-size experiment in silico: for each B in `batches`, run_sgd() on the same Fourier
/// landscapes (landscape i is `field` with index i) with lr = lr_small sqrt(B / small_batch) when
/// `sqrt_scaling`, else lr_small; every other setting comes from `base` (its lr, batch and progress
/// are replaced). `progress(B, fraction)` is called on the calling thread.
/// @throws InvalidArgument for a bad setting (named in the message)
std::vector<BatchRun> run_batch_sweep(const FourierFieldOptions& field, const SgdConfig& base, double lr_small,
                                      std::int64_t small_batch, const std::vector<std::int64_t>& batches, bool sqrt_scaling,
                                      const std::function<void(std::int64_t, double)>& progress = {});

/// JSON of a result: times, mean_distance, msd, mean_value, coordinate_variance, steps, seconds.
void to_json(nlohmann::json& j, const SgdResult& r);

}  // namespace gengap::sim
