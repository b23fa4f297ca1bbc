#!/usr/bin/env python3
"""Ghost Batch Norm in Python PyTorch, timed (issue 29): one F1 training step at B = 4096 with ghost
batches of 128, and one layer forward + backward on [4096, 512], for

- gengap.torch.GhostBatchNorm1d (the C++ operator),
- the authors' way: nn.BatchNorm1d on 32 sequential chunks of 128 with gradient accumulation,
- a vectorized Python GBN (a [G, 128, C] view, mean and var over dim 1, running statistics in closed form),
- plain nn.BatchNorm1d over the whole batch (no ghost batches: the floor).

Medians of timed repetitions after warm-up. Writes a JSON record (--out) with the CPU, threads and
torch version. Run with the machine otherwise idle:

    PYTHONPATH=build/release/python /usr/bin/python3 bench/gbn_pytorch.py --out docs/results/gbn_pytorch.json
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time

import torch
from torch import nn
import torch.nn.functional as F

import gengap.torch as GT

B, GHOST, WIDTH = 4096, 128, 512


class VectorizedGBN(nn.BatchNorm1d):
    """Ghost batch norm in plain PyTorch operators (what a user writes without gengap): normalizes a
    [G, ghost, C] view, and updates the running statistics as G sequential BatchNorm steps."""

    def __init__(self, num_features, ghost_batch_size):
        super().__init__(num_features)
        self.ghost_batch_size = ghost_batch_size

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        n, c = x.shape
        g = n // self.ghost_batch_size
        xv = x.view(g, self.ghost_batch_size, c)
        var, mean = torch.var_mean(xv, dim=1, unbiased=False, keepdim=True)
        y = (xv - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias
        with torch.no_grad():
            m = self.momentum
            w = m * (1 - m) ** torch.arange(g - 1, -1, -1, dtype=x.dtype)
            unbiased = var * (self.ghost_batch_size / (self.ghost_batch_size - 1))
            self.running_mean.mul_((1 - m) ** g).add_((w[:, None] * mean[:, 0, :]).sum(0))
            self.running_var.mul_((1 - m) ** g).add_((w[:, None] * unbiased[:, 0, :]).sum(0))
            self.num_batches_tracked.add_(g)
        return y.view(n, c)


def f1(norm):
    layers = [nn.Flatten()]
    width = 784
    for _ in range(5):
        layers += [nn.Linear(width, WIDTH), norm(WIDTH), nn.ReLU()]
        width = WIDTH
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


NORMS = {
    "gengap.torch GhostBatchNorm1d": lambda c: GT.GhostBatchNorm1d(c, ghost_batch_size=GHOST),
    "vectorized Python GBN": lambda c: VectorizedGBN(c, GHOST),
    "plain nn.BatchNorm1d (no ghosts)": lambda c: nn.BatchNorm1d(c),
    "authors' chunk loop (nn.BatchNorm1d, 32 chunks)": lambda c: nn.BatchNorm1d(c),
}


def timed(f, reps, warmup):
    for _ in range(warmup):
        f()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), out


def step_times(reps):
    """Each variant's steps in a block of its own (interleaving them measured 2.5 s for every variant,
    3x slower: the four models' weights and optimizer states evict each other from the caches)."""
    torch.manual_seed(1)
    x = torch.randn(B, 1, 28, 28)
    y = torch.randint(0, 10, (B,))
    rows = {}
    for name, norm in NORMS.items():
        model = f1(norm)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        chunks = name.startswith("authors")

        def step():
            opt.zero_grad(set_to_none=True)
            if chunks:
                for xc, yc in zip(x.split(GHOST), y.split(GHOST)):
                    (F.cross_entropy(model(xc), yc) / (B // GHOST)).backward()
            else:
                F.cross_entropy(model(x), y).backward()
            opt.step()

        med, all_ = timed(step, reps, 2)
        rows[name] = {"seconds_median": med, "samples_per_second": B / med, "seconds": all_}
    return rows


def layer_times(reps):
    torch.manual_seed(2)
    x0 = torch.randn(B, WIDTH)
    dy = torch.randn(B, WIDTH)
    rows = {}
    for name, make in (("gengap.torch GhostBatchNorm1d", lambda: GT.GhostBatchNorm1d(WIDTH, ghost_batch_size=GHOST)),
                       ("vectorized Python GBN", lambda: VectorizedGBN(WIDTH, GHOST)),
                       ("plain nn.BatchNorm1d (no ghosts)", lambda: nn.BatchNorm1d(WIDTH))):
        m = make()
        x = x0.clone().requires_grad_(True)

        def fb():
            x.grad = None
            m.weight.grad = None
            m.bias.grad = None
            m(x).backward(dy)

        med, all_ = timed(fb, reps, 5)
        rows[name] = {"seconds_median": med, "seconds": all_}
    return rows


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="", help="write the JSON record here")
    ap.add_argument("--reps", type=int, default=7, help="timed F1 steps per variant (layer: 4x as many)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="torch threads (default: the cores this process may use; some OpenMP builds start with 1)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    steps = step_times(a.reps)
    layers = layer_times(4 * a.reps)
    bn_layer = layers["plain nn.BatchNorm1d (no ghosts)"]["seconds_median"]
    vec_step = steps["vectorized Python GBN"]["seconds_median"]
    record = {
        "what": "F1 training step (SGD, B = 4096, ghost batches of 128) and one [4096, 512] layer forward + backward, medians",
        "date": datetime.date.today().isoformat(),
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "step": steps,
        "layer": layers,
        "goals": {
            "step_speedup_over_vectorized": vec_step / steps["gengap.torch GhostBatchNorm1d"]["seconds_median"],
            "layer_ratio_to_batchnorm": layers["gengap.torch GhostBatchNorm1d"]["seconds_median"] / bn_layer,
            "targets": "step >= 1.5x the vectorized Python GBN; layer within 1.2x of nn.BatchNorm1d",
        },
    }
    print("F1 step, B = %d, ghosts of %d (%s, %d threads, torch %s):" % (B, GHOST, record["cpu"], record["threads"], torch.__version__))
    for k, v in steps.items():
        print("  %-50s %8.3f s  %7.0f samples/s" % (k, v["seconds_median"], v["samples_per_second"]))
    print("one layer fwd+bwd on [%d, %d]:" % (B, WIDTH))
    for k, v in layers.items():
        print("  %-50s %8.2f ms  (%.2fx BatchNorm)" % (k, 1e3 * v["seconds_median"], v["seconds_median"] / bn_layer))
    print("step speed-up over the vectorized Python GBN: %.2fx; layer / BatchNorm: %.2fx"
          % (record["goals"]["step_speedup_over_vectorized"], record["goals"]["layer_ratio_to_batchnorm"]))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(record, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
