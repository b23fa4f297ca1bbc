/// @file norm.hpp
/// @brief Normalization factories: every model takes one, so plain batch norm and ghost batch norm
/// (any ghost size) are a switch, not a different model.
#pragma once

#include <functional>
#include <string>

#include <torch/nn/modules/container/any.h>

namespace gengap::train {

/// Makes the normalization layer that follows a layer with `channels` outputs; `dims` is 1 after
/// a Linear layer (input [N, C]) and 2 after a Conv2d ([N, C, H, W]).
using NormFactory = std::function<torch::nn::AnyModule(int64_t channels, int dims)>;

/// torch::nn::BatchNorm1d / BatchNorm2d with default options.
NormFactory batch_norm_factory();
/// GhostBatchNorm1d / GhostBatchNorm2d with ghost batches of `ghost_batch_size` samples.
NormFactory ghost_batch_norm_factory(int64_t ghost_batch_size);
/// torch::nn::Identity: no normalization.
NormFactory no_norm_factory();
/// By name: "bn", "gbn" (with ghost_batch_size) or "none". Throws std::invalid_argument otherwise.
NormFactory norm_factory(const std::string& name, int64_t ghost_batch_size = 128);

}  // namespace gengap::train
