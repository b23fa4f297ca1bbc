/// @file noise_scale.hpp
/// @brief The gradient noise scale B_simple = tr(Sigma) / |G|^2 (McCandlish et al. 2018, "An
/// empirical model of large-batch training", appendix A): tr(Sigma) the trace of the per-sample
/// gradient covariance, G the true gradient. Estimated from m groups of b samples each (micro-batches
/// of one batch, or the workers' slices of a data-parallel batch): with g_i the groups' mean gradients
/// and gbar their mean,
///   S = sum_i |g_i - gbar|^2 / (m - 1)   (unbiased for tr(Sigma) / b),
///   tr(Sigma) = b S,   |G|^2 = |gbar|^2 - S / m   (unbiased),   B_simple = tr(Sigma) / |G|^2.
/// One update of SGD with lr eta and batch B moves the weights by an increment whose covariance has
/// trace eta^2 tr(Sigma) / B: the quantity that lr x sqrt(B / B_s) keeps constant when tr(Sigma) is.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace gengap::train {

/// One estimate of the noise scale.
struct NoiseEstimate {
  double trace = 0;           ///< tr(Sigma): trace of the per-sample gradient covariance (unbiased)
  double grad_sq = 0;         ///< |G|^2: squared norm of the true gradient (unbiased; can be < 0 by chance)
  double b_simple = 0;        ///< trace / grad_sq; NaN when grad_sq <= 0
  int64_t group_size = 0;     ///< b: samples per group
  int64_t groups = 0;         ///< m: groups
};

/// The estimate from the groups' statistics: `sum_sq` = sum_i |g_i|^2, `mean_sq` = |gbar|^2, m groups
/// of b samples. @throws core::InvalidArgument for m < 2, b < 1 or non-finite inputs
NoiseEstimate noise_from_groups(double sum_sq, double mean_sq, int64_t groups, int64_t group_size);

/// The micro-batch size used for a batch of `batch` samples: min(ghost, batch / 2), at least 1; the
/// batch gives floor(batch / micro) micro-batches (the rest of the samples is left out).
int64_t noise_micro_batch(int64_t batch, int64_t ghost);

/// Estimates the noise scale at the model's current weights from the batch (x, y) split into
/// floor(n / micro_batch) consecutive micro-batches of micro_batch samples: one forward and backward
/// per micro-batch (mean cross-entropy; batch norm in training mode on each micro-batch, as ghost
/// batch norm with ghost = micro_batch trains). Nothing of the model changes: parameters, their
/// .grad(), the buffers (running statistics) and the CPU generator's state (dropout) are as before.
/// A non-finite gradient gives NaN fields (no estimate), not an error.
/// @throws core::InvalidArgument for micro_batch < 1 or fewer than 2 micro-batches
NoiseEstimate gradient_noise_scale(torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                   const torch::Tensor& x, const torch::Tensor& y, int64_t micro_batch);

}  // namespace gengap::train
