"""``python shifted_clock_worker.py SHIFT_S HOST:PORT SPEC.json``: a Locust worker of
``harness.load.worker`` whose wall clock (``time.time``) runs SHIFT_S seconds off this machine's,
as on a remote machine whose clock is wrong (test_remote_worker_clock.py)."""

import runpy
import sys
import time

shift_s = float(sys.argv[1])
_real_time, _real_time_ns = time.time, time.time_ns
time.time = lambda: _real_time() + shift_s
time.time_ns = lambda: _real_time_ns() + int(shift_s * 1e9)
sys.argv = ["harness.load.worker", "--worker", *sys.argv[2:]]
runpy.run_module("harness.load.worker", run_name="__main__", alter_sys=True)
