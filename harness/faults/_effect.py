"""Shared by the kinds' :meth:`~harness.faults.base.Fault.effect_counters`: a bounded, never-raising
read (how ``harness faults`` words a kind's effect rules is
:mod:`harness.scenario.faults.describe`).

Private module: not a fault kind, not auto-registered.

The read contract (the timeline calls ``effect_counters()`` right before ``revert()``, while the
fault is still in place, and journals the result in ``fault.revert`` as ``effect``):

- it is cheap: procfs / cgroupfs files (no call that waits on another process) or one short
  ``iptables -L`` per chain and namespace;
- it is bounded: :func:`bounded_read` gives up after :data:`EFFECT_READ_TIMEOUT_S`, so it can
  delay the revert by no more than that;
- it never raises: any failure gives ``{}`` (analysis then cannot prove the effect from it, and
  the window is inconclusive unless another rule proves it). A read that covers only part of
  the victims (one namespace unreadable) returns what it read: every counter is a lower bound.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

EFFECT_READ_TIMEOUT_S = 5.0
"""Longest one fault's effect read may take (s). Every read normally takes milliseconds (an
``iptables -L`` ~10 ms per chain, a procfs file microseconds); 5 s is what a revert may be delayed
by when the engine or the xtables lock is slow, before the measurement is given up."""


class Deadline:
    """A monotonic deadline ``budget_s`` seconds from construction (for reads that loop over
    containers and should return what they have when time runs out)."""

    def __init__(self, budget_s: float):
        self.at = time.monotonic() + budget_s

    def remaining_s(self) -> float:
        """Seconds left, never below 0."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.remaining_s() <= 0.0


def _numbers(raw: object) -> dict[str, float]:
    """``raw`` as ``{str: finite float}``; anything else (a non-dict, a non-number, NaN) is
    dropped (booleans too: a flag is not a measurement)."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(key, str) and isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                out[key] = float(value)
    return out


def bounded_read(read: Callable[[], Mapping[str, float]], what: str,
                 timeout_s: float = EFFECT_READ_TIMEOUT_S) -> dict[str, float]:
    """Run ``read()`` in a daemon thread and return its counters, or ``{}`` when it raised, did
    not return within ``timeout_s`` seconds (the thread is abandoned; it only reads), or returned
    something that is not a mapping of names to finite numbers (such entries are dropped).

    Args:
        read: the kind's measurement, e.g. ``lambda: {"matched_packets": 12}``.
        what: names the fault in the debug log line of a failed read.
        timeout_s: the bound, s (default :data:`EFFECT_READ_TIMEOUT_S`).

    Never raises.
    """
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = read()
        except Exception as exc:  # noqa: BLE001 - a measurement must never fail the revert
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"effect-{what}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        log.debug("effect read of %s gave up after %.1f s", what, timeout_s)
        return {}
    if "error" in box:
        log.debug("effect read of %s failed: %s", what, box["error"])
        return {}
    return _numbers(box.get("value"))
