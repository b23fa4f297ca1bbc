// The C++ side of tests/python/test_torch.py: a TorchScript model saved from Python (using
// torch.ops.gengap.ghost_batch_norm through gengap.torch) loads in C++ and gives the same bits, and
// gengap::train's own GhostBatchNorm module gives the bits gengap.torch gives on the same input.
//   torch_ops_check MODEL.pt DATA.pt
// DATA.pt is a scripted module whose attributes hold the inputs and Python's outputs (x, y_eval,
// y_train, x1, y1, rm1, rv1, x2, y2, rm2, rv2) and the settings of the single layers (ghost1, ghost2).
// Prints one line per check; exit 0 when every check holds bitwise.
#include <iostream>
#include <string>

#include <torch/script.h>
#include <torch/torch.h>

#include "gengap/train/ghost_batch_norm.hpp"
#include "torch_ops.hpp"

namespace {
int failures = 0;

void same(const std::string& what, const torch::Tensor& a, const torch::Tensor& b) {
  const bool ok = a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && torch::equal(a, b);
  std::cout << (ok ? "same bits: " : "DIFFERENT: ") << what;
  if (!ok && a.sizes() == b.sizes()) std::cout << " (max |diff| " << (a - b).abs().max().item<double>() << ")";
  std::cout << '\n';
  failures += ok ? 0 : 1;
}

template <class Module>
void layer(const torch::jit::Module& data, const std::string& k, int64_t ghost) {
  const torch::Tensor x = data.attr("x" + k).toTensor();
  Module m(gengap::train::GhostBatchNormOptions(x.size(1)).ghost_batch_size(ghost));
  m->to(x.scalar_type());
  m->train();
  {
    torch::NoGradGuard no_grad;
    m->weight.copy_(data.attr("w" + k).toTensor());
    m->bias.copy_(data.attr("b" + k).toTensor());
  }
  const torch::Tensor y = m->forward(x);
  same("gengap::train::GhostBatchNorm output, layer " + k, y, data.attr("y" + k).toTensor());
  same("running_mean, layer " + k, m->running_mean, data.attr("rm" + k).toTensor());
  same("running_var, layer " + k, m->running_var, data.attr("rv" + k).toTensor());
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: torch_ops_check MODEL.pt DATA.pt\n";
    return 2;
  }
  gengap::torch_ops::ensure_registered();
  torch::jit::Module model = torch::jit::load(argv[1]);
  const torch::jit::Module data = torch::jit::load(argv[2]);
  const torch::Tensor x = data.attr("x").toTensor();
  torch::NoGradGuard no_grad;
  model.eval();
  same("scripted model, eval", model.forward({x}).toTensor(), data.attr("y_eval").toTensor());
  model.train();
  same("scripted model, train", model.forward({x}).toTensor(), data.attr("y_train").toTensor());
  layer<gengap::train::GhostBatchNorm1d>(data, "1", data.attr("ghost1").toInt());
  layer<gengap::train::GhostBatchNorm2d>(data, "2", data.attr("ghost2").toInt());
  std::cout << (failures == 0 ? "all checks hold bitwise\n" : "some checks failed\n");
  return failures == 0 ? 0 : 1;
}
