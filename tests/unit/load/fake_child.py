"""A stand-in for the load child, for the driver's tests: prints protocol lines chosen by the
spec's ``host`` field (``fake://<script>``) and exits. No locust, no network."""

import json
import os
import sys
import time
from pathlib import Path

spec = json.loads(Path(sys.argv[-1]).read_text())
script = spec["host"].removeprefix("fake://")
out = sys.stdout.buffer


def emit(text: str) -> None:
    out.write(text.encode())
    out.flush()


def record(i: int, t0: float, error: str = "") -> str:
    return f"R\t{t0 + i * 0.001:.6f}\t1.500\tGET /x\t{0 if error else 200}\t{error}\t3\n"


if script == "ok":
    t0 = time.time()
    emit(f'E\t{json.dumps({"event": "started", "t": t0})}\n')
    batch = "".join(record(i, t0, "connection_refused" if i % 10 == 0 else "") for i in range(5000))
    for cut in range(0, len(batch), 777):  # writes that split lines anywhere
        emit(batch[cut:cut + 777])
    emit("a stray line\n")
    stopped = {"event": "stopped", "t": time.time(), "records": 5000, "locust_requests": 5000, "locust_failures": 500,
               "locust_p50_ms": 2.0, "locust_p95_ms": 2.0, "locust_p99_ms": 2.0, "unsent": 0,
               "killed_in_flight": 3, "stop_requested_t": 123.5,
               "workers": [{"index": 0, "records": 2500, "locust_requests": 2500, "unsent": 0},
                           {"index": 1, "records": 2500, "locust_requests": 2500, "unsent": 0}]}
    emit(f"E\t{json.dumps(stopped)}\n")
elif script == "slow-end":  # the drain after the duration takes 1.5 s
    emit(f'E\t{json.dumps({"event": "started", "t": time.time()})}\n')
    time.sleep(1.5)
    emit(f'E\t{json.dumps({"event": "stopped", "t": time.time(), "records": 0})}\n')
elif script == "error":
    emit('E\t{"event": "error", "message": "ValueError: no users"}\n')
    sys.exit(2)
elif script == "silent":
    time.sleep(60)
elif script in ("orphan", "orphan-holding-pipe"):
    # leaves a grandchild in its process group (like a local Locust worker) and dies; a real
    # worker's stdout is /dev/null, the "holding-pipe" one keeps the protocol pipe open
    pid = os.fork()
    if pid == 0:
        if script == "orphan":
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
        Path(spec["requests"][0]["path"]).write_text(str(os.getpid()))
        time.sleep(120)
        os._exit(0)
    emit(f'E\t{json.dumps({"event": "started", "t": time.time()})}\n')
    time.sleep(0.3)
    sys.exit(3)
