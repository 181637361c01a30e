"""The journal: an append-only record of everything a run did, with UTC times.

Two files in the run directory:

- ``journal.jsonl``: one JSON object per event, ``{"event", "at" (ISO-8601 UTC), "t" (epoch s),
  ...fields}``, flushed per line so a crash leaves everything up to it;
- ``requests.tsv``: one line per request from the load child (see :mod:`harness.load.records`).

Analysis reads these files and nothing else about the run.
"""

from __future__ import annotations

import json
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


def read_events(run_dir: Path) -> list[Event]:
    """Every event of a run's journal, in order; a torn last line (crash) is skipped."""
    events = []
    path = run_dir / "journal.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        name, t = obj.pop("event"), obj.pop("t")
        obj.pop("at", None)
        events.append(Event(name, t, obj))
    return events
