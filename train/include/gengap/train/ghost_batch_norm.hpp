/// @file ghost_batch_norm.hpp
/// @brief Ghost Batch Normalization (Hoffer et al. 2017, Algorithm 1) as LibTorch modules, used
/// exactly like torch::nn::BatchNorm1d / BatchNorm2d and state_dict-compatible with them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace gengap::train {

/// Options of GhostBatchNorm1d / GhostBatchNorm2d: those of torch::nn::BatchNormOptions plus the
/// ghost batch size.
///
/// Example: `GhostBatchNorm2d(GhostBatchNormOptions(64).ghost_batch_size(128).momentum(0.1))`.
struct GhostBatchNormOptions {
  /// @param num_features number of channels C of the input [N, C, ...]
  /* implicit */ GhostBatchNormOptions(int64_t num_features) : num_features_(num_features) {}
  /// Number of channels C (the input is [N, C] or [N, C, L] for 1d, [N, C, H, W] for 2d).
  TORCH_ARG(int64_t, num_features);
  /// Samples per ghost batch (|B_S| in the paper, 128 there). A batch of at most this many samples
  /// is normalized as one, exactly like plain batch norm. Changing it after construction takes effect
  /// at the next forward().
  TORCH_ARG(int64_t, ghost_batch_size) = 128;
  /// Added to the variance for numerical stability.
  TORCH_ARG(double, eps) = 1e-5;
  /// Running-statistics momentum per ghost batch; nullopt = cumulative average, as in BatchNorm.
  TORCH_ARG(c10::optional<double>, momentum) = 0.1;
  /// Learnable per-channel scale (weight) and shift (bias), shared by all ghost batches.
  TORCH_ARG(bool, affine) = true;
  /// Keep running_mean / running_var / num_batches_tracked buffers (used in evaluation).
  TORCH_ARG(bool, track_running_stats) = true;
};

/// The ghost-batch split of a batch of n samples: the sizes of its ghost batches, in order.
///
/// The rule: ghost batches of `ghost` samples from the start of the batch; a remainder of r >= 2
/// samples forms a last, smaller ghost batch; a remainder of one sample joins the previous ghost
/// batch (so a ghost batch of one sample never reaches the normalization, which would divide by a
/// zero variance). n <= ghost gives one ghost batch: plain batch norm.
std::vector<int64_t> ghost_split(int64_t n, int64_t ghost);

/// Ghost batch norm as one function: what the modules' forward runs, and the PyTorch operator
/// `torch.ops.gengap.ghost_batch_norm` (python/src/torch_ops.cpp, `gengap.torch`).
///
/// `input` is [N, C, ...]; weight and bias ([C]) may be undefined (affine = false); running_mean and
/// running_var ([C]) may both be undefined (track_running_stats = false); num_batches_tracked (a
/// 0-dim int64 tensor) may be undefined unless momentum is nullopt (a cumulative average).
/// training: split by ghost_split(input.size(0), ghost_batch_size) and normalized per ghost batch,
/// the running statistics updated in place as GhostBatchNormImplBase describes; otherwise plain
/// batch norm with the running statistics (or, without them, the batch's). A channels-last 4-D input
/// gives a channels-last output. Throws c10::Error for fewer than 2 dimensions, ghost_batch_size < 1
/// or parameters with another channel count than the input.
torch::Tensor ghost_batch_norm(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& running_mean, const torch::Tensor& running_var,
                               const torch::Tensor& num_batches_tracked, bool training, c10::optional<double> momentum, double eps,
                               int64_t ghost_batch_size);

/// Shared implementation of the 1d and 2d modules.
///
/// Training: the batch is split by ghost_split(); each ghost batch X_l is normalized with its own
/// mean and biased variance, (X_l - mu_l) / sqrt(var_l + eps) * weight + bias. All ghost batches of
/// the common size are normalized at once, not by running the model once per chunk: the input is
/// viewed without a copy as [G, ghost, C, spatial], reduced over the ghost and spatial dimensions,
/// and normalized with one fused multiply-add; the backward pass is written out by hand (two
/// reductions and one fused pass), as in native batch norm.
/// The running statistics are updated as if each ghost batch had been its own BatchNorm step, in
/// order: with k ghost batches and momentum m,
/// run <- (1-m)^k run + sum_i m (1-m)^(k-1-i) stat_i (unbiased variance, like BatchNorm), and
/// num_batches_tracked grows by k.
/// Evaluation: plain batch norm with the running statistics; the batch is never split.
template <size_t D, typename Derived>
class GhostBatchNormImplBase : public torch::nn::Cloneable<Derived> {
 public:
  /// Builds the module.
  explicit GhostBatchNormImplBase(const GhostBatchNormOptions& options_) : options(options_) { reset(); }
  /// (Re)creates parameters and buffers, as torch::nn::BatchNorm does.
  void reset() override;
  /// Sets weight = 1, bias = 0 and resets the running statistics.
  void reset_parameters();
  /// Zeroes running_mean, sets running_var = 1 and num_batches_tracked = 0.
  void reset_running_stats();
  /// Normalizes `input` ([N, C, ...]); see the class description.
  torch::Tensor forward(const torch::Tensor& input);
  /// Prints `GhostBatchNorm2d(64, ghost_batch_size=128, eps=1e-05, momentum=0.1, ...)`.
  void pretty_print(std::ostream& stream) const override;

  /// The options the module was built with (changing ghost_batch_size takes effect at once).
  GhostBatchNormOptions options;
  /// Per-channel scale, [C] (when affine).
  torch::Tensor weight;
  /// Per-channel shift, [C] (when affine).
  torch::Tensor bias;
  /// Running mean, [C] (when track_running_stats).
  torch::Tensor running_mean;
  /// Running unbiased variance, [C] (when track_running_stats).
  torch::Tensor running_var;
  /// Number of ghost batches seen in training (when track_running_stats), a 0-dim int64 tensor.
  torch::Tensor num_batches_tracked;

 protected:
  /// Throws c10::Error unless the input has a dimension this module accepts.
  virtual void check_input_dim(const torch::Tensor& input) const = 0;
};

/// Ghost batch norm over [N, C] or [N, C, L] inputs, the counterpart of torch::nn::BatchNorm1d.
class GhostBatchNorm1dImpl : public GhostBatchNormImplBase<1, GhostBatchNorm1dImpl> {
 public:
  using GhostBatchNormImplBase<1, GhostBatchNorm1dImpl>::GhostBatchNormImplBase;

 protected:
  void check_input_dim(const torch::Tensor& input) const override;
};

/// Ghost batch norm over [N, C, H, W] inputs, the counterpart of torch::nn::BatchNorm2d.
class GhostBatchNorm2dImpl : public GhostBatchNormImplBase<2, GhostBatchNorm2dImpl> {
 public:
  using GhostBatchNormImplBase<2, GhostBatchNorm2dImpl>::GhostBatchNormImplBase;

 protected:
  void check_input_dim(const torch::Tensor& input) const override;
};

/// Module holder: `GhostBatchNorm1d gbn(GhostBatchNormOptions(512).ghost_batch_size(128));`
TORCH_MODULE(GhostBatchNorm1d);
/// Module holder: `GhostBatchNorm2d gbn(GhostBatchNormOptions(64).ghost_batch_size(128));`
TORCH_MODULE(GhostBatchNorm2d);

}  // namespace gengap::train
