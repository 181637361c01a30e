"""Helpers of the load integration tests (real Docker, Toxiproxy and Locust).

- ``run_scenario(name, *overrides)``: ``harness run tests/integration/load/<name>.yaml`` through
  the CLI into a temporary directory; returns the exit code, report.json and the run dir, after
  checking that nothing labelled with the run's id is left behind.
- ``toxi``: this directory's compose.yml (Toxiproxy alone) up as a labelled run project, with
  the proxy ``api`` (:18474 -> its own API on 127.0.0.1:8474), for tests that drive
  :class:`harness.load.LoadDriver` directly. Brought down at the end of the module; the module
  fails if anything labelled with its run id remains.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.environment import Stack
from harness.journal import Journal
from harness.load.records import RECORD_COLUMNS
from harness.run import new_run_id
from harness.scenario.models import Target
from harness.toxiproxy import ProxyConfig, ToxiproxyClient

HERE = Path(__file__).resolve().parent


def leftovers(run_id: str) -> dict[str, str]:
    """Containers, networks and volumes still labelled with ``run_id`` (all empty when clean)."""
    out = {}
    for kind in ("ps -aq", "network ls -q", "volume ls -q"):
        cmd = ["docker", *kind.split(), "--filter", f"label=harness.run-id={run_id}"]
        out[kind] = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    return out


CLEAN = {"ps -aq": "", "network ls -q": "", "volume ls -q": ""}


@dataclass
class Run:
    returncode: int
    stderr: str
    report: dict
    run_dir: Path

    def journal(self, name: str) -> dict:
        """The first journal event called ``name``."""
        for line in (self.run_dir / "journal.jsonl").read_text().splitlines():
            event = json.loads(line)
            if event["event"] == name:
                return event
        raise AssertionError(f"no {name} in the journal")

    def records(self):
        """requests.tsv as a DataFrame."""
        import pandas as pd

        return pd.read_csv(self.run_dir / "requests.tsv", sep="\t", names=list(RECORD_COLUMNS), keep_default_na=False)

    def window(self, name: str) -> dict:
        return next(w for w in self.report["windows"] if w["name"] == name)


@pytest.fixture
def run_scenario(docker_engine, harness_cli, tmp_path):
    def run(name: str, *overrides: str) -> Run:
        out = tmp_path / name
        args = [a for o in overrides for a in ("--set", o)]
        proc = harness_cli("run", str(HERE / f"{name}.yaml"), "--out", str(out), *args, timeout=300)
        report_path = out / "report.json"
        assert report_path.exists(), proc.stderr[-3000:]
        report = json.loads(report_path.read_text())
        assert leftovers(report["run_id"]) == CLEAN
        return Run(proc.returncode, proc.stderr, report, out)

    return run


@dataclass
class Toxi:
    """The running Toxiproxy-only stack."""

    stack: Stack
    toxiproxy: ToxiproxyClient
    api_url: str
    """Toxiproxy's API, published on loopback (the fast upstream)."""
    proxy_url: str
    """The ``api`` proxy in front of it, published on loopback."""

    def container(self) -> object:
        """The Toxiproxy container (Docker SDK; guarded by the run label)."""
        return self.stack.containers.container(self.stack.containers.running_containers("toxiproxy")[0])


@pytest.fixture(scope="module")
def toxi(docker_engine, tmp_path_factory) -> Toxi:
    run_id = new_run_id()
    run_dir = tmp_path_factory.mktemp("load-stack")
    # Toxiproxy is the target here: the stall test freezes its container
    stack = Stack(Target(compose="compose.yml", allow_toxiproxy_faults=True), HERE, run_id, run_dir, Journal(run_dir))
    try:
        stack.up()
        api_url = f"http://127.0.0.1:{stack.containers.published_port('toxiproxy', 8474)}"
        toxiproxy = ToxiproxyClient(api_url)
        toxiproxy.wait_ready(60)
        toxiproxy.create_proxy(ProxyConfig("api", "0.0.0.0:18474", "127.0.0.1:8474"))
        stack.wait_healthy(60)
        yield Toxi(stack, toxiproxy, api_url, f"http://127.0.0.1:{stack.containers.published_port('toxiproxy', 18474)}")
    finally:
        stack.down()
        assert leftovers(run_id) == CLEAN
