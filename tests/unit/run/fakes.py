"""Fakes at the run's edges (no Docker, no Locust child, no Toxiproxy): each appends what it was
asked to do to a shared list, so that tests see the order of a phase's calls."""

from __future__ import annotations

import time
from types import SimpleNamespace
from pathlib import Path

from harness.environment.ledger import Ledger
from harness.journal import Journal
from harness.load.stream import LiveStats
from harness.redact import Redactor
from harness.run.prepare import Prepared
from harness.scenario import load_scenario
from tests.conftest import REPO

CALLS: list[str] = []
"""What the fakes were asked, in order (cleared by each test's ``calls`` fixture)."""

QUICKSTART = REPO / "scenarios" / "quickstart.yaml"


def prepared(tmp_path: Path, scenario: Path = QUICKSTART, overrides: tuple[str, ...] = ()) -> Prepared:
    """A prepared run of ``scenario`` in ``tmp_path`` (no preflight: its compose config is made up)."""
    loaded = load_scenario(scenario, list(overrides))
    journal = Journal(tmp_path, redact=Redactor())
    return Prepared(loaded, 42, "20260101T000000Z-abcdef", tmp_path, Redactor(), journal,
                    Ledger(tmp_path, "20260101T000000Z-abcdef"), time.time(), {"services": {"lb": {}}})


def events(journal: Journal) -> list[dict]:
    import json

    return [json.loads(line) for line in journal.path.read_text().splitlines()]


class FakeProgress:
    def __init__(self):
        self.phases: list[str] = []
        self.ticks = 0

    def phase(self, text):
        self.phases.append(text)

    def tick(self, *args):
        self.ticks += 1


class FakeContainers:
    """Stands in for harness.environment.containers.RunContainers (the stack's ``containers``)."""

    def services(self):
        return {"lb", "api", "catalog", "toxiproxy"}

    address = "127.0.0.1"  # a local engine's: where published ports are dialled

    def published_port(self, service, port):
        return 30000 + port

    def published_url(self, service, port, scheme="http"):
        return f"{scheme}://{self.address}:{self.published_port(service, port)}"

    def image_ids(self):
        return {"lb": "sha256:1"}

    def listing(self, service=None, all=False):
        return [SimpleNamespace(name=n) for n in ("shop-api-1", "shop-lb-1")]

    def new_client(self, timeout, **extra):
        return SimpleNamespace(timeout=timeout, extra=extra)


class FakeStack:
    """Stands in for harness.environment.Stack; ``fail`` names the call that raises."""

    fail: str | None = None

    def __init__(self, target, base_dir, run_id, run_dir, journal, redact=None, ledger=None, proxies=(), publish=None,
                 resolved=None):
        self.journal, self.redact, self.publish, self.target = journal, redact, publish, target
        self.project = f"harness-{run_id}"
        self.compose = SimpleNamespace(log_path=run_dir / "compose.log", redact=redact)
        self.started = False
        self.edge_plan = None
        self.containers = FakeContainers()

    def _call(self, what):
        CALLS.append(f"stack.{what}")
        if FakeStack.fail == what:
            from harness.errors import EnvironmentFailure

            raise EnvironmentFailure(f"{what} failed")

    def up(self):
        self._call("up")
        self.started = True

    def down(self, fast=False):
        CALLS.append("stack.down(fast)" if fast else "stack.down")

    def wait_healthy(self, timeout_s):
        self._call("wait_healthy")


class FakeToxiproxy:
    def __init__(self, base_url):
        self.base_url = base_url
        self.created = []

    def wait_ready(self, timeout_s):
        CALLS.append("toxiproxy.wait_ready")
        return "2.12.0"

    def proxies(self):
        return {}

    def create_proxy(self, config):
        self.created.append(config)


class FakeDriver:
    """Stands in for LoadDriver: runs until ``running`` is set False (by a test, or by
    ``end_after_ticks`` calls to ``stats.window``)."""

    end_grace_s = 1.0
    pid = 4242

    def __init__(self, spec=None, run_dir=None, redact=None):
        self.spec = spec
        self.running = False
        self.started_at = None
        self.stats = LiveStats()
        self.stopped = {"t": 1000.5, "stop_requested_t": 1000.0}

    def spawn(self, warm=None):
        CALLS.append("driver.spawn" if warm is None else "driver.spawn(warm)")
        self.running = True

    def start(self):
        CALLS.append("driver.start")
        self.started_at = time.time()
        return self.started_at

    def wait(self, timeout_s):
        CALLS.append("driver.wait")
        self.running = False

    def stop(self, grace_s=5.0):
        CALLS.append("driver.stop" if grace_s == 5.0 else f"driver.stop(grace_s={grace_s})")
        self.running = False

    def stop_summary(self):
        return {"records": self.stats.requests}


class FakePart:
    """A monitor, watchdog or proxy watch: start and stop."""

    def __init__(self, name, *args, **kwargs):
        self.name = name
        self.failing: str | None = None

    def start(self):
        CALLS.append(f"{self.name}.start")

    def stop(self):
        CALLS.append(f"{self.name}.stop")

    def failure(self):
        return self.failing


class FakeTimeline:
    def __init__(self, *args, **kwargs):
        self.steps = 0
        self.failure: Exception | None = None

    def step(self, t0):
        self.steps += 1
        if self.failure is not None:
            raise self.failure

    def settle(self, t0):
        CALLS.append("timeline.settle")

    def active(self):
        return []

    def next_due_s(self):
        return None

    def revert_all(self, t0):
        CALLS.append("timeline.revert_all")
