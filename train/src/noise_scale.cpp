// The gradient noise scale from groups of samples (micro-batches or workers).
#include "gengap/train/noise_scale.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>

#include "gengap/core/error.hpp"

namespace gengap::train {

NoiseEstimate noise_from_groups(double sum_sq, double mean_sq, int64_t groups, int64_t group_size) {
  core::require(groups >= 2, "groups", groups, "need at least 2 groups to estimate a covariance");
  core::require(group_size >= 1, "group_size", group_size, "must be >= 1");
  core::require(std::isfinite(sum_sq) && std::isfinite(mean_sq) && sum_sq >= 0 && mean_sq >= 0, "gradient norms", sum_sq,
                "must be finite and >= 0");
  const double m = static_cast<double>(groups);
  // sum_i |g_i - gbar|^2 = sum_i |g_i|^2 - m |gbar|^2 (clamped at 0 against rounding).
  const double s = std::max(0.0, sum_sq - m * mean_sq) / (m - 1);
  NoiseEstimate e;
  e.trace = static_cast<double>(group_size) * s;
  e.grad_sq = mean_sq - s / m;
  e.b_simple = e.grad_sq > 0 ? e.trace / e.grad_sq : std::numeric_limits<double>::quiet_NaN();
  e.groups = groups;
  e.group_size = group_size;
  return e;
}

int64_t noise_micro_batch(int64_t batch, int64_t ghost) { return std::max<int64_t>(1, std::min(ghost, batch / 2)); }

NoiseEstimate gradient_noise_scale(torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                   const torch::Tensor& x, const torch::Tensor& y, int64_t micro_batch) {
  core::require(micro_batch >= 1, "micro_batch", micro_batch, "must be >= 1");
  const int64_t m = x.size(0) / micro_batch;
  core::require(m >= 2, "micro_batch", micro_batch, "gives fewer than 2 micro-batches of a batch of " + std::to_string(x.size(0)));
  std::vector<torch::Tensor> params;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  core::require(!params.empty(), "model", "no trainable parameters", "nothing to differentiate");
  // Saved and restored: the running statistics (each micro-batch would move them) and the CPU
  // generator (dropout draws from it); .grad() is never touched (autograd::grad).
  std::vector<torch::Tensor> buffers = model.buffers(), saved;
  for (const auto& b : buffers) saved.push_back(b.detach().clone());
  auto gen = at::detail::getDefaultCPUGenerator();
  const torch::Tensor rng = gen.get_state();
  struct Restore {
    std::vector<torch::Tensor>& buffers;
    std::vector<torch::Tensor>& saved;
    at::Generator& gen;
    const torch::Tensor& rng;
    ~Restore() {
      torch::NoGradGuard ng;
      for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
      try {
        gen.set_state(rng);
      } catch (...) {
      }
    }
  } restore{buffers, saved, gen, rng};
  // In double, summed per micro-batch: sum_i |g_i|^2 and the running sum of the g_i.
  std::vector<torch::Tensor> sum;
  double sum_sq = 0;
  for (int64_t i = 0; i < m; ++i) {
    const torch::Tensor xi = x.narrow(0, i * micro_batch, micro_batch), yi = y.narrow(0, i * micro_batch, micro_batch);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(forward(xi), yi);
    const std::vector<torch::Tensor> g = torch::autograd::grad({loss}, params, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                                               /*allow_unused=*/true);
    torch::NoGradGuard ng;
    double sq = 0;
    for (std::size_t k = 0; k < g.size(); ++k) {
      const torch::Tensor gk = g[k].defined() ? g[k].to(torch::kDouble) : torch::zeros_like(params[k], torch::kDouble);
      sq += gk.square().sum().item<double>();
      if (sum.size() <= k) sum.push_back(gk.clone());
      else sum[k].add_(gk);
    }
    sum_sq += sq;
  }
  double mean_sq = 0;
  for (const auto& s : sum) mean_sq += s.div(static_cast<double>(m)).square().sum().item<double>();
  if (!std::isfinite(sum_sq) || !std::isfinite(mean_sq)) {
    // A gradient that overflowed: no estimate (NaN), not an error.
    NoiseEstimate e;
    e.trace = e.grad_sq = e.b_simple = std::numeric_limits<double>::quiet_NaN();
    e.groups = m;
    e.group_size = micro_batch;
    return e;
  }
  return noise_from_groups(sum_sq, mean_sq, m, micro_batch);
}

}  // namespace gengap::train
