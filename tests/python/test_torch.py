"""gengap.torch (issue 29): GhostBatchNorm1d/2d for PyTorch users against per-chunk nn.BatchNorm in
float64 (outputs, gradients, running statistics, num_batches_tracked; 1e-12), gradcheck, state_dict
round trips, convert(), TorchScript (script and trace), pickling, errors, and the same bits as the
C++ module and in a C++ program that loads the scripted model. Skipped with one line when torch or
the operator library is missing."""

import io
import os
import subprocess
import unittest

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover
    torch = None

GT = None
SKIP = None
if torch is None:
    SKIP = "torch is not importable by this Python (Debian: python3-torch)"
else:
    try:
        import gengap.torch as GT
    except ImportError as e:
        SKIP = "gengap.torch is not built: %s" % e

from support import scratch

TORCH_CHECK_EXE = os.environ.get("GENGAP_TORCH_CHECK_EXE", "")
TOL = 1e-12


def ghost_split(n, g):
    """The ghost-batch sizes of a batch of n (the documented rule)."""
    if n <= g:
        return [n]
    sizes = [g] * (n // g)
    r = n % g
    if r == 1:
        sizes[-1] += 1
    elif r > 1:
        sizes.append(r)
    return sizes


def reference(bn, x, g):
    """The authors' way: nn.BatchNorm applied to each ghost batch in turn."""
    return torch.cat([bn(c) for c in torch.split(x, ghost_split(x.size(0), g))])


@unittest.skipIf(SKIP, SKIP)
class AgainstChunkedBatchNorm(unittest.TestCase):
    def compare(self, dims, n, g, momentum=0.1, affine=True, track=True, steps=2, channels_last=False):
        torch.manual_seed(n * 100 + g)
        C = 6
        shape = (n, C) if dims == 1 else (n, C, 3, 4)
        Ref = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        Ghost = GT.GhostBatchNorm1d if dims == 1 else GT.GhostBatchNorm2d
        ref = Ref(C, momentum=momentum, affine=affine, track_running_stats=track, dtype=torch.float64)
        gbn = Ghost(C, momentum=momentum, affine=affine, track_running_stats=track, dtype=torch.float64, ghost_batch_size=g)
        if affine:
            with torch.no_grad():
                ref.weight.copy_(torch.rand(C, dtype=torch.float64) + 0.5)
                ref.bias.copy_(torch.randn(C, dtype=torch.float64))
                gbn.weight.copy_(ref.weight)
                gbn.bias.copy_(ref.bias)
        for step in range(steps):
            x = (torch.randn(*shape, dtype=torch.float64) * 3 + 1)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            xa = x.clone().requires_grad_(True)
            xb = x.clone().requires_grad_(True)
            ya = reference(ref, xa, g)
            yb = gbn(xb)
            if channels_last:
                self.assertTrue(yb.is_contiguous(memory_format=torch.channels_last))
            dy = torch.randn_like(ya)
            (ya * dy).sum().backward()
            (yb * dy).sum().backward()
            where = "dims=%d n=%d g=%d momentum=%s affine=%s track=%s step %d" % (dims, n, g, momentum, affine, track, step)
            torch.testing.assert_close(yb, ya, atol=TOL, rtol=0, msg=lambda m: where + ": output: " + m)
            torch.testing.assert_close(xb.grad, xa.grad, atol=TOL, rtol=0, msg=lambda m: where + ": input grad: " + m)
            if affine:
                torch.testing.assert_close(gbn.weight.grad, ref.weight.grad, atol=TOL, rtol=0, msg=lambda m: where + ": weight grad: " + m)
                torch.testing.assert_close(gbn.bias.grad, ref.bias.grad, atol=TOL, rtol=0, msg=lambda m: where + ": bias grad: " + m)
            if track:
                torch.testing.assert_close(gbn.running_mean, ref.running_mean, atol=TOL, rtol=0, msg=lambda m: where + ": running_mean: " + m)
                torch.testing.assert_close(gbn.running_var, ref.running_var, atol=TOL, rtol=0, msg=lambda m: where + ": running_var: " + m)
                self.assertEqual(int(gbn.num_batches_tracked), int(ref.num_batches_tracked), where)
        # Eval: batch norm with the running statistics (or the batch's without them), never split.
        ref.eval()
        gbn.eval()
        x = torch.randn(*shape, dtype=torch.float64)
        torch.testing.assert_close(gbn(x), ref(x), atol=TOL, rtol=0)  # the running statistics agree to 1e-12, not bitwise

    def test_1d_divisible_and_ragged(self):
        for n, g in ((32, 8), (35, 8), (33, 8), (7, 16), (16, 16), (17, 16)):
            self.compare(1, n, g)

    def test_2d_divisible_and_ragged(self):
        for n, g in ((24, 8), (27, 8), (25, 8), (5, 8)):
            self.compare(2, n, g)

    def test_momentum_none_affine_false_track_false(self):
        self.compare(1, 30, 8, momentum=None)
        self.compare(2, 19, 4, momentum=None, steps=3)
        self.compare(1, 30, 8, affine=False)
        self.compare(2, 19, 4, affine=False)
        self.compare(1, 30, 8, track=False)
        self.compare(2, 19, 4, track=False)

    def test_channels_last(self):
        self.compare(2, 21, 8, channels_last=True)

    def test_float32_close_to_chunked(self):
        torch.manual_seed(3)
        ref = nn.BatchNorm1d(16)
        gbn = GT.GhostBatchNorm1d(16, ghost_batch_size=32)
        x = torch.randn(200, 16) * 2 + 3
        torch.testing.assert_close(gbn(x), reference(ref, x, 32), atol=2e-5, rtol=1e-5)
        torch.testing.assert_close(gbn.running_var, ref.running_var, atol=1e-5, rtol=1e-5)

    def test_gradcheck(self):
        torch.manual_seed(4)
        op = torch.ops.gengap.ghost_batch_norm
        for shape, g in (((9, 3), 4), ((7, 2, 2, 3), 3)):
            x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
            w = torch.rand(shape[1], dtype=torch.float64, requires_grad=True)
            b = torch.randn(shape[1], dtype=torch.float64, requires_grad=True)
            f = lambda x, w, b, g=g: op(x, w, b, None, None, None, True, 0.1, 1e-5, g)
            self.assertTrue(torch.autograd.gradcheck(f, (x, w, b), eps=1e-6, atol=1e-8))


@unittest.skipIf(SKIP, SKIP)
class ModuleContract(unittest.TestCase):
    def test_state_dict_round_trip_with_batchnorm(self):
        torch.manual_seed(5)
        bn = nn.BatchNorm2d(4)
        bn(torch.randn(16, 4, 3, 3))  # non-trivial running statistics
        g = GT.GhostBatchNorm2d(4, ghost_batch_size=4)
        g.load_state_dict(bn.state_dict())
        back = nn.BatchNorm2d(4)
        back.load_state_dict(g.state_dict())
        self.assertEqual(list(g.state_dict()), list(bn.state_dict()))
        for k, v in bn.state_dict().items():
            self.assertTrue(torch.equal(back.state_dict()[k], v), k)
        self.assertIsInstance(g, nn.BatchNorm2d)
        self.assertIn("ghost_batch_size=4", repr(g))

    def test_convert_keeps_eval_outputs_bitwise(self):
        torch.manual_seed(6)
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 36, 20),
                              nn.BatchNorm1d(20, momentum=None), nn.Sequential(nn.Linear(20, 10), nn.BatchNorm1d(10, affine=False)))
        model.train()
        for _ in range(3):
            model(torch.randn(32, 3, 8, 8))
        model.eval()
        x = torch.randn(10, 3, 8, 8)
        before = model(x)
        GT.convert(model, ghost_batch_size=8)
        kinds = [type(m).__name__ for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self.assertEqual(kinds, ["GhostBatchNorm2d", "GhostBatchNorm1d", "GhostBatchNorm1d"])
        self.assertFalse(model[1].training)
        self.assertIsNone(model[5].momentum)
        self.assertTrue(torch.equal(model(x), before))
        # And in training, it is ghost batch norm: per-chunk statistics of 8 samples.
        model.train()
        h = model[0](torch.randn(24, 3, 8, 8))
        ref = nn.BatchNorm2d(8)
        ref.load_state_dict(model[1].state_dict())
        torch.testing.assert_close(model[1](h), reference(ref, h, 8), atol=1e-5, rtol=1e-5)
        with self.assertRaises(ValueError):
            GT.convert(model, ghost_batch_size=0)

    def test_script_trace_and_pickle(self):
        torch.manual_seed(7)
        model = nn.Sequential(nn.Linear(10, 16), GT.GhostBatchNorm1d(16, ghost_batch_size=8), nn.ReLU(), nn.Linear(16, 3))
        x = torch.randn(30, 10)
        scripted = torch.jit.script(model)
        traced = torch.jit.trace(model, x, check_trace=False)
        for name, other in (("script", scripted), ("trace", traced)):
            eager = nn.Sequential(*[m for m in model])  # the same modules
            with torch.no_grad():
                a = other(x)
            # The scripted/traced model shares its parameters but has its own running statistics: rerun eager from a copy.
            state = {k: v.clone() for k, v in model.state_dict().items()}
            b = model(x)
            model.load_state_dict(state)
            torch.testing.assert_close(a, b, atol=0, rtol=0, msg=lambda m: name + ": " + m)
            self.assertIsNotNone(eager)
        scripted.eval()
        model.eval()
        torch.testing.assert_close(scripted(x), model(x), atol=0, rtol=0)
        buf = io.BytesIO()
        torch.save(model, buf)
        buf.seek(0)
        loaded = torch.load(buf)
        self.assertIsInstance(loaded[1], GT.GhostBatchNorm1d)
        self.assertEqual(loaded[1].ghost_batch_size, 8)
        torch.testing.assert_close(loaded(x), model(x), atol=0, rtol=0)
        buf = io.BytesIO()
        torch.jit.save(scripted, buf)
        buf.seek(0)
        again = torch.jit.load(buf)
        torch.testing.assert_close(again(x), scripted(x), atol=0, rtol=0)

    def test_errors_are_one_line(self):
        g1 = GT.GhostBatchNorm1d(4, ghost_batch_size=2)
        g2 = GT.GhostBatchNorm2d(4, ghost_batch_size=2)
        cases = [
            (lambda: g1(torch.randn(2, 4, 3, 3)), ValueError, "expected 2D or 3D input"),
            (lambda: g2(torch.randn(5, 4)), ValueError, "expected 4D input"),
            (lambda: g1(torch.randn(6, 5)), ValueError, "expected 4 channels"),
            (lambda: g1(torch.randn(1, 4)), ValueError, "more than 1 value per channel"),
            (lambda: GT.GhostBatchNorm1d(4, ghost_batch_size=0), ValueError, "ghost_batch_size = 0: must be >= 1"),
            (lambda: GT.GhostBatchNorm2d(4, ghost_batch_size=2.5), TypeError, "ghost_batch_size must be an int"),
            (lambda: torch.ops.gengap.ghost_batch_norm(torch.randn(6, 5), torch.ones(4), None, None, None, None, True, 0.1, 1e-5, 2),
             RuntimeError, "channels"),
        ]
        for f, exc, needle in cases:
            with self.assertRaises(exc) as e:
                f()
            first = str(e.exception).strip().splitlines()[0]
            self.assertIn(needle, first)
        g1.eval()
        self.assertEqual(g1(torch.randn(1, 4)).shape, (1, 4))  # eval accepts a batch of one, as nn.BatchNorm


@unittest.skipIf(SKIP or not TORCH_CHECK_EXE, SKIP or "torch_ops_check is not built (GENGAP_TORCH_CHECK_EXE unset)")
class SameBitsInCpp(unittest.TestCase):
    def test_scripted_model_and_module_in_cpp(self):
        d = scratch("torch_cpp")
        torch.manual_seed(8)
        model = nn.Sequential(nn.Linear(12, 16), GT.GhostBatchNorm1d(16, ghost_batch_size=8), nn.ReLU(), nn.Linear(16, 4))
        model.train()
        model(torch.randn(40, 12))  # running statistics that are not the initial ones
        x = torch.randn(37, 12)
        scripted = torch.jit.script(model)
        scripted.save(os.path.join(d, "model.pt"))
        with torch.no_grad():
            model.eval()
            y_eval = model(x)
            model.train()
            y_train = model(x)

        def layer(cls, shape, ghost):
            m = cls(shape[1], ghost_batch_size=ghost)
            with torch.no_grad():
                m.weight.copy_(torch.rand(shape[1]) + 0.5)
                m.bias.copy_(torch.randn(shape[1]))
            xx = torch.randn(*shape) * 2 + 1
            with torch.no_grad():
                yy = m(xx)
            return xx, m.weight.detach().clone(), m.bias.detach().clone(), yy, m.running_mean.clone(), m.running_var.clone()

        x1, w1, b1, y1, rm1, rv1 = layer(GT.GhostBatchNorm1d, (300, 64), 32)
        x2, w2, b2, y2, rm2, rv2 = layer(GT.GhostBatchNorm2d, (19, 5, 6, 7), 4)

        class Data(nn.Module):
            def __init__(self):
                super().__init__()
                for k, v in dict(x=x, y_eval=y_eval, y_train=y_train, x1=x1, w1=w1, b1=b1, y1=y1, rm1=rm1, rv1=rv1,
                                 x2=x2, w2=w2, b2=b2, y2=y2, rm2=rm2, rv2=rv2).items():
                    self.register_buffer(k, v)
                self.ghost1 = 32
                self.ghost2 = 4

            def forward(self):
                return self.x

        torch.jit.script(Data()).save(os.path.join(d, "data.pt"))
        p = subprocess.run([TORCH_CHECK_EXE, os.path.join(d, "model.pt"), os.path.join(d, "data.pt")], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("all checks hold bitwise", p.stdout)
        self.assertEqual(p.stdout.count("same bits"), 8, p.stdout)


if __name__ == "__main__":
    unittest.main()
