// The PyTorch operator gengap::ghost_batch_norm: gengap::train::ghost_batch_norm registered with
// PyTorch's dispatcher (TORCH_LIBRARY), for `import gengap.torch` (torch.ops.load_library on this
// library) and for C++ programs that load TorchScript models using it (link gengap::torch_ops and
// call gengap::torch_ops::ensure_registered()). Autograd comes from the function's own
// torch::autograd::Function (a CompositeImplicitAutograd kernel): the hand-written backward.
#include "torch_ops.hpp"

#include <torch/library.h>

#include "gengap/train/ghost_batch_norm.hpp"

namespace gengap::torch_ops {

int ensure_registered() { return 1; }

namespace {

at::Tensor or_undefined(const c10::optional<at::Tensor>& t) { return t.has_value() ? *t : at::Tensor(); }

at::Tensor ghost_batch_norm_op(const at::Tensor& input, const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias,
                               const c10::optional<at::Tensor>& running_mean, const c10::optional<at::Tensor>& running_var,
                               const c10::optional<at::Tensor>& num_batches_tracked, bool training, c10::optional<double> momentum,
                               double eps, int64_t ghost_batch_size) {
  return gengap::train::ghost_batch_norm(input, or_undefined(weight), or_undefined(bias), or_undefined(running_mean), or_undefined(running_var),
                                         or_undefined(num_batches_tracked), training, momentum, eps, ghost_batch_size);
}

}  // namespace
}  // namespace gengap::torch_ops

TORCH_LIBRARY(gengap, m) {
  m.def(
      "ghost_batch_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor(a!)? running_mean, Tensor(b!)? running_var, "
      "Tensor(c!)? num_batches_tracked, bool training, float? momentum, float eps, int ghost_batch_size) -> Tensor");
}

TORCH_LIBRARY_IMPL(gengap, CompositeImplicitAutograd, m) {
  m.impl("ghost_batch_norm", TORCH_FN(gengap::torch_ops::ghost_batch_norm_op));
}
