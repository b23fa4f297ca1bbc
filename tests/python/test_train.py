"""gengap.train: the trainer from Python, bitwise the same run as gengap-train's, stopped cleanly by Ctrl-C."""

import _thread
import json
import os
import subprocess
import threading
import unittest
import warnings

import numpy as np

import gengap
from support import TRAIN_EXE, scratch

try:
    from gengap import _train  # noqa: F401
    HAVE_TRAIN = True
except ImportError:
    HAVE_TRAIN = False

TINY = {"model": "f1", "dataset": "synthetic", "synthetic_size": 256, "batch_size": 32, "epochs": 2, "device": "cpu",
        "dtype": "float64", "progress": False, "probe_size": 64, "seed": 3}


@unittest.skipUnless(HAVE_TRAIN, "gengap was built without LibTorch")
class Train(unittest.TestCase):
    def test_defaults_and_errors(self):
        d = gengap.default_train_config()
        self.assertEqual(d.model, "f1")
        self.assertEqual(d.batch_size, 128)
        with self.assertRaisesRegex(ValueError, "^batch_size = 10.5: expected an integer"):
            gengap.train(TINY, batch_size=10.5)
        with self.assertRaisesRegex(ValueError, "^batchsize = "):
            gengap.train(TINY, batchsize=3)

    @unittest.skipUnless(TRAIN_EXE, "GENGAP_TRAIN_EXE not set")
    def test_same_run_as_the_cli(self):
        ours = scratch("train-py")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # generic BLAS kernels: the CLI below is given the same
            s = gengap.train(TINY, out_dir=ours)
        self.assertEqual(s.iterations, 2 * (256 // 32))
        self.assertEqual(s.out_dir, ours)
        theirs = scratch("train-cli")
        cfg = os.path.join(theirs, "cfg.json")
        with open(cfg, "w") as f:
            json.dump(dict(TINY, out_dir=theirs), f)
        # The same BLAS kernels as this process (gengap-train would otherwise leave generic kernels for
        # Haswell's on an AVX2 processor, and the floats would differ in the last bits).
        env = dict(os.environ)
        if s.blas:
            env["OPENBLAS_CORETYPE"] = s.blas
        proc = subprocess.run([TRAIN_EXE, "--config", cfg], capture_output=True, text=True, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        a, b = gengap.read_run(ours), gengap.read_run(theirs)
        self.assertEqual(list(a.distance), list(b.distance))
        for col in a.distance:
            np.testing.assert_array_equal(a.distance[col], b.distance[col], err_msg=col)
        # "blas": the Python process finds the OpenBLAS its extension loaded privately, as the program does.
        for key in ("test_accuracy", "test_loss", "train_loss", "final_distance", "iterations", "blas"):
            self.assertEqual(a.summary[key], b.summary[key], key)
        np.testing.assert_array_equal(a.metrics["distance"], b.metrics["distance"])
        self.assertEqual([m.distance for m in a.metrics.rows()], list(b.metrics["distance"]))

    def test_ctrl_c_leaves_complete_files(self):
        out = scratch("train-stop")
        seen = []

        def progress(f):
            seen.append(f)
            if len(seen) == 1:
                threading.Timer(0.3, _thread.interrupt_main).start()

        with self.assertRaises(KeyboardInterrupt):
            gengap.train(TINY, out_dir=out, epochs=4000, synthetic_size=2048, progress=progress)
        self.assertFalse(os.path.exists(os.path.join(out, "summary.json")))
        run = gengap.read_run(out)  # whatever is there parses
        self.assertEqual(run.config["epochs"], 4000)
        # Resume continues from the last finished epoch's checkpoint when there is one.
        if os.path.exists(os.path.join(out, "checkpoint.pt")):
            s = gengap.train(TINY, out_dir=out, epochs=run.metrics[-1]["epoch"] + 1, synthetic_size=2048, resume=True)
            self.assertGreater(s.iterations, 0)


if __name__ == "__main__":
    unittest.main()
