"""The journal: an append-only record of everything a run did, with UTC times.

Two files in the run directory:

- ``journal.jsonl``: one JSON object per event, ``{"event", "at" (ISO-8601 UTC), "t" (epoch s),
  ...fields}``, flushed per line so a crash leaves everything up to it;
- ``requests.tsv``: one line per request from the load child (see :mod:`harness.load.records`).

Analysis reads these files and nothing else about the run.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable


def utc_iso(epoch_s: float) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-21T06:00:00.123Z``."""
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Event:
    """One journal entry: ``name`` (e.g. ``fault.inject``), ``t`` in epoch seconds, and fields."""

    name: str
    t: float
    fields: dict[str, Any]


class Journal:
    """Append-only run record.

    Args:
        run_dir: directory for ``journal.jsonl`` and ``requests.tsv`` (created if missing).
        clock: returns epoch seconds; injected so tests can drive time.
        redact: applied to every line before it is written (masks the scenario's secrets).
    """

    def __init__(self, run_dir: Path, clock: Callable[[], float] = time.time,
                 redact: Callable[[str], str] = lambda text: text):
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        self.path = run_dir / "journal.jsonl"
        self.requests_path = run_dir / "requests.tsv"
        self.clock = clock
        self.redact = redact
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8")

    def record(self, event: str, t: float | None = None, **fields: Any) -> Event:
        """Append one event; ``t`` defaults to now. Thread-safe. Returns the event."""
        t = self.clock() if t is None else t
        line = self.redact(json.dumps({"event": event, "at": utc_iso(t), "t": round(t, 6), **fields}, default=str))
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
        return Event(event, t, fields)

    def close(self) -> None:
        """Close the file; later records raise ``ValueError``."""
        with self._lock:
            self._file.close()


class JournalFileError(ValueError):
    """A ``journal.jsonl`` read strictly holds a line that is not an event, or cannot be read:
    ``FILE:LINE: not a journal event (why)`` or ``FILE: cannot read (reason)``; one line."""


def read_events(run_dir: Path, strict: bool = False) -> list[Event]:
    """Every event of a run's journal, in order.

    A line is an event when it is UTF-8 JSON (a byte order mark on the first line is accepted)
    of an object with a string ``event`` and a finite number ``t`` (epoch s, returned as a
    float); blank lines are ignored. A torn final line (no trailing newline: the run was
    killed mid-write) that is not an event is always skipped.

    Args:
        run_dir: the directory holding ``journal.jsonl``.
        strict: False (the run's own report builder): every other line that is not an event
            is skipped too, and the events around it are kept. True (``harness compare``):
            such a line raises.

    Raises:
        OSError: the journal cannot be read (``strict`` False).
        JournalFileError: ``strict`` and a line is not an event, or the journal cannot be read.
    """
    path = run_dir / "journal.jsonl"
    events = []
    try:
        with path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                event, why = _event(raw, first=number == 1)
                if event is not None:
                    events.append(event)
                elif why and strict and raw.endswith(b"\n"):
                    raise JournalFileError(f"{path}:{number}: not a journal event ({why})")
    except OSError as exc:
        if strict:
            raise JournalFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
        raise
    return events


def _event(raw: bytes, first: bool = False) -> tuple[Event | None, str]:
    """One journal line as an :class:`Event`, or None and why not (empty for a blank line)."""
    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text at byte {exc.start}"
    if not text.strip():
        return None, ""
    try:
        obj = json.loads(text)
    except RecursionError:
        return None, "not JSON: nested too deep"
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
        return None, f"not JSON: {_first_line(exc)}"
    if not isinstance(obj, dict):
        return None, f"a JSON {_JSON_TYPES.get(type(obj), 'value')}, not an object"
    name, t = obj.pop("event", None), obj.pop("t", None)
    if not isinstance(name, str):
        return None, 'no string "event"'
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        return None, 'no number "t"'
    try:
        t_s = float(t)
    except OverflowError:
        t_s = math.inf
    if not math.isfinite(t_s):
        return None, '"t" is not a finite number'
    obj.pop("at", None)
    return Event(name, t_s, obj), ""


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def _first_line(exc: Exception) -> str:
    """An exception's message, its first 120 characters of one line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
