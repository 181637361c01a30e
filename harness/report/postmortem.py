"""The run told as an incident postmortem (the shape of seed 003: record the timeline of events,
what was observed, and the key findings), derived from ``report.json`` alone.

- **summary**: one sentence with the verdict and the worst impact;
- **timeline**: one entry per event, in time order, each with its UTC time, its offset from the
  load's start, what happened and what was observed then: the load starting and its baseline;
  each fault injected (what it touched), when the degradation was detected and what the window
  showed against the baseline; each revert, and when the system was back within its steady
  state (or that it never was); the load ending; a failed inject or revert;
- **findings**: each failed (or inconclusive) expectation with its explanation, faults the
  system did not recover from, the steady state not restored at the end, container restarts and
  OOM kills, records lost between Locust and us; then what held.

Pure: no I/O, so the HTML, the tests and any other renderer share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from harness.analysis.metrics import WindowMetrics
from harness.analysis.recovery import FaultSummary
from harness.report.model import Report, TimelineEntry, WindowReport


@dataclass(frozen=True)
class Event:
    """One timeline entry: ``offset_s`` from the load's start, ``at`` in UTC (ISO-8601, or ""
    when the report cannot place it), ``what`` happened, what was ``observed``, and a ``kind``
    for styling (``load``, ``inject``, ``detect``, ``revert``, ``recover``, ``problem``, ``note``)."""

    offset_s: float
    at: str
    kind: str
    what: str
    observed: str = ""


@dataclass(frozen=True)
class Postmortem:
    """The postmortem of one run (see the module docstring)."""

    summary: str
    impact: list[str] = field(default_factory=list)
    timeline: list[Event] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def _parse(at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None


def _load_start(report: Report) -> datetime | None:
    """UTC of the load's start: a timeline entry's time minus its offset."""
    for t in report.timeline:
        at = _parse(t.at)
        if at is not None:
            return at - timedelta(seconds=t.offset_s)
    return None


def _utc(t0: datetime | None, offset_s: float) -> str:
    if t0 is None:
        return ""
    at = (t0 + timedelta(seconds=offset_s)).astimezone(timezone.utc)
    return at.strftime("%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def ms(value: float | None) -> str:
    """A latency for prose."""
    return "–" if value is None else f"{value:,.0f} ms"


def _rate(value: float) -> str:
    return f"{value * 100:.2f}%"


def describe(m: WindowMetrics) -> str:
    """A window's numbers in one phrase."""
    text = f"{m.requests} requests at {m.rps:.1f}/s, p50 {ms(m.p50_ms)}, p99 {ms(m.p99_ms)}, errors {_rate(m.error_rate)}"
    if m.errors:
        text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(m.errors.items(), key=lambda kv: -kv[1])) + ")"
    return text


def _versus(m: WindowMetrics, base: WindowMetrics | None) -> str:
    """How a window differs from the baseline, in words."""
    if base is None or not base.requests or not m.requests:
        return ""
    parts = []
    if m.p99_ms and base.p99_ms:
        ratio = m.p99_ms / base.p99_ms
        if ratio >= 1.5 or ratio <= 0.67:
            parts.append(f"p99 {ratio:.1f}x the baseline's {ms(base.p99_ms)}")
    if m.error_rate - base.error_rate >= 0.005:
        parts.append(f"error rate up from {_rate(base.error_rate)}")
    if base.rps and m.rps / base.rps <= 0.75:
        parts.append(f"throughput down to {100 * m.rps / base.rps:.0f}% of the baseline")
    return "; ".join(parts)


def _containers(w: WindowReport) -> str:
    notes = []
    for service, t in sorted(w.containers.items()):
        if t.restarts:
            notes.append(f"{service} restarted {t.restarts}x")
        if t.oom_kills:
            notes.append(f"{service} OOM-killed {t.oom_kills}x")
        if t.unhealthy:
            notes.append(f"{service} unhealthy {t.unhealthy}x")
    return ", ".join(notes)


def _action_event(t: TimelineEntry, t0: datetime | None) -> Event:
    """The timeline event of a fault action: an inject (with what it touched), a revert, or a
    failed inject or revert (a ``problem``, with its error)."""
    at = _utc(t0, t.offset_s)
    if t.action == "inject":
        touched = ", ".join(t.touched) if t.touched else "nothing recorded"
        return Event(t.offset_s, at, "inject", f"Fault {t.fault} ({t.kind}) injected; touched: {touched}.")
    if t.action == "revert":
        return Event(t.offset_s, at, "revert", f"Fault {t.fault} ({t.kind}) reverted.")
    return Event(t.offset_s, at, "problem", f"Fault {t.fault} ({t.kind}): {t.action.replace('_', ' ')}.",
                 t.error or "")


