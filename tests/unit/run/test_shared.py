"""SharedStack: what a reset puts back (Toxiproxy, containers stopped or paused by a fault, the
health wait), that a failed reset takes the stack down, and that close always takes it down."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from harness.errors import EnvironmentFailure
from harness.run.shared import SharedStack


class Container:
    def __init__(self, name, status, calls):  # noqa: ANN001
        self.name, self.status, self.calls = name, status, calls

    def start(self):
        self.calls.append(f"start {self.name}")

    def unpause(self):
        self.calls.append(f"unpause {self.name}")


class Stack:
    def __init__(self, tmp_path, statuses, calls, healthy=True):  # noqa: ANN001
        self.calls, self.healthy, self.started = calls, healthy, True
        self.by_name = {n: Container(n, s, calls) for n, s in statuses.items()}
        self.containers = SimpleNamespace(listing=lambda: [c for c in self.by_name.values() if c.status == "running"],
                                          inspect=lambda name: self.by_name[name])
        self.target = SimpleNamespace(healthy_timeout_s=5)
        self.redact = lambda text: text
        self.compose = SimpleNamespace(log_path=tmp_path / "compose.log", redact=self.redact)
        self.journal = None
        self.project = "harness-x"

    def wait_healthy(self, timeout_s):  # noqa: ANN001
        self.calls.append("wait_healthy")
        if not self.healthy:
            raise EnvironmentFailure("stack not healthy after 5 s: api (state exited)")

    def down(self, fast=False):  # noqa: ANN001
        self.calls.append("down(fast)" if fast else "down")
        self.journal.record("stack.down", project=self.project, swept=[], fast=fast)


@pytest.fixture
def kept(tmp_path, monkeypatch):
    import harness.environment.logs as logs

    calls: list[str] = []
    monkeypatch.setattr(logs, "save_logs", lambda stack, run_dir, redact, passthrough=(): calls.append(
        f"save_logs {run_dir.name}"))
    stack = Stack(tmp_path, {"api-1": "running", "api-2": "running", "lb-1": "running"}, calls)
    shared = SharedStack(tmp_path / "stack")
    shared.keep(stack)  # type: ignore[arg-type]
    shared.note_healthy(stack, SimpleNamespace(reset=lambda: calls.append("toxiproxy.reset")))  # type: ignore[arg-type]
    return shared, stack, calls


def test_a_reset_puts_back_what_a_fault_left_and_waits_for_health(kept):
    shared, stack, calls = kept
    stack.by_name["api-1"].status = "exited"  # killed by a fault whose revert failed
    stack.by_name["api-2"].status = "paused"
    shared.reset()
    assert calls == ["toxiproxy.reset", "start api-1", "unpause api-2", "wait_healthy"]
    assert shared.stack is stack


def test_a_reset_that_fails_takes_the_stack_down_and_says_why(kept, tmp_path):
    shared, stack, calls = kept
    stack.healthy = False
    with pytest.raises(EnvironmentFailure, match="not healthy"):
        shared.reset()
    assert calls[-2:] == ["save_logs stack", "down"] and shared.stack is None
    down = [json.loads(line) for line in (tmp_path / "stack" / "journal.jsonl").read_text().splitlines()]
    assert [e["event"] for e in down] == ["stack.down"]
    shared.reset()  # nothing kept: nothing to do
    assert calls[-1] == "down"


def test_close_is_idempotent_and_fast_skips_the_logs(kept):
    shared, stack, calls = kept
    shared.close(fast=True)
    shared.close()
    assert calls == ["down(fast)"]


def test_a_signal_while_closing_switches_to_the_fast_down(kept, monkeypatch, restore_signal_handlers):
    import os
    import signal

    import harness.environment.logs as logs

    shared, stack, calls = kept

    def slow_logs(stack, run_dir, redact, passthrough=()):  # noqa: ANN001
        calls.append("save_logs")
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the logs are being saved

    monkeypatch.setattr(logs, "save_logs", slow_logs)
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN under a shell's background job
    shared.close()
    assert calls == ["save_logs", "down(fast)"] and shared.stack is None
    assert signal.getsignal(signal.SIGINT) is before  # put back
