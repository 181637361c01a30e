"""The harness survives its own faults: interrupts at every phase, SIGKILL + cleanup, a hung
control plane, bystanders left alone, secrets never written. Real Docker, real Toxiproxy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

SHORT = ["--set", "load.duration_s=40", "--set", "faults.0.at_s=3", "--set", "faults.0.duration_s=20",
         "--set", "faults.1.at_s=25", "--set", "faults.1.duration_s=5"]


def start(out: Path, *extra: str, scenario: str = "scenarios/quickstart.yaml", env: dict | None = None):
    return subprocess.Popen([sys.executable, "-m", "harness", "run", scenario, "--out", str(out), *SHORT, *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def wait_for_event(proc, out: Path, event: str, timeout_s: float = 180) -> dict:
    """Wait until the run's journal holds ``event``; return it."""
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if journal.exists():
            for line in journal.read_text().splitlines():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if obj["event"] == event:
                    return obj
        if proc.poll() is not None:
            pytest.fail(f"the run ended before {event}: {proc.communicate()[1][-2000:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no {event} within {timeout_s} s")


def run_id_of(out: Path) -> str:
    return json.loads((out / "journal.jsonl").read_text().splitlines()[0])["run_id"]


def assert_nothing_left(run_id: str, out: Path) -> None:
    for kind in ("ps -aq", "network ls -q", "volume ls -q"):
        left = subprocess.run(["docker", *kind.split(), "--filter", f"label=harness.run-id={run_id}"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        assert left == "", f"{kind}: {left}"
    # toxics and iptables rules live in the run's Toxiproxy and network namespaces: gone with the
    # containers (checked above). Host processes the run started are in its ledger:
    for line in (out / "ledger.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["undo"] == "kill_pid":
            assert not Path(f"/proc/{entry['pid']}").exists() or _zombie(entry["pid"]), entry


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


PHASES = {
    # phase: (journal event to wait for, signal)
    "stack-coming-up": ("stack.up", signal.SIGINT),
    "waiting-healthy": ("proxy.create", signal.SIGTERM),
    "baseline": ("load.start", signal.SIGINT),
    "during-a-fault": ("fault.inject", signal.SIGTERM),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_interrupt_at_each_phase_leaves_nothing(docker_engine, tmp_path, phase):
    event, sig = PHASES[phase]
    out = tmp_path / phase
    proc = start(out)
    wait_for_event(proc, out, event)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 130, stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted"
    assert_nothing_left(report["run_id"], out)
    injects = [t for t in report["timeline"] if t["action"] == "inject"]
    reverts = [t for t in report["timeline"] if t["action"] == "revert"]
    assert len(injects) == len(reverts)  # every injected fault was reverted on the way out


def test_second_interrupt_during_teardown_forces_a_fast_teardown(docker_engine, tmp_path):
    out = tmp_path / "teardown"
    proc = start(out)
    wait_for_event(proc, out, "fault.inject")
    proc.send_signal(signal.SIGINT)
    wait_for_event(proc, out, "fault.revert")  # teardown has begun
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted"
    assert_nothing_left(report["run_id"], out)


def test_sigkill_then_cleanup_leaves_nothing(docker_engine, tmp_path, harness_cli):
    out = tmp_path / "killed"
    proc = start(out)
    wait_for_event(proc, out, "fault.inject")
    proc.kill()
    proc.communicate(timeout=30)
    run_id = run_id_of(out)
    left = subprocess.run(["docker", "ps", "-q", "--filter", f"label=harness.run-id={run_id}"],
                          capture_output=True, text=True).stdout.split()
    assert left, "the SIGKILLed run should have left its containers for cleanup to find"
    first = harness_cli("cleanup", "--run-id", run_id)
    assert first.returncode == 0, first.stderr
    assert "undid compose project" in first.stdout or "removed container:" in first.stdout, first.stdout
    assert "undid process" in first.stdout, first.stdout  # the orphaned Locust child
    assert_nothing_left(run_id, out)
    again = harness_cli("cleanup", "--run-id", run_id)  # idempotent
    assert again.returncode == 0 and "nothing" in again.stdout.lower()


def test_hung_toxiproxy_makes_the_run_inconclusive(docker_engine, tmp_path):
    out = tmp_path / "hung"
    proc = start(out)
    wait_for_event(proc, out, "fault.inject")
    run_id = run_id_of(out)
    client = docker.from_env()
    toxiproxy = client.containers.list(filters={"label": [f"harness.run-id={run_id}",
                                                          "com.docker.compose.service=toxiproxy"]})[0]
    toxiproxy.pause()
    try:
        _, stderr = proc.communicate(timeout=180)
    finally:
        try:
            toxiproxy.reload()
            if toxiproxy.status == "paused":
                toxiproxy.unpause()
        except docker.errors.NotFound:
            pass
    assert proc.returncode == 3, stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "error" and "toxiproxy" in report["error"].lower()
    assert report["expectations"] == []
    assert_nothing_left(run_id, out)


def test_bystanders_are_never_touched_and_secrets_never_written(docker_engine, tmp_path):
    client = docker.from_env()
    bystander = client.containers.run(
        "harness/shop:0.1", ["sleep", "600"], detach=True, name=f"bystander-{tmp_path.name[-8:]}",
        labels={"com.docker.compose.service": "api", "com.docker.compose.project": "bystanders"},
    )
    try:
        bystander.reload()
        started = bystander.attrs["State"]["StartedAt"]
        secret = "s3cr3t-token-for-harness-test"
        scenario = tmp_path / "secret.yaml"
        text = (REPO / "scenarios" / "quickstart.yaml").read_text()
        text = text.replace("compose: ../docker-compose.yml", f"compose: {REPO / 'docker-compose.yml'}")
        text = text.replace("  profile: resilient", "  profile: resilient\n  env: {SHOP_TOKEN: '${env:HARNESS_TEST_SECRET}'}")
        text = text.replace('weight: 8}', 'weight: 8, headers: {Authorization: "Bearer ${env:HARNESS_TEST_SECRET}"}}')
        text = text.replace("count: 1", "percent: 100")
        scenario.write_text(text)
        out = tmp_path / "run"
        proc = start(out, scenario=str(scenario), env={"HARNESS_TEST_SECRET": secret})
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), stderr[-2000:]
        report = json.loads((out / "report.json").read_text())
        kill = next(t for t in report["timeline"] if t["kind"] == "kill" and t["action"] == "inject")
        assert len(kill["touched"]) == 2 and bystander.name not in kill["touched"]  # both run replicas, not it
        bystander.reload()
        assert bystander.status == "running" and bystander.attrs["State"]["StartedAt"] == started
        for file in out.rglob("*"):
            if file.is_file():
                assert secret.encode() not in file.read_bytes(), file
        assert secret not in stderr
        assert_nothing_left(report["run_id"], out)
    finally:
        bystander.remove(force=True)
