"""The load child: runs Locust headless and streams one record per request on stdout.

Run as ``python -m harness.load.worker SPEC.json``; never imported by the orchestrator (importing
locust monkey-patches the process with gevent). Protocol on stdout, one line each:

- ``R\\t<record>``: a request record (:mod:`harness.load.records` format);
- ``E\\t<json>``: an event: ``{"event": "started", "t": epoch_s}``, then
  ``{"event": "stopped", "t", "locust_requests", "locust_failures"}`` (Locust's own totals, so
  the parent can check no record was dropped), or ``{"event": "error", "message"}``.

Locust's logs go to stderr.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
import time
from pathlib import Path

import gevent
from locust import HttpUser, User, between, events, task
from locust.env import Environment

from harness.load.records import ErrorClass, RequestRecord, classify_exception

FLUSH_INTERVAL_S = 0.05
"""Records are batched and written every 50 ms: cheap, and fresh enough for live progress."""

_INT_PLACEHOLDER = re.compile(r"\{int:(-?\d+):(-?\d+)\}")


class _Out:
    """Buffered writer to stdout, flushed by a greenlet every FLUSH_INTERVAL_S."""

    def __init__(self) -> None:
        self.buffer: list[str] = []
        self.stream = sys.stdout

    def write(self, line: str) -> None:
        self.buffer.append(line)

    def event(self, **fields: object) -> None:
        self.buffer.append("E\t" + json.dumps(fields) + "\n")
        self.flush()

    def flush(self) -> None:
        if self.buffer:
            data, self.buffer = "".join(self.buffer), []
            self.stream.write(data)
            self.stream.flush()

    def run(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            self.flush()


def _mix_user(spec: dict) -> type[User]:
    """Build an HttpUser class that picks requests from the weighted mix with a seeded RNG."""
    mix = spec["requests"]
    weights = [r["weight"] for r in mix]
    timeout_s = spec["request_timeout_s"]
    low, high = spec["think_time_s"]
    seed = spec["seed"]
    counter = iter(range(1_000_000))

    class MixUser(HttpUser):
        host = spec["host"]
        wait_time = between(low, high)

        def on_start(self) -> None:
            self.rng = random.Random(f"{seed}:user:{next(counter)}")

        @task
        def pick(self) -> None:
            req = self.rng.choices(mix, weights=weights)[0]
            path = _INT_PLACEHOLDER.sub(lambda m: str(self.rng.randint(int(m[1]), int(m[2]))), req["path"])
            self.client.request(
                req["method"], path, name=req["name"], json=req.get("json"), timeout=timeout_s, allow_redirects=False
            )

    return MixUser


def _locustfile_users(path: str) -> list[type[User]]:
    """Import a user's locustfile and return its concrete User classes (unchanged code)."""
    module_spec = importlib.util.spec_from_file_location("harness_user_locustfile", path)
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"cannot import locustfile {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(Path(path).parent))
    module_spec.loader.exec_module(module)
    users = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, User) and v.__module__ == module.__name__ and not v.abstract
    ]
    if not users:
        raise RuntimeError(f"locustfile {path} defines no User class")
    return users


def main(spec_path: str) -> int:
    """Run the load described by the JSON spec at ``spec_path``; return the exit code."""
    spec = json.loads(Path(spec_path).read_text())
    out = _Out()
    try:
        users = _locustfile_users(spec["locustfile"]) if spec.get("locustfile") else [_mix_user(spec)]
    except Exception as exc:  # reported to the parent as one line
        out.event(event="error", message=f"{type(exc).__name__}: {exc}")
        return 2
    for user in users:
        if spec.get("locustfile") and not getattr(user, "host", None):
            user.host = spec["host"]

    def on_request(request_type, name, response_time, response_length, response=None, exception=None,
                   start_time=None, **_kwargs):
        status = int(getattr(response, "status_code", 0) or 0)
        if exception is None:
            error = ""
        elif status:
            error = ErrorClass.for_status(status) or ErrorClass.OTHER.value
        else:
            error = classify_exception(exception)
        start = start_time if start_time is not None else time.time() - response_time / 1000
        out.write("R\t" + RequestRecord(start, response_time, str(name), status, error, int(response_length or 0)).encode())

    env = Environment(user_classes=users, events=events, host=spec["host"])
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    gevent.spawn(out.run)
    runner.start(spec["users"], spawn_rate=spec["spawn_rate"])
    out.event(event="started", t=time.time())
    gevent.spawn_later(spec["duration_s"], runner.quit)
    runner.greenlet.join()
    out.flush()
    total = env.stats.total
    out.event(event="stopped", t=time.time(), locust_requests=total.num_requests, locust_failures=total.num_failures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
