"""Slice a run into windows from its journal: baseline, one per fault, one recovery after each.

Times are offsets in seconds from the load's start (``load.start``), taken from the *actual*
inject and revert calls in the journal, not the scheduled ones. A ``fault.inject`` or
``fault.revert`` event's ``t`` is when its call started and ``took_ms`` how long it took (a
``stop`` may take its whole grace period, a rolling ``restart`` much longer), so each call
spans ``[t, t + took_ms/1000]``. The rule: **a window holds only time when its state was fully
in place**:

- ``baseline``: load start to the *start* of the first inject call (the whole load when there
  are no faults);
- ``fault:<name>``: from the *end* of the inject call (the fault fully in place) to the *start*
  of the revert call (to the load's end if the revert never happened); an intermittent fault
  has one window per occurrence, ``fault:<name>#<k>``;
- ``recovery:<name>``: from the *end* of the revert call (the fault fully undone), plus
  ``recovery_grace_s``, to the start of the next inject of any fault after it, or to the load's
  end (``recovery:<name>#<k>`` for occurrences). Faults may overlap, so another fault can be
  active in a recovery window;
- ``run``: the whole load (used by expectations on ``run``; not listed among the windows).

The time an inject or revert call was in flight belongs to no fault or recovery window. An event
without ``took_ms`` counts as an instant call. Every window is clipped to the load and never
ends before it starts. A fault with no ``fault.inject`` event (its inject failed) gets no window.
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
    """The ordered windows of a run, and the whole-run window (see the module docstring for
    where each starts and ends). Each recovery window starts ``recovery_grace_s`` seconds after
    its revert call ended (never past its end).

    Raises:
        ValueError: no ``load.start`` in the journal.
    """
    t0, t_end = load_bounds(events)
    end_s = round(t_end - t0, 3)
    injects = sorted((e for e in events if e.name == "fault.inject"), key=lambda e: e.t)
    reverts = {_key(e): e for e in events if e.name == "fault.revert"}
    windows: list[Window] = []
    first = injects[0].t - t0 if injects else end_s
    windows.append(Window("baseline", "baseline", 0.0, round(min(max(0.0, first), end_s), 3)))
    for inject in injects:
        name = inject.fields.get("fault")
        occurrence = inject.fields.get("occurrence")
        suffix = f"#{occurrence}" if occurrence else ""
        start = min(round(_ended_at(inject) - t0, 3), end_s)
        revert = reverts.get(_key(inject))
        stop = max(start, min(round(revert.t - t0, 3), end_s)) if revert is not None else end_s
        windows.append(Window(f"fault:{name}{suffix}", "fault", start, stop, name))
        if revert is not None:
            undone = max(stop, min(round(_ended_at(revert) - t0, 3), end_s))
            later = [e.t for e in injects if e.t >= revert.t]
            nxt = round(later[0] - t0, 3) if later else end_s
            rec_end = max(undone, min(nxt, end_s))
            windows.append(Window(f"recovery:{name}{suffix}", "recovery",
                                  round(min(undone + recovery_grace_s, rec_end), 3), rec_end, name))
    return windows, Window("run", "run", 0.0, end_s)


def _ended_at(event: Event) -> float:
    """Epoch seconds when a journalled call returned: ``t + took_ms/1000`` (``t`` without it)."""
    took_ms = event.fields.get("took_ms")
    return event.t + (float(took_ms) / 1000 if isinstance(took_ms, (int, float)) else 0.0)


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
