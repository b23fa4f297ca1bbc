// Random directions around the current weights, and the loss along them.
#include "gengap/train/landscape.hpp"

#include <cmath>
#include <string>

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/nn/modules/dropout.h>

#include "gengap/core/error.hpp"
#include "gengap/core/philox.hpp"
#include "gengap/train/ghost_batch_norm.hpp"

namespace gengap::train {

namespace {

/// Restores the saved weights when it goes out of scope, whatever happened.
class WeightGuard {
 public:
  explicit WeightGuard(std::vector<torch::Tensor> params) : params_(std::move(params)) {
    for (const auto& p : params_) saved_.push_back(p.detach().clone());
  }
  ~WeightGuard() { restore(); }
  WeightGuard(const WeightGuard&) = delete;
  WeightGuard& operator=(const WeightGuard&) = delete;
  void restore() {
    torch::NoGradGuard ng;
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i].copy_(saved_[i]);
  }
  const std::vector<torch::Tensor>& saved() const { return saved_; }

 private:
  std::vector<torch::Tensor> params_, saved_;
};

}  // namespace

std::vector<std::vector<double>> loss_increments(torch::nn::Module& model, const std::function<double()>& loss,
                                                 const LandscapeProbeOptions& o) {
  core::require(!o.radii.empty(), "radii", "(none)", "must name at least one radius");
  for (std::size_t i = 0; i < o.radii.size(); ++i) {
    core::require(o.radii[i] > 0 && std::isfinite(o.radii[i]), "radii", o.radii[i], "must be finite and > 0");
    if (i > 0) core::require(o.radii[i] > o.radii[i - 1], "radii", o.radii[i], "must be increasing");
  }
  core::require(o.directions >= 1, "directions", o.directions, "must be >= 1");
  std::vector<torch::Tensor> params;
  for (auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  core::require(!params.empty(), "model", "(no trainable parameters)", "must have trainable parameters");

  WeightGuard guard(params);
  const auto check = [](double v, const std::string& where) {
    if (!std::isfinite(v)) throw core::RuntimeError("the probe loss is " + std::to_string(v) + " " + where);
    return v;
  };
  const double l0 = check(loss(), "at the weights themselves");
  // The weights in double and their norms, once: every direction and radius starts from them.
  std::vector<torch::Tensor> w64;
  std::vector<double> w_norm;
  for (const auto& w : guard.saved()) {
    w64.push_back(w.to(torch::kDouble));
    w_norm.push_back(w64.back().norm().item<double>());
  }
  std::vector<std::vector<double>> out(static_cast<std::size_t>(o.directions), std::vector<double>(o.radii.size()));
  torch::NoGradGuard ng;
  for (int j = 0; j < o.directions; ++j) {
    const std::uint64_t s = core::Stream(o.seed, core::StreamPurpose::kStart, static_cast<std::uint32_t>(j), 0x5Fu)(0)[0];
    at::Generator gen = at::detail::createCPUGenerator(s);
    std::vector<torch::Tensor> u;
    double sq = 0;
    for (std::size_t i = 0; i < w64.size(); ++i) {
      // Drawn on the CPU (the same directions on every device), then moved to the weights' device.
      torch::Tensor d = torch::randn(w64[i].sizes(), gen, torch::TensorOptions().dtype(torch::kDouble)).to(w64[i].device());
      if (o.scale == DirectionScale::kPerLayer) {
        const double dn = d.norm().item<double>();
        if (w_norm[i] > 0 && dn > 0) d.mul_(w_norm[i] / dn);
      }
      sq += d.square().sum().item<double>();
      u.push_back(std::move(d));
    }
    const double norm = std::sqrt(sq);
    for (std::size_t k = 0; k < o.radii.size(); ++k) {
      const double step = o.radii[k] / norm;
      for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(w64[i] + step * u[i]);  // copy_ converts to the parameter's dtype
      const double l = check(loss(), "at radius " + std::to_string(o.radii[k]) + ", direction " + std::to_string(j));
      out[static_cast<std::size_t>(j)][k] = (l - l0) * (l - l0);
    }
  }
  guard.restore();
  return out;
}

std::vector<double> segment_losses(torch::nn::Module& model, const std::function<double()>& loss, const std::vector<torch::Tensor>& a,
                                   const std::vector<torch::Tensor>& b, int points) {
  core::require(points >= 3, "points", points, "must be >= 3");
  std::vector<torch::Tensor> params;
  for (auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  core::require(a.size() == params.size() && b.size() == params.size(), "a, b", a.size(),
                "must hold one tensor per trainable parameter (" + std::to_string(params.size()) + ")");
  for (std::size_t i = 0; i < params.size(); ++i)
    core::require(a[i].sizes() == params[i].sizes() && b[i].sizes() == params[i].sizes(), "a, b", i,
                  "tensor shapes must match the parameter's");
  WeightGuard guard(params);
  std::vector<double> out;
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> a64, b64;  // the ends in double on the parameters' devices, once
  for (std::size_t i = 0; i < params.size(); ++i) {
    a64.push_back(a[i].to(params[i].device(), torch::kDouble));
    b64.push_back(b[i].to(params[i].device(), torch::kDouble));
  }
  for (int k = 0; k < points; ++k) {
    const double l = static_cast<double>(k) / (points - 1);
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_((1 - l) * a64[i] + l * b64[i]);
    out.push_back(loss());
  }
  guard.restore();
  return out;
}

double fixed_probe_loss(torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                        const torch::Tensor& images, const torch::Tensor& labels, ProbeNorm mode) {
  core::require(images.size(0) == labels.size(0) && images.size(0) > 0, "probe", images.size(0), "must hold as many labels as images, > 0");
  torch::NoGradGuard ng;
  torch::Device dev = torch::kCPU;
  for (const auto& p : model.parameters()) {
    dev = p.device();
    break;
  }
  const int64_t n = images.size(0);
  // Everything the pass may change, restored on the way out (also when `forward` throws).
  struct State {
    torch::nn::Module& model;
    bool training;
    std::vector<std::pair<torch::nn::Module*, bool>> modes;
    std::vector<torch::Tensor> buffers, saved;
    std::vector<std::pair<GhostBatchNormOptions*, int64_t>> ghosts;
    ~State() {
      model.train(training);
      for (auto& [m, t] : modes) m->train(t);
      for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
      for (auto& [o, g] : ghosts) o->ghost_batch_size(g);
    }
  } st{model, model.is_training(), {}, {}, {}, {}};
  for (const auto& m : model.modules(/*include_self=*/false)) st.modes.emplace_back(m.get(), m->is_training());
  auto cross_entropy_sum = [&](int64_t s, int64_t k) {
    const torch::Tensor out = forward(images.narrow(0, s, k).to(dev));
    return torch::nn::functional::cross_entropy(out, labels.narrow(0, s, k).to(dev),
                                                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
        .item<double>();
  };
  double sum = 0;
  if (mode == ProbeNorm::kRunning) {
    model.eval();
    for (int64_t s = 0; s < n; s += 1000) sum += cross_entropy_sum(s, std::min<int64_t>(1000, n - s));
    return sum / static_cast<double>(n);
  }
  st.buffers = model.buffers();
  for (const auto& b : st.buffers) st.saved.push_back(b.clone());
  model.train(true);
  for (const auto& m : model.modules(/*include_self=*/false)) {
    if (dynamic_cast<torch::nn::DropoutImpl*>(m.get()) || dynamic_cast<torch::nn::Dropout2dImpl*>(m.get())) m->eval();
    if (auto* g = dynamic_cast<GhostBatchNorm1dImpl*>(m.get())) {
      st.ghosts.emplace_back(&g->options, g->options.ghost_batch_size());
      g->options.ghost_batch_size(n);
    }
    if (auto* g = dynamic_cast<GhostBatchNorm2dImpl*>(m.get())) {
      st.ghosts.emplace_back(&g->options, g->options.ghost_batch_size());
      g->options.ghost_batch_size(n);
    }
  }
  sum = cross_entropy_sum(0, n);
  return sum / static_cast<double>(n);
}

}  // namespace gengap::train
