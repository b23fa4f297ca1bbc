// Ghost Batch Normalization: one fused batch-norm call over G ghost batches seen as G*C channels.
#include "gengap/train/ghost_batch_norm.hpp"

#include <cmath>
#include <ostream>

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

namespace gengap::train {

std::vector<int64_t> ghost_split(int64_t n, int64_t ghost) {
  TORCH_CHECK(n >= 0, "ghost_split: batch size n = ", n, " must be >= 0");
  TORCH_CHECK(ghost >= 1, "ghost_batch_size = ", ghost, ": must be >= 1");
  if (n <= ghost) return {n};
  std::vector<int64_t> sizes(static_cast<std::size_t>(n / ghost), ghost);
  const int64_t r = n % ghost;
  if (r == 1) {
    sizes.back() += 1;
  } else if (r > 1) {
    sizes.push_back(r);
  }
  return sizes;
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::reset() {
  TORCH_CHECK(options.num_features() > 0, "GhostBatchNorm: num_features = ", options.num_features(), ": must be > 0");
  TORCH_CHECK(options.ghost_batch_size() >= 1, "GhostBatchNorm: ghost_batch_size = ", options.ghost_batch_size(), ": must be >= 1");
  if (options.affine()) {
    weight = this->register_parameter("weight", torch::empty({options.num_features()}));
    bias = this->register_parameter("bias", torch::empty({options.num_features()}));
  } else {
    weight = this->register_parameter("weight", torch::Tensor(), /*requires_grad=*/false);
    bias = this->register_parameter("bias", torch::Tensor(), /*requires_grad=*/false);
  }
  if (options.track_running_stats()) {
    running_mean = this->register_buffer("running_mean", torch::zeros({options.num_features()}));
    running_var = this->register_buffer("running_var", torch::ones({options.num_features()}));
    num_batches_tracked = this->register_buffer("num_batches_tracked", torch::tensor(0, torch::dtype(torch::kLong)));
  } else {
    running_mean = this->register_buffer("running_mean", torch::Tensor());
    running_var = this->register_buffer("running_var", torch::Tensor());
    num_batches_tracked = this->register_buffer("num_batches_tracked", torch::Tensor());
  }
  reset_parameters();
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::reset_running_stats() {
  if (options.track_running_stats()) {
    torch::NoGradGuard no_grad;
    running_mean.zero_();
    running_var.fill_(1);
    num_batches_tracked.zero_();
  }
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::reset_parameters() {
  reset_running_stats();
  if (options.affine()) {
    torch::nn::init::ones_(weight);
    torch::nn::init::zeros_(bias);
  }
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::pretty_print(std::ostream& stream) const {
  stream << "gengap::train::GhostBatchNorm" << D << "d(" << options.num_features()
         << ", ghost_batch_size=" << options.ghost_batch_size() << ", eps=" << options.eps() << ", momentum=";
  if (options.momentum()) {
    stream << *options.momentum();
  } else {
    stream << "None";
  }
  stream << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats() << ")";
}

namespace {

// Normalizes `x` ([n, C, ...], one ghost batch per `groups` contiguous blocks of `per` samples)
// with batch statistics; returns the output and the per-ghost mean and unbiased variance [groups, C].
struct GhostOut {
  torch::Tensor y, mean, var;
};

GhostOut normalize_groups(const torch::Tensor& x, int64_t groups, int64_t per, const torch::Tensor& weight,
                          const torch::Tensor& bias, double eps, bool need_stats) {
  const int64_t c = x.size(1);
  auto sizes = x.sizes().vec();
  // [groups*per, C, *] -> [groups, per, C, *] -> [per, groups, C, *] -> [per, groups*C, *]
  std::vector<int64_t> split{groups, per};
  split.insert(split.end(), sizes.begin() + 1, sizes.end());
  std::vector<int64_t> merged{per, groups * c};
  merged.insert(merged.end(), sizes.begin() + 2, sizes.end());
  torch::Tensor xin = groups == 1 ? x : x.view(split).transpose(0, 1).reshape(merged);
  torch::Tensor w = weight.defined() ? (groups == 1 ? weight : weight.repeat({groups})) : torch::Tensor();
  torch::Tensor b = bias.defined() ? (groups == 1 ? bias : bias.repeat({groups})) : torch::Tensor();
  torch::Tensor rm, rv;
  if (need_stats) {
    // momentum 1: the "running" buffers receive exactly this call's mean and unbiased variance.
    rm = torch::zeros({groups * c}, x.options().dtype(x.scalar_type() == torch::kHalf || x.scalar_type() == torch::kBFloat16
                                                            ? torch::kFloat
                                                            : x.scalar_type()));
    rv = torch::ones_like(rm);
  }
  torch::Tensor y = torch::batch_norm(xin, w, b, rm, rv, /*training=*/true, /*momentum=*/1.0, eps,
                                      at::globalContext().userEnabledCuDNN());
  if (groups > 1) {
    std::vector<int64_t> back{per, groups};
    back.insert(back.end(), sizes.begin() + 1, sizes.end());
    y = y.view(back).transpose(0, 1).reshape(sizes);
  }
  GhostOut out{y, {}, {}};
  if (need_stats) {
    out.mean = rm.view({groups, c});
    out.var = rv.view({groups, c});
  }
  return out;
}

}  // namespace

template <size_t D, typename Derived>
torch::Tensor GhostBatchNormImplBase<D, Derived>::forward(const torch::Tensor& input) {
  check_input_dim(input);
  TORCH_CHECK(input.size(1) == options.num_features(), "GhostBatchNorm", D, "d: input has ", input.size(1),
              " channels, expected num_features = ", options.num_features());
  const bool track = options.track_running_stats();
  if (!this->is_training()) {
    // Evaluation: plain batch norm, never split.
    return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/!track,
                             options.momentum().value_or(0.0), options.eps(), at::globalContext().userEnabledCuDNN());
  }
  const auto split = ghost_split(input.size(0), options.ghost_batch_size());
  const auto k = static_cast<int64_t>(split.size());
  // The leading ghost batches of the common size go through one fused call; a last ghost batch of
  // another size (smaller, or one larger when it absorbed a single leftover sample) through a second.
  const int64_t g0 = split.front();
  int64_t n_main = k;
  while (n_main > 0 && split[static_cast<std::size_t>(n_main - 1)] != g0) --n_main;
  std::vector<GhostOut> parts;
  parts.push_back(normalize_groups(input.narrow(0, 0, n_main * g0), n_main, g0, weight, bias, options.eps(), track));
  if (n_main < k) {
    const int64_t rest = input.size(0) - n_main * g0;
    parts.push_back(normalize_groups(input.narrow(0, n_main * g0, rest), 1, rest, weight, bias, options.eps(), track));
  }
  if (track) {
    torch::NoGradGuard no_grad;
    const torch::Tensor means = parts.size() == 1 ? parts[0].mean : torch::cat({parts[0].mean, parts[1].mean});
    const torch::Tensor vars = parts.size() == 1 ? parts[0].var : torch::cat({parts[0].var, parts[1].var});
    // Sequential BatchNorm steps in closed form: weights m (1-m)^(k-1-i) for ghost i, (1-m)^k for the old value.
    std::vector<double> w(static_cast<std::size_t>(k));
    double keep = 1;
    const int64_t seen = num_batches_tracked.item<int64_t>();
    for (int64_t i = k - 1; i >= 0; --i) {
      const double m = options.momentum() ? *options.momentum() : 1.0 / static_cast<double>(seen + i + 1);
      w[static_cast<std::size_t>(i)] = m * keep;
      keep *= 1 - m;
    }
    const torch::Tensor wt = torch::tensor(w, torch::dtype(torch::kDouble)).to(means.options()).unsqueeze(1);
    running_mean.mul_(keep).add_((wt * means).sum(0).to(running_mean.dtype()));
    running_var.mul_(keep).add_((wt * vars).sum(0).to(running_var.dtype()));
    num_batches_tracked.add_(k);
  }
  return parts.size() == 1 ? parts[0].y : torch::cat({parts[0].y, parts[1].y}, 0);
}

void GhostBatchNorm1dImpl::check_input_dim(const torch::Tensor& input) const {
  TORCH_CHECK(input.dim() == 2 || input.dim() == 3, "GhostBatchNorm1d: expected 2D or 3D input [N, C] or [N, C, L] (got ",
              input.dim(), "D input)");
}

void GhostBatchNorm2dImpl::check_input_dim(const torch::Tensor& input) const {
  TORCH_CHECK(input.dim() == 4, "GhostBatchNorm2d: expected 4D input [N, C, H, W] (got ", input.dim(), "D input)");
}

template class GhostBatchNormImplBase<1, GhostBatchNorm1dImpl>;
template class GhostBatchNormImplBase<2, GhostBatchNorm2dImpl>;

}  // namespace gengap::train
