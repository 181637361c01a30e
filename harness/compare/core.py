"""``harness compare BEFORE AFTER``: did a change make the system more or less resilient?

Inputs are two ``report.json`` files (or run directories holding one), usually two runs of the
same scenario before and after a change, and the raw latencies of each run when they sit next to
its ``report.json`` (for the latency significance only). :func:`compare_reports` is a pure
function of those; :func:`harness.compare.compare_paths` reads them.

**Per window and metric** (windows matched by name: ``baseline``, ``fault:<f>``,
``recovery:<f>``, plus ``run`` for the whole load): before, after, the delta (after - before),
the relative change (delta / before), whether the change is *better* or *worse* (lower is
better for latencies and error rates, higher for throughput and success rate), and its
statistical significance: a 95% moving-block bootstrap interval of the difference, with the
second as the block unit (see :mod:`harness.compare.stats`). The before/after numbers are the
window metrics of each report. The interval is of the *same* statistic:

- ``rps``, ``error_rate``, ``success_rate``: from ``series`` (requests and errors per second;
  the mean requests per second, errors / requests);
- ``p50_ms``, ``p90_ms``, ``p95_ms``, ``p99_ms``, ``p999_ms``: from the run's raw latencies
  (``requests.tsv`` and ``journal.jsonl`` next to ``report.json``, see
  :mod:`harness.compare.latencies`): each resample is a multiset of the window's seconds, its
  statistic the exact nearest-rank percentile (:mod:`harness.analysis.percentile`, the one
  definition of the harness) of all their requests, so the statistic of the original seconds
  *is* the window's percentile. Without the raw latencies of both runs (a ``report.json``
  alone), or with fewer requests than the percentile needs to mean anything
  (:func:`~harness.analysis.percentile.min_samples_for`: 100 for p99) on either side, a
  latency percentile gets no significance verdict: there is no exact resampled percentile to
  compute from per-second summaries, and no second definition of p99 is used instead.

``max_ms``, ``mean_ms`` and ``requests`` get no significance verdict.

**Verdicts**: expectations are matched by name; one that held before and does not hold after
(failed, inconclusive or gone) *flipped* and is a regression; failed -> held is an improvement.

**Gates** (``--max-regression``): ``METRIC=LIMIT`` applies to every window, ``METRIC@WINDOW=LIMIT``
to one. ``LIMIT`` is relative with a ``%`` (``p99_ms=10%``: after may be at most 10% worse than
before) or absolute in the metric's unit (``error_rate=0.01``: at most 0.01 higher). A metric
*regressed* when it got worse by more than its limit **and** the change is not shown to be noise:
a significant change, or one whose significance cannot be judged (too few seconds, or a metric
without a series). ``ignore_significance`` gates on the numbers alone.

**Outcome**: ``inconclusive`` when either run ended ``error``, ``inconclusive`` or
``interrupted`` (exit 3: such a run cannot vouch for anything); ``regressed`` when a verdict flipped to not held, a
gated metric regressed, or AFTER was aborted and BEFORE was not (exit 1); else ``ok`` (exit 0).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from harness.analysis.metrics import WindowMetrics
from harness.analysis.percentile import min_samples_for
from harness.checks import ExpectationResult
from harness.compare.latencies import RunLatencies
from harness.compare.stats import (
    CONFIDENCE,
    MIN_SAMPLES,
    RESAMPLES,
    Interval,
    LatencySamples,
    Samples,
    bootstrap_difference,
    seed_for,
)
from harness.report.model import Report

COMPARE_SCHEMA_VERSION = 1
METRICS = ("rps", "error_rate", "p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")
"""Metrics compared in every window (in this order)."""
GATEABLE = ("requests", "rps", "error_rate", "success_rate", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms",
            "max_ms", "mean_ms")
"""Metrics a ``--max-regression`` limit may name."""
HIGHER_IS_BETTER = {"requests", "rps", "success_rate"}
SERIES_METRICS = {"rps", "error_rate", "success_rate"}
"""Metrics whose significance comes from the per-second counts of ``series``."""
PERCENTILE_METRICS = {"p50_ms": 50, "p90_ms": 90, "p95_ms": 95, "p99_ms": 99, "p999_ms": 99.9}
"""Latency percentiles (metric -> percentile), whose significance comes from the raw latencies."""
SIGNIFICANCE_METRICS = SERIES_METRICS | set(PERCENTILE_METRICS)
"""Metrics that can get a significance verdict."""
RUN_WINDOW = "run"

Outcome = Literal["ok", "regressed", "inconclusive"]
UNVOUCHED = ("error", "inconclusive", "interrupted")
"""Run statuses that make a comparison inconclusive: nothing they measured can be vouched for."""
Verdict = Literal["held", "failed", "inconclusive", "absent"]


class LimitError(ValueError):
    """A ``--max-regression`` value that cannot be parsed."""


@dataclass(frozen=True)
class Limit:
    """A regression gate: ``metric`` may get worse by at most ``value`` (a fraction when
    ``relative``, else in the metric's unit), in ``window`` (None: every window)."""

    metric: str
    value: float
    relative: bool
    window: str | None = None

    def __str__(self) -> str:
        where = f"@{self.window}" if self.window else ""
        amount = f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"
        return f"{self.metric}{where}={amount}"

    def applies(self, window: str, metric: str) -> bool:
        """Whether this limit gates ``metric`` in ``window``."""
        return metric == self.metric and (self.window is None or self.window == window)


_LIMIT = re.compile(r"^\s*(?P<metric>[a-z0-9_]+)(?:@(?P<window>[^=]+))?\s*=\s*(?P<value>[0-9.]+(?:e-?\d+)?)\s*(?P<pct>%)?\s*$")


def parse_limit(text: str) -> Limit:
    """Parse ``METRIC[@WINDOW]=LIMIT[%]`` (e.g. ``p99_ms=10%``, ``error_rate=0.01``,
    ``p99_ms@fault:catalog-slow=25%``).

    Raises:
        LimitError: unknown metric, or a limit that is not a non-negative number.
    """
    match = _LIMIT.match(text)
    if not match:
        raise LimitError(f"--max-regression {text!r}: expected METRIC=LIMIT, e.g. p99_ms=10% or error_rate=0.01 "
                         "(optionally METRIC@WINDOW=LIMIT)")
    metric = match["metric"]
    if metric not in GATEABLE:
        raise LimitError(f"--max-regression {text!r}: unknown metric {metric!r} (metrics: {', '.join(GATEABLE)})")
    try:
        value = float(match["value"])
    except ValueError:
        raise LimitError(f"--max-regression {text!r}: {match['value']!r} is not a number") from None
    relative = bool(match["pct"])
    return Limit(metric, value / 100 if relative else value, relative, (match["window"] or "").strip() or None)


class RunRef(BaseModel):
    """Which run a side of the comparison is."""

    path: str
    run_id: str
    scenario: str
    status: str
    started_at: str
    profile: str | None = None
    seed: int


class MetricChange(BaseModel):
    """One window's metric, before and after.

    ``delta`` = after - before; ``relative`` = delta / before (None when before is 0 or
    missing); ``direction``: ``better``, ``worse`` or ``same``; ``ci_low``/``ci_high``: the
    bootstrap interval of the difference (after - before) of the resampled statistic, at
    ``confidence``; ``p``: bootstrap p-value; ``n_before``/``n_after``: seconds sampled; ``significant``: the
    interval excludes 0 (None: not judged); ``limit``: the gate applied, if any; ``regressed``.
    """

    window: str
    metric: str
    before: float | None
    after: float | None
    delta: float | None
    relative: float | None
    direction: Literal["better", "worse", "same", "n/a"]
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None
    n_before: int = 0
    n_after: int = 0
    significant: bool | None = None
    limit: str | None = None
    regressed: bool = False
    note: str | None = None


class VerdictChange(BaseModel):
    """One expectation's verdict in both runs; ``flipped`` when it differs, ``regression`` when
    it held before and not after."""

    name: str
    window: str
    metric: str
    before: Verdict
    after: Verdict
    flipped: bool
    regression: bool
    before_explanation: str | None = None
    after_explanation: str | None = None


class Comparison(BaseModel):
    """``compare.json``: the whole comparison (see the module docstring)."""

    schema_version: int = COMPARE_SCHEMA_VERSION
    before: RunRef
    after: RunRef
    outcome: Outcome
    reasons: list[str] = Field(default_factory=list)
    limits: list[str] = Field(default_factory=list)
    ignore_significance: bool = False
    method: str
    confidence: float = CONFIDENCE
    resamples: int = RESAMPLES
    metrics: list[MetricChange] = Field(default_factory=list)
    verdicts: list[VerdictChange] = Field(default_factory=list)
    windows_only_before: list[str] = Field(default_factory=list)
    windows_only_after: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def flipped(self) -> list[VerdictChange]:
        """Verdicts that changed."""
        return [v for v in self.verdicts if v.flipped]

    @property
    def regressions(self) -> list[MetricChange]:
        """Metrics that regressed beyond their limit."""
        return [m for m in self.metrics if m.regressed]


METHOD = (f"Before/after are each report's window metrics (latency percentiles: exact nearest rank over every "
          f"request). Significance: {CONFIDENCE:.0%} moving-block bootstrap interval ({RESAMPLES} resamples, blocks "
          "of ceil(n^(1/3)) seconds) of the difference after - before of the same statistic over resampled "
          "seconds: mean requests/s and errors/requests from report.json's series; for p50/p90/p95/p99/p99.9, the "
          "exact nearest-rank percentile of every request of the resampled seconds, from the raw latencies "
          "(requests.tsv next to report.json; without them, no latency verdict). Significant when the interval "
          f"excludes 0; no verdict with fewer than {MIN_SAMPLES} seconds on either side, nor for a pNN with fewer "
          "than 1/(1 - NN/100) requests (100 for p99).")


def _window_metrics(report: Report) -> dict[str, tuple[WindowMetrics, float, float]]:
    out = {w.name: (w.metrics, w.start_s, w.end_s) for w in report.windows}
    if report.totals is not None:
        end = report.load.duration_s if report.load and report.load.duration_s else (
            max((w.end_s for w in report.windows), default=0.0))
        out[RUN_WINDOW] = (report.totals, 0.0, end)
    return out


def _seconds(report: Report, start_s: float, end_s: float) -> list[int]:
    """Indices into the series of the seconds whose middle lies in [start_s, end_s)."""
    return [i for i, t in enumerate(report.series.requests.t_s) if start_s <= t + 0.5 < end_s]


def samples(report: Report, metric: str, start_s: float, end_s: float) -> Samples | None:
    """Per-second samples of ``metric`` (``rps``, ``error_rate``, ``success_rate``) in a window
    of ``report``, from its ``series``; None for any other metric (latency percentiles are
    resampled from raw latencies: :func:`latency_samples`)."""
    s = report.series.requests
    idx = _seconds(report, start_s, end_s)
    if metric == "rps":
        return Samples.mean_of([s.requests[i] for i in idx])
    if metric in ("error_rate", "success_rate"):
        errors = [sum(c[i] for c in s.errors.values()) for i in idx]
        requests = [s.requests[i] for i in idx]
        if metric == "success_rate":
            errors = [r - e for r, e in zip(requests, errors)]
        keep = [k for k, r in enumerate(requests) if r > 0]
        return Samples.ratio_of([errors[k] for k in keep], [requests[k] for k in keep])
    return None


def latency_samples(latencies: RunLatencies, metric: str, start_s: float, end_s: float) -> LatencySamples:
    """The requests of the window ``[start_s, end_s)`` grouped by second, with ``metric``'s
    percentile (a key of :data:`PERCENTILE_METRICS`) as their statistic.

    Raises:
        KeyError: ``metric`` is not a latency percentile.
    """
    return LatencySamples(latencies.seconds(start_s, end_s), PERCENTILE_METRICS[metric])


def _latency_interval(metric: str, window: str, b: tuple, a: tuple, before: RunLatencies | None,
                      after: RunLatencies | None) -> tuple[Interval | None, str | None]:
    """The bootstrap interval of a latency percentile (None with the reason when not judged)."""
    missing = [side for side, lat in (("BEFORE", before), ("AFTER", after)) if lat is None]
    if missing:
        return None, (f"no significance verdict: latency percentiles are resampled from the raw latencies "
                      f"(requests.tsv next to report.json), missing for {' and '.join(missing)}")
    assert before is not None and after is not None
    bs, as_ = latency_samples(before, metric, b[1], b[2]), latency_samples(after, metric, a[1], a[2])
    need = min_samples_for(PERCENTILE_METRICS[metric])
    if bs.requests < need or as_.requests < need:
        return None, (f"too few requests for a {metric} significance verdict ({need} needed on each side; "
                      f"{bs.requests} before, {as_.requests} after)")
    return bootstrap_difference(bs, as_, seed_for(window, metric)), None


def _recomputed_note(metric: str, side: str, shown: float | None, recomputed: float | None) -> str | None:
    """A note when a report's percentile is not the one its raw latencies give (a report.json
    built by an older harness, whose percentiles came from an HdrHistogram)."""
    if shown is None or recomputed is None or round(recomputed, 3) == shown:
        return None
    return (f"{side}'s {metric} in report.json ({shown:g}) is not the exact percentile of its requests.tsv "
            f"({round(recomputed, 3):g}): a report of an older harness? the interval is of the exact one")


def _direction(metric: str, delta: float | None, scale: float) -> Literal["better", "worse", "same", "n/a"]:
    if delta is None:
        return "n/a"
    if abs(delta) <= 1e-9 * max(1.0, abs(scale)):
        return "same"
    worse = delta < 0 if metric in HIGHER_IS_BETTER else delta > 0
    return "worse" if worse else "better"


def _exceeds(limit: Limit, metric: str, before: float, after: float) -> bool:
    worse_by = (before - after) if metric in HIGHER_IS_BETTER else (after - before)
    if worse_by <= 0:
        return False
    if not limit.relative:
        return worse_by > limit.value
    if before == 0:
        return True  # from nothing to something is an infinite relative change
    return worse_by / abs(before) > limit.value


def compare_metric(before: Report, after: Report, window: str, metric: str, b: tuple, a: tuple,
                   limits: list[Limit], ignore_significance: bool, before_latencies: RunLatencies | None = None,
                   after_latencies: RunLatencies | None = None) -> MetricChange:
    """One row of the comparison: ``b`` and ``a`` are ``(metrics, start_s, end_s)`` of the
    window in each report; the latencies (see :mod:`harness.compare.latencies`) give latency
    percentiles their significance."""
    b_val = getattr(b[0], metric)
    a_val = getattr(a[0], metric)
    delta = None if b_val is None or a_val is None else a_val - b_val
    relative = None if delta is None or not b_val else delta / abs(b_val)
    change = MetricChange(window=window, metric=metric, before=b_val, after=a_val, delta=delta, relative=relative,
                          direction=_direction(metric, delta, b_val or 0.0))
    interval, why = None, None
    if metric in PERCENTILE_METRICS:
        interval, why = _latency_interval(metric, window, b, a, before_latencies, after_latencies)
    else:
        bs, as_ = samples(before, metric, b[1], b[2]), samples(after, metric, a[1], a[2])
        if bs is not None and as_ is not None:
            interval = bootstrap_difference(bs, as_, seed_for(window, metric))
    if interval is not None:
        change = change.model_copy(update={"ci_low": interval.low, "ci_high": interval.high, "p": interval.p,
                                           "n_before": interval.n_before, "n_after": interval.n_after,
                                           "significant": interval.significant})
        if interval.significant is None:
            why = f"too few seconds for a significance verdict (need {MIN_SAMPLES} on each side)"
        if metric in PERCENTILE_METRICS:
            notes = [_recomputed_note(metric, "BEFORE", b_val, interval.before),
                     _recomputed_note(metric, "AFTER", a_val, interval.after)]
            why = "; ".join(n for n in [why, *notes] if n) or None
    change.note = why
    gate = next((lim for lim in limits if lim.applies(window, metric) and lim.window), None) or next(
        (lim for lim in limits if lim.applies(window, metric)), None)
    if gate is not None:
        change.limit = str(gate)
        if b_val is not None and a_val is not None and _exceeds(gate, metric, b_val, a_val):
            change.regressed = ignore_significance or change.significant is not False
            if not change.regressed:
                change.note = f"worse beyond {gate}, but not significant: treated as noise"
    return change


def _verdict(e: ExpectationResult | None) -> Verdict:
    if e is None:
        return "absent"
    return "held" if e.held else ("inconclusive" if e.inconclusive else "failed")


def compare_verdicts(before: Report, after: Report) -> list[VerdictChange]:
    """Every expectation of either run, matched by name, in BEFORE's order then AFTER's new ones."""
    b = {e.name: e for e in before.expectations}
    a = {e.name: e for e in after.expectations}
    out = []
    for name in list(b) + [n for n in a if n not in b]:
        eb, ea = b.get(name), a.get(name)
        vb, va = _verdict(eb), _verdict(ea)
        ref = eb or ea
        assert ref is not None
        out.append(VerdictChange(name=name, window=ref.window, metric=ref.metric, before=vb, after=va,
                                 flipped=vb != va, regression=vb == "held" and va != "held",
                                 before_explanation=eb.explanation if eb else None,
                                 after_explanation=ea.explanation if ea else None))
    return out


def _ref(report: Report, path: Path | str) -> RunRef:
    return RunRef(path=str(path), run_id=report.run_id, scenario=report.scenario.name, status=report.status,
                  started_at=report.started_at, profile=report.scenario.profile, seed=report.seed)


def compare_reports(before: Report, after: Report, limits: list[Limit] | None = None,
                    ignore_significance: bool = False, before_path: Path | str = "",
                    after_path: Path | str = "", before_latencies: RunLatencies | None = None,
                    after_latencies: RunLatencies | None = None, notes: list[str] | None = None) -> Comparison:
    """Compare two reports (see the module docstring). ``before_latencies``/``after_latencies``:
    each run's raw latencies (:func:`harness.compare.latencies.load_latencies`), without which
    latency percentiles get no significance verdict; ``notes`` go first among the warnings."""
    limits = list(limits or [])
    bw, aw = _window_metrics(before), _window_metrics(after)
    common = [name for name in bw if name in aw]
    lat = (before_latencies, after_latencies)
    metrics = [compare_metric(before, after, name, metric, bw[name], aw[name], limits, ignore_significance, *lat)
               for name in common for metric in METRICS]
    # a gate on a metric not shown by default (e.g. mean_ms) still gets its rows
    for lim in limits:
        if lim.metric not in METRICS:
            metrics += [compare_metric(before, after, name, lim.metric, bw[name], aw[name], limits,
                                       ignore_significance, *lat)
                        for name in common if lim.window in (None, name)]
    verdicts = compare_verdicts(before, after)
    warnings = list(notes or [])
    if before.scenario.name != after.scenario.name:
        warnings.append(f"different scenarios: {before.scenario.name!r} before, {after.scenario.name!r} after")
    for lim in limits:
        if lim.window and lim.window not in common:
            warnings.append(f"limit {lim}: no window {lim.window!r} in both runs (windows: {', '.join(common)})")
    reasons = []
    for v in verdicts:
        if v.regression:
            reasons.append(f"verdict flipped: {v.name!r} held before, {v.after} after")
    for m in metrics:
        if m.regressed:
            rel = f" ({m.relative:+.1%})" if m.relative is not None else ""
            sig = "significant" if m.significant else "significance not judged"
            reasons.append(f"{m.metric} in {m.window}: {_fmt(m.before)} → {_fmt(m.after)}{rel}, beyond {m.limit}, {sig}")
    if after.status == "aborted" and before.status != "aborted":
        reasons.append("AFTER was aborted by an abort condition; BEFORE was not")
    inconclusive = [f"{side} run ended {r.status}" + (f": {r.error}" if r.error else "")
                    for side, r in (("BEFORE", before), ("AFTER", after)) if r.status in UNVOUCHED]
    outcome: Outcome = "inconclusive" if inconclusive else ("regressed" if reasons else "ok")
    return Comparison(
        before=_ref(before, before_path), after=_ref(after, after_path), outcome=outcome,
        reasons=inconclusive + reasons, limits=[str(lim) for lim in limits], ignore_significance=ignore_significance,
        method=METHOD, metrics=metrics, verdicts=verdicts,
        windows_only_before=[n for n in bw if n not in aw], windows_only_after=[n for n in aw if n not in bw],
        warnings=warnings,
    )


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4g}"
