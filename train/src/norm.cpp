// Normalization factories.
#include "gengap/train/norm.hpp"

#include <stdexcept>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

#include "gengap/core/error.hpp"
#include "gengap/train/ghost_batch_norm.hpp"

namespace gengap::train {

NormFactory batch_norm_factory() {
  return [](int64_t c, int dims) {
    return dims == 1 ? torch::nn::AnyModule(torch::nn::BatchNorm1d(c)) : torch::nn::AnyModule(torch::nn::BatchNorm2d(c));
  };
}

NormFactory ghost_batch_norm_factory(int64_t ghost) {
  if (ghost < 1) throw core::InputError("ghost_batch_size = " + std::to_string(ghost) + ": must be >= 1");
  return [ghost](int64_t c, int dims) {
    const auto o = GhostBatchNormOptions(c).ghost_batch_size(ghost);
    return dims == 1 ? torch::nn::AnyModule(GhostBatchNorm1d(o)) : torch::nn::AnyModule(GhostBatchNorm2d(o));
  };
}

NormFactory no_norm_factory() {
  return [](int64_t, int) { return torch::nn::AnyModule(torch::nn::Identity()); };
}

NormFactory norm_factory(const std::string& name, int64_t ghost) {
  if (name == "bn") return batch_norm_factory();
  if (name == "gbn") return ghost_batch_norm_factory(ghost);
  if (name == "none") return no_norm_factory();
  throw core::InputError("norm = " + name + ": expected bn, gbn or none");
}

}  // namespace gengap::train
