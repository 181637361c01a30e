"""The containers' own logs, saved into the run directory before the stack is torn down.

Every container of the run's compose project (running, exited, crashed: ``docker ps -a``) gets
``<run_dir>/logs/<container name>.log``: its stdout and stderr interleaved as Docker keeps them,
each line prefixed with Docker's RFC 3339 timestamp (UTC, nanoseconds), at most the last
:data:`MAX_LOG_BYTES` of it, redacted with the run's :class:`~harness.redact.Redactor` like every
other file of the run. The teardown (``harness.run``) calls :func:`save_logs` just before the
stack comes down, on every path a run can end by.

Saving logs never fails a run: a container whose logs cannot be read or written is journalled
(``logs.error``) and the others are still saved; ``logs.saved`` lists what was written.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from harness.errors import EnvironmentFailure

if TYPE_CHECKING:
    from harness.environment.stack import Stack

LOGS_DIR = "logs"
"""Subdirectory of the run directory the logs go into."""
MAX_LOG_BYTES = 20 * 1024 * 1024
"""Most bytes of a container's log kept (its last 20 MiB; counted before redaction)."""
SAVE_BUDGET_S = 60.0
"""Default time budget of :func:`save_logs` over all containers, seconds. A container reached
after it is spent is skipped (journalled); one whose log is still being read when it runs out is
cut there. A hung engine can hold a single read up to the Docker client's own timeout
(``DOCKER_TIMEOUT_S``, 30 s) on top."""
SAVE_THREADS = 4
"""Logs read at once: a run's containers' logs are read in parallel (a few ms of engine round
trip each, one after the other before the stack can go down; ``bench/run_overhead.py``), at most
this many at a time, so memory stays under ``2 * SAVE_THREADS * max_bytes``."""
FAST_SAVE_BUDGET_S = 5.0
"""The budget in the fast teardown (after a second Ctrl-C, which asks for speed), seconds."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class SavedLog:
    """One container's saved log: ``container`` name, ``path`` relative to the run directory
    (``logs/<name>.log``, POSIX separators), ``size_bytes`` of the file written, ``truncated``:
    not the whole log (only its last :data:`MAX_LOG_BYTES`, or what was read before the time
    budget ran out; the file's first line says which)."""

    container: str
    path: str
    size_bytes: int
    truncated: bool


@dataclass(frozen=True)
class LogTail:
    """What :func:`read_tail` read: ``data`` (the kept bytes), ``read_bytes`` (all bytes Docker
    sent), ``dropped_front`` (the beginning was dropped to keep the last ``max_bytes``; ``data``
    then starts at a line boundary), ``stopped_early`` (the deadline passed before the end)."""

    data: bytes
    read_bytes: int
    dropped_front: bool
    stopped_early: bool

    def note(self, max_bytes: int) -> str | None:
        """The ``[harness] ...`` line a cut log starts with, or None for a whole log."""
        if self.stopped_early:
            return (f"[harness] log cut: reading stopped when the time budget ran out, after {self.read_bytes} "
                    f"bytes; {len(self.data)} are kept\n")
        if self.dropped_front:
            return (f"[harness] log cut: only the last {len(self.data)} of {self.read_bytes} bytes are kept "
                    f"(limit {max_bytes} bytes)\n")
        return None


def log_file_name(container: str) -> str:
    """The file name of a container's log: its name with any character other than letters,
    digits, ``_``, ``.`` and ``-`` replaced by ``_`` (Docker names have none), plus ``.log``;
    never a path (no ``/``) and never hidden (a leading ``.`` becomes ``_``)."""
    safe = _UNSAFE.sub("_", container) or "container"
    return ("_" + safe[1:] if safe.startswith(".") else safe) + ".log"


def read_tail(container: Any, max_bytes: int = MAX_LOG_BYTES, deadline: float | None = None) -> LogTail:
    """The last ``max_bytes`` of a container's log (stdout + stderr, timestamped, not followed).

    Args:
        container: a Docker SDK container (``.logs(...)``).
        max_bytes: most bytes kept (> 0); the log is streamed, so memory stays about
            ``2 * max_bytes``.
        deadline: ``time.monotonic()`` value after which reading stops (what was read is kept).

    Raises:
        docker.errors.DockerException, requests.RequestException: the engine failed (wrap the
            call in :meth:`RunContainers.call`).
    """
    stream = container.logs(stdout=True, stderr=True, timestamps=True, stream=True, follow=False)
    buf = bytearray()
    total, dropped, stopped = 0, False, False
    try:
        for chunk in stream:
            total += len(chunk)
            buf += chunk
            if len(buf) > 2 * max_bytes:
                del buf[: len(buf) - max_bytes]
                dropped = True
            if deadline is not None and time.monotonic() > deadline:
                stopped = True
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    if len(buf) > max_bytes:
        del buf[: len(buf) - max_bytes]
        dropped = True
    if dropped:
        newline = buf.find(b"\n")
        if 0 <= newline < len(buf) - 1:
            del buf[: newline + 1]  # the partial first line
    return LogTail(bytes(buf), total, dropped, stopped)


def _journal(stack: Stack, event: str, **fields: Any) -> None:
    """Journal through the stack's journal; a journal that cannot be written is ignored here."""
    try:
        stack.journal.record(event, **fields)
    except Exception:  # noqa: BLE001 - save_logs never raises; the run's own end reports the journal
        pass


def save_logs(stack: Stack, run_dir: Path, redact: Callable[[str], str] = lambda text: text, *,
              max_bytes: int = MAX_LOG_BYTES, budget_s: float = SAVE_BUDGET_S,
              passthrough: tuple[type[BaseException], ...] = ()) -> list[Path]:
    """Write every container's log of the run's project to ``<run_dir>/logs/<container>.log``.

    Containers come from the stack's own listing (this run's project and run-id labels, stopped
    ones included), sorted by name; logs of an earlier run in ``logs/`` are removed first. Each
    log is the container's stdout and stderr with Docker's timestamps, its last ``max_bytes``
    bytes (a cut log starts with a ``[harness] ...`` line saying so), decoded as UTF-8 (invalid
    bytes replaced) and passed through ``redact``.

    Args:
        stack: the run's stack (its journal records ``logs.error`` / ``logs.saved``).
        run_dir: the run directory.
        redact: masks the run's secrets (the run's Redactor).
        max_bytes: most bytes kept per container.
        budget_s: time budget over all containers, seconds (see :data:`SAVE_BUDGET_S`).
        passthrough: exception types re-raised instead of journalled (the teardown's "second
            Ctrl-C" exception, which must reach the teardown).

    Returns:
        The paths written, in container-name order.

    Never raises (but for ``passthrough``): a container whose log cannot be read or written is
    journalled as ``logs.error`` (``container``, ``error``) and skipped; a failed listing is one
    ``logs.error`` without a container. ``logs.saved`` then lists ``files`` (one
    :class:`SavedLog` as a dict each) and ``failed`` (container names).
    """
    deadline = time.monotonic() + budget_s
    written: list[Path] = []
    saved: list[SavedLog] = []
    failed: list[str] = []
    try:
        containers = sorted(stack.containers.listing(all=True), key=lambda c: str(c.name))
        folder = run_dir / LOGS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.log"):
            old.unlink(missing_ok=True)
    except passthrough:
        raise
    except Exception as exc:  # noqa: BLE001 - never raises (see the docstring)
        _journal(stack, "logs.error", container=None, error=_message(exc))
        _journal(stack, "logs.saved", files=[], failed=[])
        return []
    pool = ThreadPoolExecutor(max_workers=min(SAVE_THREADS, len(containers)) or 1, thread_name_prefix="save-logs")
    futures = [pool.submit(_save_one, stack, c, folder, redact, max_bytes, deadline, budget_s) for c in containers]
    try:
        for container, future in zip(containers, futures):
            try:
                file, log = future.result()
            except passthrough:
                raise
            except Exception as exc:  # noqa: BLE001 - one container's failure never stops the others
                failed.append(str(container.name))
                _journal(stack, "logs.error", container=str(container.name), error=_message(exc))
                continue
            written.append(file)
            saved.append(log)
    finally:  # after a passthrough exception (a second Ctrl-C asks for speed) nothing waits for the reads
        pool.shutdown(wait=False, cancel_futures=True)
    _journal(stack, "logs.saved", files=[asdict(s) for s in saved], failed=failed)
    return written


def _save_one(stack: Stack, container: Any, folder: Path, redact: Callable[[str], str], max_bytes: int,
              deadline: float, budget_s: float) -> tuple[Path, SavedLog]:
    """Read one container's log (:func:`read_tail`) and write it, redacted, into ``folder``.

    Raises:
        TimeoutError: the budget ran out before this container's turn.
        EnvironmentFailure, OSError: the engine or the file failed.
    """
    name = str(container.name)
    if time.monotonic() > deadline:
        raise TimeoutError(f"the {budget_s:g} s budget for saving logs ran out before this container")
    tail = stack.containers.call(f"logs of {name}", lambda: read_tail(container, max_bytes, deadline))
    text = (tail.note(max_bytes) or "") + tail.data.decode("utf-8", errors="replace")
    file = folder / log_file_name(name)
    file.write_bytes(redact(text).encode("utf-8"))
    return file, SavedLog(name, f"{LOGS_DIR}/{file.name}", file.stat().st_size, tail.stopped_early or tail.dropped_front)


def _message(exc: BaseException) -> str:
    """One line for a failure: EnvironmentFailure's own message, else ``Type: message``."""
    text = str(exc) if isinstance(exc, EnvironmentFailure) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


__all__ = ["FAST_SAVE_BUDGET_S", "LOGS_DIR", "MAX_LOG_BYTES", "SAVE_BUDGET_S", "LogTail", "SavedLog", "log_file_name", "read_tail", "save_logs"]
