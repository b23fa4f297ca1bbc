// Uses the installed gengap::train: a ghost batch norm forward and backward, checked against its definition.
#include <cmath>
#include <iostream>

#include <gengap/train/ghost_batch_norm.hpp>

int main() {
  namespace train = gengap::train;
  train::GhostBatchNorm1d gbn(train::GhostBatchNormOptions(8).ghost_batch_size(4));
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({16, 8}, torch::kDouble).mul_(3).add_(1).requires_grad_(true);
  gbn->to(torch::kDouble);
  const torch::Tensor y = gbn->forward(x);
  // Each ghost batch of 4 rows is normalized on its own: mean 0 and (biased) variance 1 per column.
  const torch::Tensor g = y.view({4, 4, 8});
  const double mean_err = g.mean(1).abs().max().item<double>();
  const double var_err = (g.var(1, /*unbiased=*/false) - 1).abs().max().item<double>();
  y.pow(2).sum().backward();
  const bool grad_ok = x.grad().defined() && torch::isfinite(x.grad()).all().item<bool>();
  std::cout << "ghost batch norm: mean error " << mean_err << ", variance error " << var_err << ", gradient "
            << (grad_ok ? "finite" : "missing") << '\n';
  return (mean_err < 1e-12 && var_err < 1e-3 && grad_ok) ? 0 : 1;
}
