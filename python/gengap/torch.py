"""Ghost Batch Normalization for PyTorch models (Hoffer, Hubara & Soudry 2017, section 4.1).

``GhostBatchNorm1d`` and ``GhostBatchNorm2d`` are drop-in replacements of ``torch.nn.BatchNorm1d``
and ``torch.nn.BatchNorm2d`` (subclasses, with their constructor arguments, parameter and buffer
names, state_dict and eval behaviour) that normalize each *ghost batch* of ``ghost_batch_size``
samples with its own statistics during training. The work is gengap's C++ operator
``torch.ops.gengap.ghost_batch_norm``: every ghost batch at once, with a hand-written backward.

Semantics (the same as gengap::train::GhostBatchNorm):

- training: the batch of N samples is split from its start into ghost batches of
  ``ghost_batch_size``; a remainder of r >= 2 samples is a last, smaller ghost batch, a remainder of
  one sample joins the previous one; N <= ghost_batch_size is plain batch norm. Each ghost batch is
  normalized with its mean and biased variance; the running statistics are updated as if each ghost
  batch were one BatchNorm step, in order (num_batches_tracked grows by the number of ghost batches;
  momentum=None is the cumulative average).
- eval: batch norm with the running statistics, never split (with track_running_stats=False, the
  batch's own statistics, as nn.BatchNorm).

Example::

    import torch, gengap.torch
    net = torch.nn.Sequential(torch.nn.Linear(784, 512), gengap.torch.GhostBatchNorm1d(512, ghost_batch_size=128),
                              torch.nn.ReLU(), torch.nn.Linear(512, 10))
    gengap.torch.convert(resnet, ghost_batch_size=128)   # every BatchNorm of a model, in place
"""

import os as _os

import torch
from torch import Tensor
from torch import nn

__all__ = ["GhostBatchNorm1d", "GhostBatchNorm2d", "convert", "library_path"]


def library_path():
    """The operator library this package loads (next to the package, in the build tree or installed)."""
    return _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "libgengap_torch_ops.so")


def _load():
    if hasattr(torch.ops.gengap, "ghost_batch_norm"):
        return
    path = library_path()
    if not _os.path.exists(path):
        raise ImportError("gengap.torch: %s is missing: gengap was built without it (it needs LibTorch and a Python that "
                          "imports torch of the same version; Debian: python3-torch)" % path)
    torch.ops.load_library(path)


_load()


def _check_ghost(ghost_batch_size):
    if isinstance(ghost_batch_size, bool) or not isinstance(ghost_batch_size, int):
        raise TypeError("ghost_batch_size must be an int, not %s" % type(ghost_batch_size).__name__)
    if ghost_batch_size < 1:
        raise ValueError("ghost_batch_size = %d: must be >= 1" % ghost_batch_size)


def _init(self, num_features, eps, momentum, affine, track_running_stats, device, dtype, ghost_batch_size):
    _check_ghost(ghost_batch_size)
    # nn.BatchNorm1d and 2d both take _BatchNorm's constructor.
    nn.modules.batchnorm._BatchNorm.__init__(self, num_features, eps=eps, momentum=momentum, affine=affine,
                                             track_running_stats=track_running_stats, device=device, dtype=dtype)
    self.ghost_batch_size = ghost_batch_size


class GhostBatchNorm1d(nn.BatchNorm1d):
    """nn.BatchNorm1d over [N, C] or [N, C, L] with ghost batches of ``ghost_batch_size`` samples in
    training (see the module docstring). Arguments as nn.BatchNorm1d, plus ghost_batch_size (default
    128, the paper's)."""

    ghost_batch_size: int

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 ghost_batch_size=128):
        _init(self, num_features, eps, momentum, affine, track_running_stats, device, dtype, ghost_batch_size)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if input.size(1) != self.num_features:
            raise ValueError("expected {} channels (num_features), got input of shape {}".format(self.num_features, list(input.shape)))
        if self.training and input.numel() // input.size(1) == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input size {}".format(list(input.shape)))
        return torch.ops.gengap.ghost_batch_norm(input, self.weight, self.bias, self.running_mean, self.running_var,
                                                 self.num_batches_tracked, self.training, self.momentum, self.eps,
                                                 self.ghost_batch_size)

    def extra_repr(self):
        return nn.modules.batchnorm._BatchNorm.extra_repr(self) + ", ghost_batch_size={}".format(self.ghost_batch_size)


class GhostBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d over [N, C, H, W] (channels_last too) with ghost batches of ``ghost_batch_size``
    samples in training (see the module docstring). Arguments as nn.BatchNorm2d, plus ghost_batch_size."""

    ghost_batch_size: int

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 ghost_batch_size=128):
        _init(self, num_features, eps, momentum, affine, track_running_stats, device, dtype, ghost_batch_size)

    # The same code (its _check_input_dim is BatchNorm2d's).
    forward = GhostBatchNorm1d.forward
    extra_repr = GhostBatchNorm1d.extra_repr


def _twin(bn, ghost_batch_size):
    cls = GhostBatchNorm2d if isinstance(bn, nn.BatchNorm2d) else GhostBatchNorm1d
    p = bn.weight if bn.weight is not None else bn.running_mean
    g = cls(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=bn.affine, track_running_stats=bn.track_running_stats,
            device=p.device if p is not None else None, dtype=p.dtype if p is not None else None, ghost_batch_size=ghost_batch_size)
    g.load_state_dict(bn.state_dict())
    if bn.affine:
        g.weight.requires_grad_(bn.weight.requires_grad)
        g.bias.requires_grad_(bn.bias.requires_grad)
    g.train(bn.training)
    return g


def convert(model, ghost_batch_size=128):
    """Replaces every nn.BatchNorm1d and nn.BatchNorm2d of `model` (in place, recursively; `model`
    itself too) by its ghost twin with the same settings, weights, running statistics and train/eval
    state, and returns the model. Modules that are already ghost batch norms get the new
    ghost_batch_size. In eval mode the converted model's outputs are bitwise the original's."""
    _check_ghost(ghost_batch_size)
    if isinstance(model, (GhostBatchNorm1d, GhostBatchNorm2d)):
        model.ghost_batch_size = ghost_batch_size
        return model
    if type(model) in (nn.BatchNorm1d, nn.BatchNorm2d):
        return _twin(model, ghost_batch_size)
    for name, child in list(model.named_children()):
        setattr(model, name, convert(child, ghost_batch_size))
    return model
