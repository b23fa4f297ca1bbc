/// @file landscape.hpp
/// @brief Sampling a network's loss landscape along random directions around the current weights:
/// the raw material of the roughness estimators (sim/roughness.hpp computes S(r) and alpha(r) from it).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/nn/module.h>

namespace gengap::train {

/// How a random direction is shaped before it is normalized to unit length.
enum class DirectionScale {
  kGlobal,    ///< i.i.d. standard normal over all parameters
  kPerLayer,  ///< each parameter tensor's part rescaled to the norm of that tensor's weights (layer-wise
              ///< normalization after Li et al. 2018); a tensor whose weights are all zero keeps its draw
};

/// What loss_increments() samples.
struct LandscapeProbeOptions {
  std::vector<double> radii;                        ///< distances r > 0 from w, increasing
  int directions = 16;                              ///< random unit directions u
  std::uint64_t seed = 1;                           ///< direction j: from core::Stream(seed, start, j, 0x5F)
  DirectionScale scale = DirectionScale::kPerLayer; ///< the shape of each direction
};

/// Squared loss increments (L(w + r u) - L(w))^2 at the model's current weights w: rows are
/// directions, columns radii. Every direction u is normalized to ||u|| = 1 over all trainable
/// parameters, so r is the Euclidean distance the weights move. `loss` evaluates the model as it
/// stands (it must not train it: use a fixed probe set and a fixed batch-norm mode, e.g.
/// fixed_probe_loss()). The weights are restored bit for bit afterwards, also when `loss` throws.
/// @throws core::InvalidArgument for no radii, radii not increasing and > 0, directions < 1, or a
/// model without trainable parameters; core::RuntimeError when the loss is not finite
std::vector<std::vector<double>> loss_increments(torch::nn::Module& model, const std::function<double()>& loss,
                                                 const LandscapeProbeOptions& options);

/// The loss on the straight segment between two weight vectors `a` and `b` (each one tensor per
/// trainable parameter of `model`, in model.parameters() order) at `points` evenly spaced positions,
/// both ends included: the profile whose barrier (sim::barrier_height()) estimator (c) measures. The
/// model's weights are restored bit for bit afterwards, also when `loss` throws.
/// @throws core::InvalidArgument for points < 3 or tensors that do not match the parameters
std::vector<double> segment_losses(torch::nn::Module& model, const std::function<double()>& loss, const std::vector<torch::Tensor>& a,
                                   const std::vector<torch::Tensor>& b, int points);

/// How batch norm is evaluated on a probe set.
enum class ProbeNorm {
  kRunning,     ///< eval mode: the running statistics (meaningless at w_0, where they are still 0 and 1)
  kProbeBatch,  ///< the statistics of the whole probe set at the current weights: normalization layers in
                ///< training mode on the probe as one batch (a ghost batch norm's ghost size set to the
                ///< probe's size for the pass), dropout off, running statistics left untouched
};

/// The mean cross-entropy of `model` on (images, labels), batch norm evaluated as `mode` says; the
/// module's modes, buffers and ghost sizes are as before afterwards. kRunning evaluates in chunks of
/// 1000; kProbeBatch in one pass (the statistics are the whole probe's). On the parameters' device.
double fixed_probe_loss(torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                        const torch::Tensor& images, const torch::Tensor& labels, ProbeNorm mode = ProbeNorm::kRunning);

}  // namespace gengap::train
