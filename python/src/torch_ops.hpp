// gengap::torch_ops: the PyTorch operator gengap::ghost_batch_norm (torch.ops.gengap.ghost_batch_norm).
#pragma once

namespace gengap::torch_ops {

/// Does nothing but return 1: a C++ program that loads TorchScript models using
/// torch.ops.gengap.ghost_batch_norm calls it once, so that the linker keeps this library (whose
/// loading registers the operator) even with --as-needed.
int ensure_registered();

}  // namespace gengap::torch_ops
