"""A worker's clock against its master's, measured NTP-style, and records moved into the master's clock.

A remote worker stamps its records with its own wall clock; the analysis puts every request
in the window (between fault events, stamped by the orchestrator) where it started, so a worker
whose clock is off by a second puts requests in the wrong window. At hello the worker measures
its offset to the master (:mod:`harness.load.distributed`):

- the worker sends ``t1`` (its clock), the master answers with ``t2`` (its clock when the probe
  arrived) and ``t3`` (when it answers), the worker notes ``t4`` (its clock on the answer);
- ``offset = ((t2 - t1) + (t3 - t4)) / 2`` (master clock = worker clock + offset) and
  ``round trip = (t4 - t1) - (t3 - t2)``; the true offset lies within ``round trip / 2`` of the
  estimate whatever the asymmetry of the two legs;
- of CLOCK_PROBES round trips, the one with the shortest round trip is kept;
- during the run the worker measures again every CLOCK_REPROBE_EVERY_S and moves its later
  records with the new offset; ``clock_drift_ms`` (last offset minus the hello's) is reported.

The master refuses a worker whose best round trip exceeds CLOCK_MAX_RTT_MS: its offset could
be wrong by more than half of that.

Plain Python (no locust), unit-tested in the orchestrator's process.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.load.records import RECORD_PREFIX

CLOCK_PROBES = 5
"""Round trips a worker measures at hello; the shortest one counts."""
CLOCK_REPROBE_EVERY_S = 5.0
"""During the run, how often a worker measures its offset again (one round of CLOCK_PROBES)."""
CLOCK_PROBE_TIMEOUT_S = 5.0
"""How long a worker waits for the master's answer to one probe."""
CLOCK_MAX_RTT_MS = 1000.0
"""A worker whose best round trip to the master is longer is refused: its clock offset would be
uncertain by more than +-500 ms, half a one-second bucket of the analysis."""


@dataclass(frozen=True)
class ClockSample:
    """One probe's four timestamps, epoch seconds: ``t1_s`` / ``t4_s`` on the worker's clock
    (sent, answer received), ``t2_s`` / ``t3_s`` on the master's (received, answered)."""

    t1_s: float
    t2_s: float
    t3_s: float
    t4_s: float

    @property
    def offset_s(self) -> float:
        """Seconds to add to the worker's clock to get the master's."""
        return ((self.t2_s - self.t1_s) + (self.t3_s - self.t4_s)) / 2

    @property
    def rtt_s(self) -> float:
        """Round trip in seconds, without the master's own handling time."""
        return (self.t4_s - self.t1_s) - (self.t3_s - self.t2_s)


def best_sample(samples: list[ClockSample]) -> ClockSample | None:
    """The sample with the shortest round trip (the tightest bound on the offset); None if empty."""
    return min(samples, key=lambda s: s.rtt_s, default=None)


def clock_report(sample: ClockSample | None, probes: int) -> dict:
    """What a worker tells its master at hello: ``{"clock_offset_ms", "rtt_ms", "probes"}``
    (offset and round trip of ``sample`` in ms, None when no probe was answered; ``probes``:
    answered probes)."""
    if sample is None:
        return {"clock_offset_ms": None, "rtt_ms": None, "probes": probes}
    return {"clock_offset_ms": round(sample.offset_s * 1000, 3), "rtt_ms": round(sample.rtt_s * 1000, 3),
            "probes": probes}


def clock_refusal(worker_index: int, report: dict, max_rtt_ms: float = CLOCK_MAX_RTT_MS) -> str | None:
    """Why a worker's clock cannot be trusted, or None when its offset is bounded.

    Args:
        worker_index: Locust's index of the worker (for the message).
        report: the worker's :func:`clock_report`.
        max_rtt_ms: the longest acceptable best round trip.
    """
    rtt_ms = report.get("rtt_ms")
    if rtt_ms is None or report.get("clock_offset_ms") is None:
        return (f"worker {worker_index}: its clock offset to the master could not be measured "
                f"(none of its clock probes was answered); its timestamps cannot be trusted")
    if rtt_ms > max_rtt_ms:
        return (f"worker {worker_index}: its clock offset to the master cannot be bounded: the best of "
                f"{report.get('probes')} round trips took {rtt_ms:.0f} ms > {max_rtt_ms:.0f} ms "
                f"(offset {report['clock_offset_ms']:+.0f} ms, uncertain by +-{rtt_ms / 2:.0f} ms)")
    return None


def shift_lines(lines: list[str], offset_s: float) -> list[str]:
    """Protocol lines with every record's ``start_s`` moved by ``offset_s`` seconds (event lines
    unchanged): the records a worker produced before its offset was known."""
    out = []
    for line in lines:
        if line.startswith(RECORD_PREFIX):
            start, rest = line[len(RECORD_PREFIX):].split("\t", 1)
            line = f"{RECORD_PREFIX}{float(start) + offset_s:.6f}\t{rest}"
        out.append(line)
    return out
