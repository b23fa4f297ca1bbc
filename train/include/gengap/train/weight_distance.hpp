/// @file weight_distance.hpp
/// @brief ||w_t - w_0|| over all trainable parameters and per layer, on the schedule the theory needs:
/// every iteration up to 100, then log-spaced.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>

namespace gengap::train {

/// Remembers w_0 and measures the distance of a module's trainable parameters from it.
class WeightDistance {
 public:
  /// Snapshots the current trainable parameters of `module` as w_0 (copies on the same device).
  explicit WeightDistance(const torch::nn::Module& module);
  /// ||w - w_0|| over all trainable parameters together.
  double total(const torch::nn::Module& module) const;
  /// ||w - w_0|| per layer: parameters grouped by their name up to the last '.' (e.g. "3.weight"
  /// and "3.bias" form layer "3").
  std::map<std::string, double> per_layer(const torch::nn::Module& module) const;
  /// Radial and angular geometry of one weight against its initial value.
  struct Geometry {
    double norm = 0;   ///< ||W_t||
    double norm0 = 0;  ///< ||W_0||
    double cos = 0;    ///< <W_t, W_0> / (||W_t|| ||W_0||): the angular change is acos(cos)
  };
  /// Geometry of every parameter with two or more dimensions (weights of linear and convolution
  /// layers), by name. For a weight followed by batch norm the loss depends on its direction only:
  /// its radial change (norm - norm0) moves the effective learning rate, its angular change the function.
  std::map<std::string, Geometry> weight_geometry(const torch::nn::Module& module) const;
  /// The w_0 snapshot, by parameter name.
  const std::map<std::string, torch::Tensor>& initial() const { return w0_; }
  /// Replaces the w_0 snapshot (e.g. when resuming from a checkpoint).
  void set_initial(std::map<std::string, torch::Tensor> w0) { w0_ = std::move(w0); }

 private:
  std::map<std::string, torch::Tensor> w0_;
};

/// Names of the weights (parameters of two or more dimensions) that feed a batch norm directly (a
/// linear or convolution layer registered just before a BatchNorm or GhostBatchNorm in the same
/// container): the loss is invariant to their scale, so their radial and angular changes differ in kind.
std::vector<std::string> weights_before_batch_norm(const torch::nn::Module& model);

/// Whether iteration `t` (1-based) is on the recording schedule: every t <= 100, then
/// `per_decade` log-spaced iterations per factor of ten.
bool distance_due(int64_t t, int per_decade = 20);

/// The landscape exponent gamma of std(L(w) - L(w_0)) ~ ||w - w_0||^gamma, estimated across runs:
/// at each recorded time, the standard deviation over runs of L(w_t) - L(w_0) against the mean over
/// runs of ||w_t - w_0||, fitted by least squares on log-log axes. `d[r][i]` and `dl[r][i]` are run
/// r's distance and loss change at time i. Returns NaN when fewer than 3 usable times remain.
double estimate_gamma(const std::vector<std::vector<double>>& d, const std::vector<std::vector<double>>& dl);

}  // namespace gengap::train