def _fault_observed(w: WindowReport, base: WindowMetrics | None) -> str:
    """What a fault window showed: its numbers, then (when there is something to say) how they
    differ from the baseline, its diagnosis and its containers' troubles."""
    observed = describe(w.metrics) + "."
    versus = _versus(w.metrics, base)
    if versus:
        observed += " Versus the baseline: " + versus + "."
    if w.diagnosis:
        observed += f" Diagnosis: {w.diagnosis}."
    notes = _containers(w)
    if notes:
        observed += f" Containers: {notes}."
    return observed


def _detect_event(w: WindowReport, summary: FaultSummary | None, observed: str, t0: datetime | None) -> Event:
    """When a fault window's degradation showed (its time to detect), or that it never did
    (placed 1 ms after the window's start, so that it follows the inject)."""
    if summary and summary.time_to_detect_s is not None:
        at = w.start_s + summary.time_to_detect_s
        return Event(at, _utc(t0, at), "detect",
                     f"Degradation visible {summary.time_to_detect_s:g} s after {w.fault or w.name} "
                     "was injected (outside the steady state).", observed)
    return Event(w.start_s + 0.001, _utc(t0, w.start_s), "detect",
                 f"No degradation outside the steady state during {w.name}.", observed)


def _recover_event(w: WindowReport, summary: FaultSummary | None, t0: datetime | None) -> list[Event]:
    """When the system was back within its steady state after a fault window's revert, or that
    it never was (1 ms after the revert); nothing without the fault's figures."""
    if summary and summary.time_to_recover_s is not None:
        at = w.end_s + summary.time_to_recover_s
        return [Event(at, _utc(t0, at), "recover",
                      f"Back within the steady state {summary.time_to_recover_s:g} s after the revert "
                      f"of {w.fault or w.name}.")]
    if summary is not None:
        return [Event(w.end_s + 0.001, _utc(t0, w.end_s), "problem",
                      f"Not back within the steady state after {w.fault or w.name} was reverted, "
                      "before the load ended.")]
    return []


def _window_events(report: Report, t0: datetime | None, base: WindowMetrics | None) -> list[Event]:
    """The events of the fault windows (detect, then recover) and the recovery windows' starts
    (2 ms after the start), in window order."""
    summaries = {f.window: f for f in report.faults}
    events: list[Event] = []
    for w in report.windows:
        if w.kind == "fault":
            summary = summaries.get(w.name)
            events.append(_detect_event(w, summary, _fault_observed(w, base), t0))
            events += _recover_event(w, summary, t0)
        elif w.kind == "recovery":
            notes = _containers(w)
            observed = "Recovery window: " + describe(w.metrics) + "." + (f" Containers: {notes}." if notes else "")
            events.append(Event(w.start_s + 0.002, _utc(t0, w.start_s), "recover", f"{w.name} begins.", observed))
    return events


def _timeline(report: Report) -> list[Event]:
    """Every event of the run in time order (a stable sort: events at the same offset keep the
    order load start, fault actions, windows, load end)."""
    t0 = _load_start(report)
    baseline = next((w for w in report.windows if w.kind == "baseline"), None)
    events: list[Event] = []
    if baseline is not None:
        events.append(Event(0.0, _utc(t0, 0.0), "load", "Load started; baseline window begins.",
                            "Baseline: " + describe(baseline.metrics) + "."))
    events += [_action_event(t, t0) for t in report.timeline]
    events += [Event(n.offset_s, n.at, "note", f"Note: {n.text}") for n in report.notes]
    events += _window_events(report, t0, baseline.metrics if baseline else None)
    if report.load and report.load.duration_s is not None:
        events.append(Event(report.load.duration_s, _utc(t0, report.load.duration_s), "load",
                            f"Load ended after {report.load.duration_s:g} s ({report.load.recorded} requests recorded)."))
    events.sort(key=lambda e: e.offset_s)
    return events


