"""Judge expectations against window metrics; each verdict explains itself with the numbers."""

from __future__ import annotations

import operator
from dataclasses import dataclass

from harness.analysis.metrics import WindowMetrics
from harness.analysis.windows import Window, select
from harness.scenario.models import Threshold

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}


@dataclass(frozen=True)
class ExpectationResult:
    """One verdict: expectation ``name``, ``held``, the ``observed`` value (None when the window
    had no requests), ``threshold`` with its ``operator``, the ``window`` and ``metric`` judged,
    and a one-sentence ``explanation``."""

    name: str
    held: bool
    observed: float | None
    threshold: float
    operator: str
    window: str
    metric: str
    explanation: str
    request: str | None = None


def _judge(exp: Threshold, window: Window, metrics: WindowMetrics, name: str) -> ExpectationResult:
    observed = getattr(metrics, exp.metric)
    scope = f" for {exp.request}" if exp.request else ""
    if observed is None or metrics.requests == 0:
        return ExpectationResult(name, False, None, exp.limit, exp.operator, window.name, exp.metric,
                                 f"No requests{scope} started in {window.name}, so {exp.metric} could not be measured.",
                                 exp.request)
    held = _COMPARE[exp.operator](observed, exp.limit)
    verdict = "held" if held else "failed"
    explanation = (
        f"{exp.metric}{scope} was {observed:g} in {window.name} "
        f"({metrics.requests} requests, {window.start_s:g}-{window.end_s:g} s); it had to be "
        f"{_WORDS[exp.operator]} {exp.limit:g}, so the expectation {verdict}."
    )
    return ExpectationResult(name, held, float(observed), exp.limit, exp.operator, window.name, exp.metric,
                             explanation, exp.request)


def evaluate(
    expectations: list[Threshold],
    windows: list[Window],
    run: Window,
    metrics: dict[str, tuple[WindowMetrics, dict[str, WindowMetrics]]],
) -> list[ExpectationResult]:
    """One result per (expectation, matching window). ``metrics`` maps window name to its
    overall and per-request-name metrics. An expectation whose selector matches no window (its
    fault never injected) fails with an explanation saying so."""
    results: list[ExpectationResult] = []
    for exp in expectations:
        matched = select(windows, run, exp.window)
        if not matched:
            results.append(ExpectationResult(exp.label, False, None, exp.limit, exp.operator, exp.window, exp.metric,
                                             f"No window matches {exp.window!r}: the fault never took effect.",
                                             exp.request))
            continue
        for window in matched:
            overall, by_name = metrics[window.name]
            chosen = by_name.get(exp.request, WindowMetrics()) if exp.request else overall
            name = exp.label if len(matched) == 1 else f"{exp.label} [{window.name}]"
            results.append(_judge(exp, window, chosen, name))
    return results
