"""The cleanup ledger: every mutation is written down *before* it is made, so that a run killed
at any instant (even by SIGKILL) can be undone by ``harness cleanup``.

Each run has ``ledger.jsonl`` in its run directory: one JSON object per mutation, ``{"undo":
KIND, ...arguments}``. A machine-wide index (``$XDG_STATE_HOME/harness/runs.jsonl``, default
``~/.local/state/harness``) lists every run's directory, so ``harness cleanup --all`` finds the
ledgers of runs it was not told about.

Replay undoes entries newest first; every undo is idempotent and skips what is already gone.
Objects that live inside the run's containers (toxics in its Toxiproxy, iptables rules in its
network namespaces, files filled into its filesystems, lowered limits of its processes) vanish
with the containers, which the label sweep removes; the ledger matters most for what lives
outside them: the compose project, host helper processes, and toxics in a Toxiproxy that is
not the run's own.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

LEDGER_FILE = "ledger.jsonl"


def state_dir() -> Path:
    """Where the machine-wide run index lives."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "harness"


class Ledger:
    """Append-only list of undo actions for one run (thread-safe, flushed per line).

    Args:
        run_dir: the run directory (``ledger.jsonl`` is created there).
        run_id: registered in the machine-wide index on creation.
    """

    def __init__(self, run_dir: Path, run_id: str):
        self.path = run_dir / LEDGER_FILE
        self.run_id = run_id
        self._lock = threading.Lock()
        run_dir.mkdir(parents=True, exist_ok=True)
        index = state_dir()
        try:
            index.mkdir(parents=True, exist_ok=True)
            with (index / "runs.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps({"run_id": run_id, "run_dir": str(run_dir.resolve())}) + "\n")
        except OSError:
            pass  # the index is a convenience; the run directory's ledger is what matters

    def record(self, undo: str, **arguments: Any) -> None:
        """Write one undo action before the mutation it undoes is made.

        Raises:
            KeyError: ``undo`` is not a known undo kind (see :data:`UNDO`).
        """
        if undo not in UNDO:
            raise KeyError(f"unknown undo kind {undo!r}")
        line = json.dumps({"undo": undo, **arguments}, default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()


@dataclass(frozen=True)
class Undone:
    """What replaying one entry did: its kind, a description, and whether it changed anything."""

    undo: str
    what: str
    changed: bool


def _kill_pid(pid: int, start_ticks: int | None = None, **_: Any) -> tuple[str, bool]:
    """Kill a host helper process, unless the pid now belongs to another process (the start
    time in /proc/PID/stat field 22 must match)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return f"process {pid} (gone)", False
    if start_ticks is not None and int(stat.rsplit(")", 1)[1].split()[19]) != int(start_ticks):
        return f"process {pid} (pid reused, left alone)", False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return f"process {pid} (gone)", False
    return f"process {pid}", True


def _compose_down(project: str, **_: Any) -> tuple[str, bool]:
    """``compose -p PROJECT down -v --remove-orphans`` (no file needed: compose finds the
    project's objects by its labels)."""
    import subprocess

    from harness.environment.compose import compose_command

    try:
        proc = subprocess.run([*compose_command(), "-p", project, "down", "-v", "--remove-orphans", "-t", "1"],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except Exception as exc:  # cleanup goes on with the label sweep
        return f"compose project {project} ({exc})", False
    return f"compose project {project}", proc.returncode == 0


def _remove_toxic(api_url: str, proxy: str, toxic: str, **_: Any) -> tuple[str, bool]:
    """Remove a toxic from a Toxiproxy that outlives the run (an external one)."""
    from harness.toxiproxy.client import ToxiproxyClient

    try:
        removed = ToxiproxyClient(api_url, timeout_s=3).remove_toxic(proxy, toxic)
    except Exception:  # unreachable Toxiproxy: its container is gone, and the toxic with it
        return f"toxic {proxy}/{toxic} (toxiproxy unreachable)", False
    return f"toxic {proxy}/{toxic}", removed


def _inside_run(what: str, **_: Any) -> tuple[str, bool]:
    """A change inside the run's own containers (a toxic in its Toxiproxy, an iptables rule in
    its namespaces, a lowered limit, a filled file system): undone by removing the containers,
    which the label sweep does; recorded so the ledger lists every mutation."""
    return f"{what} (gone with the run's containers)", False


UNDO: dict[str, Callable[..., tuple[str, bool]]] = {
    "inside_run": _inside_run,
    "kill_pid": _kill_pid,
    "compose_down": _compose_down,
    "remove_toxic": _remove_toxic,
}
"""Undo kinds the ledger knows: name -> function(**arguments) -> (description, changed)."""


def replay(run_dir: Path) -> list[Undone]:
    """Undo every ledger entry of a run, newest first; idempotent, never raises."""
    path = run_dir / LEDGER_FILE
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line (the run died mid-write) undid nothing yet
    done = []
    for entry in reversed(entries):
        kind = entry.pop("undo", None)
        action = UNDO.get(kind or "")
        if action is None:
            continue
        try:
            what, changed = action(**entry)
        except Exception as exc:  # one bad entry must not stop the others
            what, changed = f"{kind} failed: {exc}", False
        done.append(Undone(kind, what, changed))
    return done


def known_runs() -> dict[str, Path]:
    """run id -> run directory, from the machine-wide index."""
    runs: dict[str, Path] = {}
    index = state_dir() / "runs.jsonl"
    if not index.exists():
        return runs
    for line in index.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            runs[entry["run_id"]] = Path(entry["run_dir"])
        except (json.JSONDecodeError, KeyError):
            continue
    return runs


def forget(run_ids: set[str]) -> None:
    """Drop runs from the machine-wide index (after a successful cleanup)."""
    index = state_dir() / "runs.jsonl"
    if not index.exists():
        return
    keep = [line for line in index.read_text(encoding="utf-8").splitlines()
            if not any(f'"{rid}"' in line for rid in run_ids)]
    index.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