def _verdicts(report: Report) -> tuple[list[str], list[str]]:
    """``(findings, held)`` from the expectations: each inconclusive or failed one with its
    explanation, and each that held."""
    findings, held = [], []
    for e in report.expectations:
        line = f"{e.name}: {e.explanation}"
        if e.inconclusive:
            findings.append("Inconclusive: " + line)
        elif not e.held:
            findings.append("Failed: " + line)
        else:
            held.append(line)
    return findings, held


def _steady_state_findings(report: Report) -> list[str]:
    """Each steady-state verdict (at the start, then at the end) that did not hold."""
    steady = report.steady_state
    if not steady:
        return []
    label = ("Steady state (stated): " if not steady.derived else
             "Steady state (derived from the baseline, not a verdict): ")
    return [label + e.explanation for e in steady.at_start + steady.at_end if not e.held]


def _problems(report: Report) -> list[str]:
    """Findings beyond the verdicts: faults that never took effect, faults not followed by a
    recovery, container troubles per window, records lost between Locust and us."""
    found = [f"Fault {effect.window} never took effect: {effect.evidence}."
             for effect in report.fault_effects if not effect.seen]
    found += [f"{f.fault} was not followed by a recovery to the steady state before the load ended."
              for f in report.faults if f.time_to_recover_s is None]
    found += [f"In {w.name}: {notes}." for w in report.windows if (notes := _containers(w))]
    load = report.load
    if load and load.locust_requests is not None and load.locust_requests != load.recorded:
        found.append(f"Locust counted {load.locust_requests} requests, we recorded {load.recorded}: "
                     "records were lost, so every number here undercounts.")
    found += [f"Load worker {w.index} ({w.hostname or 'unknown host'}) stopped answering at +{w.lost_at_s} s: the "
              "requests it sent after its last batch are not recorded, and its users' load moved to the other workers."
              for w in (load.workers if load else []) if w.lost_at_s is not None]
    return found


def _findings(report: Report) -> tuple[list[str], list[str]]:
    """``(findings, held)``: the run's error first (if any), then the expectations that failed
    or were inconclusive, the steady state not held, and the other problems; and what held."""
    findings, held = _verdicts(report)
    findings += _steady_state_findings(report) + _problems(report)
    if report.error:
        findings.insert(0, f"Run {report.status}: {report.error}")
    return findings, held


def _impact(report: Report) -> list[str]:
    """One line per fault: failed requests, availability (percent), the fault window's p99, and
    how long the steady state was broken (s)."""
    windows = {w.name: w for w in report.windows}
    impact = []
    for f in report.faults:
        avail = f"{f.availability_pct:.2f}%" if f.availability_pct is not None else "–"
        w = windows.get(f.window)
        p99 = f", p99 {ms(w.metrics.p99_ms)}" if w else ""
        impact.append(f"{f.fault}: {f.failed_requests} of {f.requests} requests failed (availability {avail}){p99}, "
                      f"degraded for {f.degraded_s:g} s.")
    return impact


def _verdict(report: Report) -> str:
    """The run's status in words. Raises KeyError on a status the report model does not know."""
    failed = [e for e in report.expectations if not e.held]
    return {"passed": "Every expectation held on evidence", "failed": f"{len(failed)} of {len(report.expectations)} "
            "expectations failed", "inconclusive": "The run is inconclusive (a verdict lacked its evidence)",
            "measured": "The run was measured (nothing judged)", "error": "The run ended in an error",
            "aborted": "The run was aborted by an abort condition", "interrupted": "The run was interrupted"}[report.status]


def _summary(report: Report) -> str:
    """One sentence: the verdict, the scenario, the faults injected (in order, each once), and
    the lowest availability when a fault brought it under 100 %."""
    faults = ", ".join(dict.fromkeys(t.fault for t in report.timeline if t.action == "inject")) or "no fault"
    worst = min(report.faults, key=lambda f: f.availability_pct if f.availability_pct is not None else 100.0,
                default=None)
    summary = f"{_verdict(report)} while {report.scenario.name} ran with {faults} injected."
    if worst and worst.availability_pct is not None and worst.availability_pct < 100:
        summary += f" Lowest availability: {worst.availability_pct:.2f}% during {worst.fault}."
    return summary


def build_postmortem(report: Report) -> Postmortem:
    """The postmortem of ``report`` (see the module docstring). Raises KeyError on a status the
    report model does not know."""
    timeline = _timeline(report)
    findings, held = _findings(report)
    impact = _impact(report)
    return Postmortem(summary=_summary(report), impact=impact, timeline=timeline, findings=findings, held=held)
