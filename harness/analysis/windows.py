"""Slice a run into windows from its journal: baseline, one per fault, one recovery after each.

Times are offsets in seconds from the load's start (``load.start``), taken from the *actual*
inject and revert times in the journal, not the scheduled ones:

- ``baseline``: load start to the first inject (the whole load when there are no faults);
- ``fault:<name>``: inject to revert (to the load's end if the revert never happened);
  an intermittent fault has one window per occurrence, ``fault:<name>#<k>``;
- ``recovery:<name>``: revert to the next inject of any fault after it, or to the load's end
  (``recovery:<name>#<k>`` for occurrences). Faults may overlap, so another fault can be active
  in a recovery window;
- ``run``: the whole load (used by expectations on ``run``; not listed among the windows).

A fault with no ``fault.inject`` event (its inject failed) gets no window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.journal import Event

WindowKind = Literal["baseline", "fault", "recovery", "run"]


@dataclass(frozen=True)
class Window:
    """A half-open interval ``[start_s, end_s)`` of the load, in seconds from its start."""

    name: str
    kind: WindowKind
    start_s: float
    end_s: float
    fault: str | None = None

    @property
    def duration_s(self) -> float:
        """Length in seconds (never negative)."""
        return max(0.0, self.end_s - self.start_s)


def load_bounds(events: list[Event]) -> tuple[float, float]:
    """Epoch seconds of the load's start and end (``load.start`` / ``load.stop``; the last event
    stands in for a stop that never came).

    Raises:
        ValueError: the journal has no ``load.start`` (the load never ran).
    """
    start = next((e.t for e in events if e.name == "load.start"), None)
    if start is None:
        raise ValueError("the journal has no load.start event: the load never ran")
    stop = next((e.t for e in events if e.name == "load.stop"), None)
    return start, stop if stop is not None else max(e.t for e in events)


def slice_windows(events: list[Event], recovery_grace_s: float = 0.0) -> tuple[list[Window], Window]:
    """The ordered windows of a run, and the whole-run window. Each recovery window starts
    ``recovery_grace_s`` after its revert (never past its end).

    Raises:
        ValueError: no ``load.start`` in the journal.
    """
    t0, t_end = load_bounds(events)
    end_s = round(t_end - t0, 3)
    injects = sorted((e for e in events if e.name == "fault.inject"), key=lambda e: e.t)
    reverts = {_key(e): e.t for e in events if e.name == "fault.revert"}
    windows: list[Window] = []
    first = injects[0].t - t0 if injects else end_s
    windows.append(Window("baseline", "baseline", 0.0, round(max(0.0, first), 3)))
    for inject in injects:
        name = inject.fields.get("fault")
        occurrence = inject.fields.get("occurrence")
        suffix = f"#{occurrence}" if occurrence else ""
        start = round(inject.t - t0, 3)
        revert = reverts.get(_key(inject))
        stop = min(round(revert - t0, 3), end_s) if revert is not None else end_s
        windows.append(Window(f"fault:{name}{suffix}", "fault", start, stop, name))
        if revert is not None:
            later = [e.t for e in injects if e.t >= revert]
            nxt = round(later[0] - t0, 3) if later else end_s
            rec_end = max(stop, min(nxt, end_s))
            windows.append(Window(f"recovery:{name}{suffix}", "recovery", min(stop + recovery_grace_s, rec_end),
                                  rec_end, name))
    return windows, Window("run", "run", 0.0, end_s)


def _key(event: Event) -> tuple[object, object]:
    return event.fields.get("fault"), event.fields.get("occurrence")


def select(windows: list[Window], run: Window, selector: str) -> list[Window]:
    """Windows an expectation's ``window`` selector names: a kind (``baseline``, ``fault``,
    ``recovery``), ``run``, or a window by name (``fault:x`` also selects ``fault:x#1``,
    ``fault:x#2``... of an intermittent fault)."""
    if selector == "run":
        return [run]
    if selector in ("baseline", "fault", "recovery"):
        return [w for w in windows if w.kind == selector]
    return [w for w in windows if w.name == selector or w.name.startswith(selector + "#")]
