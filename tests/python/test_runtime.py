"""Long calls: the GIL released, progress reported, stopped by an exception in progress or by Ctrl-C."""

import _thread
import threading
import time
import unittest

import gengap


class Gil(unittest.TestCase):
    def test_another_thread_runs_during_a_walk(self):
        count = [0]
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                count[0] += 1

        th = threading.Thread(target=spin)
        th.start()
        try:
            time.sleep(0.05)
            before = count[0]
            t0 = time.monotonic()
            gengap.walk(environments=16, walkers=16, t_max=2 * 10 ** 6, per_decade=4, bootstrap=0, threads=1)
            elapsed = time.monotonic() - t0
            during = count[0] - before
        finally:
            stop.set()
            th.join()
        # With the GIL held the spinning thread could not run at all while the walk ran.
        self.assertGreater(elapsed, 0.1)
        self.assertGreater(during, 1000, "the other thread made no progress: the GIL was held")


class Progress(unittest.TestCase):
    def test_fractions_reported(self):
        seen = []
        gengap.walk(environments=16, walkers=16, t_max=2 * 10 ** 6, per_decade=4, bootstrap=0, progress=seen.append)
        self.assertGreater(len(seen), 0)
        self.assertTrue(all(0 <= f <= 1 for f in seen))
        self.assertEqual(seen, sorted(seen))

    def stops(self, call):
        """An exception raised by progress stops the run promptly and is raised by the call."""

        class Stop(Exception):
            pass

        def progress(f):
            raise Stop()

        t0 = time.monotonic()
        with self.assertRaises(Stop):
            call(progress)
        return time.monotonic() - t0

    def test_exception_in_progress_stops_every_runner(self):
        # Each would run for many minutes.
        self.assertLess(self.stops(lambda p: gengap.walk(environments=64, walkers=64, t_max=2 ** 31, bootstrap=0, progress=p)), 20)
        self.assertLess(self.stops(lambda p: gengap.exact(environments=2000, octaves=30, half_width=300, valley_samples=0,
                                                          progress=p)), 20)
        self.assertLess(self.stops(lambda p: gengap.lattice(dims=[2], boxes=[1024], environments=1000, walkers=100,
                                                            t_max=10 ** 7, progress=p)), 20)
        self.assertLess(self.stops(lambda p: gengap.sgd(dim=200, modes=2048, t_max=10 ** 7, progress=p)), 20)
        self.assertLess(self.stops(lambda p: gengap.sgd_run(dim=200, modes=2048, t_max=10 ** 7, progress=p)), 20)


class CtrlC(unittest.TestCase):
    def test_keyboard_interrupt_stops_a_walk(self):
        timer = threading.Timer(0.5, _thread.interrupt_main)
        timer.start()
        t0 = time.monotonic()
        try:
            with self.assertRaises(KeyboardInterrupt):
                gengap.walk(environments=64, walkers=64, t_max=2 ** 31, bootstrap=0)  # hours if not stopped
        finally:
            timer.cancel()
        self.assertLess(time.monotonic() - t0, 20)
        # The module is usable afterwards.
        self.assertEqual(len(gengap.walk(environments=2, t_max=100, bootstrap=0).msd), len(gengap.log_times(100, 10)))


if __name__ == "__main__":
    unittest.main()
