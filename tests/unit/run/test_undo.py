"""The undo stack (last pushed, first undone; graceful and fast actions) and the teardown that
runs it (:func:`harness.run.teardown.unwind`): every step runs whatever the others raised, a
second signal switches to the fast actions."""

from __future__ import annotations

import signal

import pytest

from harness.journal import Journal
from harness.run.signals import FastTeardown, raise_fast_teardown
from harness.run.teardown import unwind
from harness.run.undo import UndoStack
from tests.unit.run import fakes
from tests.unit.run.fakes import FakeProgress


pytestmark = pytest.mark.usefixtures("restore_signal_handlers")


def stack_of(calls, raising=None):
    """a, b, c pushed in that order; each graceful action appends ``name``, each fast one
    ``name!`` (b has none); ``raising``: name -> exception its graceful action raises."""
    undo = UndoStack()
    for name in ("a", "b", "c"):
        def graceful(name=name):
            calls.append(name)
            if raising and name in raising:
                raise raising[name]

        undo.push(name, graceful, None if name == "b" else (lambda name=name: calls.append(f"{name}!")))
    return undo


def test_the_last_pushed_is_undone_first_and_fast_steps_skip_those_without_one():
    calls = []
    undo = stack_of(calls)
    assert undo.names() == ["c", "b", "a"] and len(undo) == 3
    for _, call in undo.graceful_steps() + undo.fast_steps():
        call()
    assert calls == ["c", "b", "a", "c!", "a!"]


def test_unwind_runs_every_step_and_journals_each_failure(tmp_path):
    calls, journal, progress = [], Journal(tmp_path), FakeProgress()
    undo = stack_of(calls, raising={"c": RuntimeError("boom"), "a": OSError("gone")})
    status, error = unwind(undo, journal, progress, "completed", None)
    assert calls == ["c", "b", "a"] and progress.phases == ["tearing down (Ctrl-C again for a fast teardown)"]
    assert [(e["step"], e["error"]) for e in fakes.events(journal)] == [("c", "RuntimeError: boom"),
                                                                        ("a", "OSError: gone")]
    assert (status, error) == ("error", "teardown failed: c: RuntimeError: boom; a: OSError: gone")
    assert "--- teardown step c ---" in (tmp_path / "harness.log").read_text()


@pytest.mark.parametrize("status, error, expected", [
    ("completed", None, ("completed", None)),
    ("aborted", "abort condition tripped: x", ("aborted", "abort condition tripped: x")),
])
def test_a_clean_teardown_keeps_the_outcome(tmp_path, status, error, expected):
    assert unwind(stack_of([]), Journal(tmp_path), FakeProgress(), status, error) == expected


def test_a_second_signal_switches_to_every_fast_step_and_ignores_further_signals(tmp_path):
    calls, progress = [], FakeProgress()
    installed = []
    undo = stack_of(calls, raising={"b": FastTeardown("SIGINT")})
    undo.push("d", lambda: installed.append(signal.getsignal(signal.SIGINT)))
    assert unwind(undo, Journal(tmp_path), progress, "completed", None) == ("interrupted",
                                                                            "interrupted during teardown")
    assert installed == [raise_fast_teardown]  # during the graceful teardown, a signal means "faster"
    assert calls == ["c", "b", "c!", "a!"]  # a's graceful step is skipped; every fast step runs
    assert progress.phases[-1].startswith("fast teardown") and signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_an_empty_stack_only_announces_the_teardown(tmp_path):
    progress, journal = FakeProgress(), Journal(tmp_path)
    assert unwind(UndoStack(), journal, progress, "error", "stack failed") == ("error", "stack failed")
    assert len(progress.phases) == 1 and fakes.events(journal) == []
