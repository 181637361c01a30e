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

from harness.atomic import write_atomic

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
            with (index / "runs.jsonl").open("a+b") as f:
                line = json.dumps({"run_id": run_id, "run_dir": str(run_dir.resolve())}) + "\n"
                f.write((b"\n" if _ends_torn(f) else b"") + line.encode("utf-8"))
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


def _ends_torn(f: Any) -> bool:
    """Whether a file opened ``a+b`` ends without a newline (a writer killed mid-line): then the
    next line must start on a new one."""
    f.seek(0, os.SEEK_END)
    if f.tell() == 0:
        return False
    f.seek(-1, os.SEEK_END)
    return f.read(1) != b"\n"


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


@dataclass(frozen=True)
class Damage:
    """Lines of a ledger (or of the run index) that could not be read: ``lines`` are 1-based
    line numbers; ``error`` says why the whole file could not be read (then ``lines`` is
    empty)."""

    path: Path
    lines: tuple[int, ...] = ()
    error: str | None = None

    def describe(self) -> str:
        """One line for ``harness cleanup``, e.g. ``FILE: 2 lines could not be read (lines 3,
        7); what they recorded may still be in place`` (at most 10 line numbers are listed)."""
        if self.error is not None:
            return f"{self.path}: could not be read ({self.error}); what it recorded may still be in place"
        shown = ", ".join(str(n) for n in self.lines[:10]) + (", ..." if len(self.lines) > 10 else "")
        count = len(self.lines)
        return (f"{self.path}: {count} line{'s' if count != 1 else ''} could not be read "
                f"(line{'s' if count != 1 else ''} {shown}); what {'they' if count != 1 else 'it'} recorded "
                "may still be in place")


class Replayed(list):
    """What :func:`replay` did: a list of :class:`Undone`, newest entry first, plus ``damage``
    (None, or the :class:`Damage` of the ledger: its lines that are not entries, see
    :func:`read_entries`, were not undone)."""

    def __init__(self, done: list[Undone], damage: Damage | None = None):
        super().__init__(done)
        self.damage = damage

    @property
    def unreadable(self) -> list[int]:
        """The 1-based numbers of the ledger's lines that could not be read."""
        return list(self.damage.lines) if self.damage else []


def _damage(path: Path, lines: list[int]) -> Damage | None:
    return Damage(path, tuple(lines)) if lines else None


def read_entries(path: Path, valid: Callable[[dict], bool]) -> tuple[list[dict], list[int]]:
    """The entries of a JSON-lines file: every line that is UTF-8 JSON of an object ``valid``
    accepts, in order, and the 1-based numbers of the lines that are not (blank lines aside).

    A torn last line (no newline: the writer was killed mid-line) is neither: the ledger is
    written *before* each mutation, so that mutation was never made. A missing file has no
    entries.

    Raises:
        OSError: the file exists but cannot be read.
    """
    entries: list[dict] = []
    unreadable: list[int] = []
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return entries, unreadable
    with f:
        for number, raw in enumerate(f, start=1):
            entry = _entry(raw)
            if entry is not None and valid(entry):
                entries.append(entry)
            elif raw.strip() and raw.endswith(b"\n"):
                unreadable.append(number)
    return entries, unreadable


def _entry(raw: bytes) -> dict | None:
    """One line as a JSON object, or None."""
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, an integer of > 4300 digits, too deep
        return None
    return entry if isinstance(entry, dict) else None


def _is_undo(entry: dict) -> bool:
    """A ledger entry: ``undo`` names a known kind (:data:`UNDO`)."""
    return isinstance(entry.get("undo"), str) and entry["undo"] in UNDO


def replay(run_dir: Path) -> Replayed:
    """Undo every ledger entry of a run, newest first; idempotent, never raises.

    Lines that are not entries (damaged, or of an unknown kind) are skipped and described by
    the result's ``damage``, as is a ledger that cannot be read at all."""
    path = run_dir / LEDGER_FILE
    try:
        entries, unreadable = read_entries(path, _is_undo)
    except OSError as exc:
        return Replayed([], Damage(path, error=exc.strerror or str(exc)))
    done = []
    for entry in reversed(entries):
        kind = entry.pop("undo")
        try:
            what, changed = UNDO[kind](**entry)
        except Exception as exc:  # one bad entry (wrong arguments included) must not stop the others
            what, changed = f"{kind} failed: {exc}", False
        done.append(Undone(kind, what, changed))
    return Replayed(done, _damage(path, unreadable))


def _is_run(entry: dict) -> bool:
    """An index entry: a string ``run_id`` and a string ``run_dir`` (without NUL)."""
    run_id, run_dir = entry.get("run_id"), entry.get("run_dir")
    return isinstance(run_id, str) and isinstance(run_dir, str) and bool(run_dir) and "\x00" not in run_dir


def index_path() -> Path:
    """The machine-wide run index, ``runs.jsonl`` in :func:`state_dir`."""
    return state_dir() / "runs.jsonl"


def read_index() -> tuple[dict[str, Path], Damage | None]:
    """run id -> run directory from the machine-wide index, and the :class:`Damage` of the
    index (None when every line is an entry)."""
    path = index_path()
    try:
        entries, unreadable = read_entries(path, _is_run)
    except OSError as exc:
        return {}, Damage(path, error=exc.strerror or str(exc))
    return {e["run_id"]: Path(e["run_dir"]) for e in entries}, _damage(path, unreadable)


def known_runs() -> dict[str, Path]:
    """run id -> run directory, from the machine-wide index (lines that are not entries are
    skipped; :func:`read_index` lists them)."""
    return read_index()[0]


def forget(run_ids: set[str]) -> None:
    """Drop runs from the machine-wide index (after a successful cleanup). Lines that are not
    entries stay as they are (they are evidence; a torn last line is dropped, so that the next
    entry does not join it); the index is replaced whole. Never raises for the file's content;
    an index that cannot be read or written is left alone."""
    index = index_path()
    try:
        lines = index.read_bytes().split(b"\n")
    except OSError:
        return
    torn = lines.pop()  # after the last newline: b"" or a torn line
    keep = [line for line in lines if not _names_run(line, run_ids)]
    if len(keep) == len(lines) and not torn:
        return
    try:
        write_atomic(index, b"".join(line + b"\n" for line in keep))
    except OSError:
        pass  # the index is a convenience: a stale entry only costs a later cleanup a lookup


def _names_run(line: bytes, run_ids: set[str]) -> bool:
    """Whether ``line`` is an index entry of one of ``run_ids``."""
    entry = _entry(line)
    return entry is not None and _is_run(entry) and entry["run_id"] in run_ids
