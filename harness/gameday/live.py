"""What the operator sees: the last seconds' latency (p99) from the records as they are written,
the windows so far from the journal as it is written, and the lines that show them.

Both read the run's own files (``requests.tsv``, ``journal.jsonl``), never Docker: the same
records and events the report is built from, so what the game day shows live is what its
report will say.
"""

from __future__ import annotations

import json
import math
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

from harness.analysis.windows import Window, slice_windows
from harness.journal import Event

RECENT_S = 10.0
"""The live p99 covers requests that ended in the last 10 s."""


def clock_tag(epoch_s: float) -> str:
    """``HH:MM:SSZ`` (UTC) of epoch seconds: the time each echoed line starts with."""
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%H:%M:%SZ")


class FileTail:
    """The whole lines appended to a file since the last call (a file that grows as a run
    writes it; a line still being written waits for its newline).

    Args:
        path: the file (it may not exist yet).
    """

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0

    def new_lines(self) -> list[bytes]:
        """The lines completed since the last call, without their newlines ([] when none, or
        when the file cannot be read)."""
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except OSError:
            return []
        cut = data.rfind(b"\n")
        if cut < 0:
            return []
        self._offset += cut + 1
        return data[:cut].split(b"\n")


class RecentLatency:
    """The p99 of the requests that ended in the last :data:`RECENT_S` seconds, read from the
    run's ``requests.tsv`` as the driver appends it (only whole lines; a garbled one is
    skipped).

    Args:
        path: the run's ``requests.tsv`` (it may not exist yet).
    """

    def __init__(self, path: Path):
        self._tail = FileTail(path)
        self._recent: deque[tuple[float, float]] = deque()  # (end epoch s, duration ms), by arrival

    def p99_ms(self, now: float) -> float | None:
        """Nearest-rank p99 in milliseconds of the requests that ended in ``(now - RECENT_S,
        now]`` (epoch s); None when none did."""
        self._read()
        while self._recent and self._recent[0][0] <= now - RECENT_S:
            self._recent.popleft()
        durations = sorted(d for end, d in self._recent if end <= now)
        if not durations:
            return None
        return durations[max(0, math.ceil(0.99 * len(durations)) - 1)]

    def _read(self) -> None:
        """Read the lines appended since the last call."""
        for line in self._tail.new_lines():
            fields = line.split(b"\t")
            try:
                start_s, duration_ms = float(fields[0]), float(fields[1])
            except (IndexError, ValueError):
                continue
            self._recent.append((start_s + duration_ms / 1000, duration_ms))


WINDOW_EVENTS = (b'"event": "load.start"', b'"event": "fault.inject"', b'"event": "fault.revert"')
"""The journal lines the windows are sliced from (the rest is not parsed)."""


class WindowsSoFar:
    """The run's windows so far: :func:`harness.analysis.windows.slice_windows` over the
    journal written so far, as if the load stopped now. The journal is read incrementally (only
    whole lines, only those of :data:`WINDOW_EVENTS` parsed), so a long game day's journal is
    not read again at every tick.

    Args:
        run_dir: the run's directory (its ``journal.jsonl``).
    """

    def __init__(self, run_dir: Path):
        self._tail = FileTail(run_dir / "journal.jsonl")
        self._events: list[Event] = []

    def get(self, now: float) -> tuple[Window, ...]:
        """The windows as of epoch ``now``; () before the load started."""
        self._read()
        try:
            windows, _run = slice_windows([*self._events, Event("load.stop", now, {})])
        except ValueError:  # no load.start yet
            return ()
        return tuple(windows)

    def _read(self) -> None:
        for line in self._tail.new_lines():
            if any(marker in line for marker in WINDOW_EVENTS):
                try:
                    raw = json.loads(line)
                    self._events.append(Event(str(raw["event"]), float(raw["t"]), raw))
                except (ValueError, KeyError, TypeError):
                    continue


def windows_line(windows: tuple[Window, ...], active: list[str]) -> str:
    """The windows as ``name start-end s``, joined by ``, ``; a window still open (its fault
    active, or the last one) ends in ``…``."""
    parts = []
    for i, w in enumerate(windows):
        still_open = i == len(windows) - 1 or (w.kind == "fault" and w.fault in active and not any(
            later.name == f"recovery:{w.name.removeprefix('fault:')}" for later in windows[i + 1:]))
        parts.append(f"{w.name} {w.start_s:.1f}-" + ("…" if still_open else f"{w.end_s:.1f} s"))
    return ", ".join(parts) or "none yet"


def live_line(elapsed_s: float, cap_s: float, rps: float, error_rate: float, p99_ms: float | None,
              active: list[str], windows: int) -> str:
    """The live line, e.g. ``game day  42.1 s (cap 75 s) |   85.0 rps | errors   0.0% | p99
    210 ms | active: catalog-slow | 2 windows | type a command (status, end...)``."""
    p99 = f"{p99_ms:.0f} ms" if p99_ms is not None else "-"
    return (f"game day {elapsed_s:6.1f} s (cap {cap_s:.0f} s) | {rps:7.1f} rps | errors {error_rate * 100:5.1f}% | "
            f"p99 {p99} | active: {', '.join(active) or 'none'} | {windows} windows | type a command (status, end...)")


def status_lines(elapsed_s: float, rps: float, error_rate: float, p99_ms: float | None, active: list[str],
                 windows: tuple[Window, ...]) -> list[str]:
    """What ``status`` prints: the load, the active faults, the windows so far."""
    p99 = f"{p99_ms:.0f} ms" if p99_ms is not None else "-"
    return [
        f"status: load {elapsed_s:.1f} s, {rps:.1f} rps, errors {error_rate * 100:.1f}%, p99 {p99} "
        f"(last {RECENT_S:.0f} s)",
        f"status: active faults: {', '.join(active) or 'none'}",
        f"status: windows: {windows_line(windows, active)}",
    ]
