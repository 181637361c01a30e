"""The check contract: a judge that reads a spec and the evidence and explains its verdict.

A verdict is evidence, so "held" has to be earned three times over:

1. **the fault acted**: a verdict on a fault or recovery window rests on the fault's effect
   (:mod:`harness.analysis.fault_effect`); when that was not seen the verdict is
   ``inconclusive`` whatever the numbers say (:meth:`Judge.judge` applies this to every
   check);
2. **the pattern acted**: each check names its own signal (retries counted, the breaker open,
   rejections, the unhealthy mark...) and is ``inconclusive`` when the source of that signal
   could not be read, ``failed`` when it was read and shows nothing;
3. **enough was seen**: a bound held on too few requests proves nothing (an error rate of 0 in
   10 requests is no evidence that it stays under 1 %): :func:`needed_requests` gives the
   least number of requests a "held" needs, and below it a held verdict is inconclusive. A
   *failing* observation stands on any number of requests.

Every verdict lists the evidence it used (``evidence``), the report shows it per check.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

from harness.scenario.checks import CheckSpec
from harness.scenario.checks.base import MIN_REQUESTS

if TYPE_CHECKING:
    from harness.analysis.evidence import Evidence
    from harness.analysis.fault_effect import FaultEffect
    from harness.analysis.windows import Window

RULE_OF_THREE = 3.0
"""With no failure in n trials, the 95 % upper bound of the failure rate is about 3 / n (the
"rule of three", Hanley & Lippman-Hand 1983): an error-rate bound b needs n >= 3 / b requests
before zero errors can show the rate is under it."""
MAX_REQUESTS_NEEDED = 3000
"""Cap of :func:`needed_requests` (a bound of 0.1 % or tighter)."""
STUCK_EXPECTED_REQUESTS = 5
"""An empty window means stuck clients only when the baseline's rate would have started at
least this many requests in it; a shorter window (or a thinner load) says nothing."""


def needed_requests(metric: str, operator: str, bound: float) -> int:
    """The least number of requests a "held" needs on ``metric operator bound``:

    - ``error_rate`` under a bound b (``success_rate`` over 1 - b): the rule of three,
      ``ceil(3 / b)`` (at least :data:`MIN_REQUESTS`, at most :data:`MAX_REQUESTS_NEEDED`);
    - a latency percentile ``pNN_ms`` under a bound:
      :func:`harness.analysis.percentile.min_samples_for` (100 for p99: with fewer, the "99th
      percentile" is the maximum of a handful of requests), at least :data:`MIN_REQUESTS`;
    - ``max_ms`` / ``mean_ms`` under a bound: :data:`MIN_REQUESTS`;
    - anything else (``rps``, ``requests``, lower bounds): 0, the load itself is measured.
    """
    below = operator in ("<", "<=")
    if metric in ("error_rate", "success_rate"):
        rate = bound if metric == "error_rate" else 1 - bound
        if (metric == "error_rate") != below:
            return 0
        return min(MAX_REQUESTS_NEEDED, max(MIN_REQUESTS, math.ceil(RULE_OF_THREE / max(rate, 1 / MAX_REQUESTS_NEEDED))))
    if not below:
        return 0
    from harness.analysis.percentile import metric_percent, min_samples_for

    pct = metric_percent(metric)
    if pct is not None:
        return max(MIN_REQUESTS, min_samples_for(pct))
    if metric in ("max_ms", "mean_ms"):
        return MIN_REQUESTS
    return 0


@dataclass(frozen=True)
class Verdict:
    """A check's judgement of one window, before it is named: ``held``, the ``observed``
    value, the ``threshold`` with its ``operator``, the ``metric``, a one-sentence
    ``explanation``, ``inconclusive`` when the evidence was missing, and ``evidence``: one
    sentence per piece of evidence used (what proved that the fault and the pattern acted)."""

    held: bool
    observed: float | None
    threshold: float
    operator: str
    metric: str
    explanation: str
    inconclusive: bool = False
    evidence: tuple[str, ...] = ()

    def unproven(self, why: str) -> "Verdict":
        """This verdict made inconclusive (never held), ``why`` put before its explanation."""
        rest = self.explanation.removeprefix("Inconclusive: ")
        return replace(self, held=False, inconclusive=True, explanation=f"Inconclusive: {why}. {rest}")

    def with_evidence(self, *lines: str) -> "Verdict":
        """This verdict with ``lines`` put first in its evidence."""
        return replace(self, evidence=(*lines, *self.evidence))

    def powered(self, requests: int, needed: int) -> "Verdict":
        """Inconclusive when it held on fewer than ``needed`` requests (see the module docstring)."""
        if not self.held or self.inconclusive or requests >= needed:
            return self
        return self.unproven(f"it held on {requests} requests, too few to tell (at least {needed} needed for "
                             f"{self.metric} {self.operator} {self.threshold:g})")


@dataclass(frozen=True)
class ExpectationResult:
    """One verdict.

    Fields: expectation ``name``; ``held``; the ``observed`` value (None when it could not be
    measured); the ``threshold`` it was held against with its ``operator``; the ``window`` and
    ``metric`` judged; a one-sentence ``explanation`` citing the numbers; ``request`` when the
    verdict is about one request name; ``check`` (``threshold``, ``timeout``, ...);
    ``inconclusive`` when the evidence was missing (e.g. the fault never took effect), which
    never counts as held; ``evidence``: what the verdict rests on, one sentence each (the
    fault's effect first, then the pattern's own signal).
    """

    name: str
    held: bool
    observed: float | None
    threshold: float
    operator: str
    window: str
    metric: str
    explanation: str
    request: str | None = None
    check: str = "threshold"
    inconclusive: bool = False
    evidence: list[str] = field(default_factory=list)


class Judge(ABC):
    """Judges one expectation: built from its spec (:class:`harness.scenario.checks.CheckSpec`),
    it gives a verdict per window the spec selects.

    Subclasses set ``spec_type`` to their spec class (registered with
    :func:`harness.checks.registry.register_judge`) and implement :meth:`judge_window`; they
    may narrow :meth:`windows`.
    """

    spec_type: ClassVar[type[CheckSpec]]

    def __init__(self, spec: CheckSpec):
        self.spec = spec

    def judge(self, evidence: Evidence) -> list[ExpectationResult]:
        """Verdicts for every window :meth:`windows` selects (one inconclusive verdict when
        none matches: the fault never took effect). A verdict on a fault or recovery window is
        inconclusive unless its fault's effect was seen."""
        windows = self.windows(evidence)
        if not windows:
            return [self.no_window()]
        return [self.result(w, self.gated(self.judge_window(evidence, w), evidence.effect_for(w)),
                            several=len(windows) > 1) for w in windows]

    @staticmethod
    def gated(verdict: Verdict, effect: FaultEffect | None) -> Verdict:
        """``verdict`` resting on ``effect`` (None for windows without a fault): inconclusive
        unless the effect was seen, and its evidence first either way."""
        if effect is None:
            return verdict
        line = f"fault {effect.window}: " + ("acted: " if effect.seen else "") + effect.evidence
        if effect.seen:
            return verdict.with_evidence(line)
        return verdict.unproven(f"the fault never took effect ({effect.evidence})").with_evidence(line)

    def windows(self, evidence: Evidence) -> list[Window]:
        """The windows this check judges (default: what the spec's ``window`` selector names)."""
        return evidence.windows_for(self.spec.window)

    @abstractmethod
    def judge_window(self, evidence: Evidence, window: Window) -> Verdict:
        """The verdict on one window."""

    def no_requests(self, evidence: Evidence, window: Window, threshold: float, operator: str,
                    metric: str) -> Verdict:
        """The verdict on a window in which no request started: the clients were stuck, so the
        pattern did not hold; but when the baseline's rate would not have started even one
        request in a window that short, nothing can be said (inconclusive)."""
        request = self.spec.request
        scope = f" for {request}" if request else ""
        expected = evidence.expected_requests(window, request)
        if expected < STUCK_EXPECTED_REQUESTS:
            return Verdict(False, None, threshold, operator, metric,
                           f"No requests{scope} started in {window.name} ({window.duration_s:g} s), where the "
                           f"baseline's rate gives {expected:.1f}: too short or too little load to judge.",
                           inconclusive=True)
        return Verdict(False, None, threshold, operator, metric,
                       f"No requests{scope} started in {window.name}, where the baseline's rate gives "
                       f"{expected:.0f}: the clients were stuck.")

    def result(self, window: Window | str, verdict: Verdict, several: bool = False) -> ExpectationResult:
        """Name ``verdict`` for this check; ``several`` appends ``[window]`` to the name."""
        spec, v = self.spec, verdict
        window_name = window if isinstance(window, str) else window.name
        name = f"{spec.label} [{window_name}]" if several else spec.label
        return ExpectationResult(name, v.held and not v.inconclusive, v.observed, v.threshold, v.operator, window_name,
                                 v.metric, v.explanation, spec.request, spec.check, v.inconclusive, list(v.evidence))

    def no_window(self) -> ExpectationResult:
        """The verdict when the selector matched no window: inconclusive, never held."""
        window = self.spec.window
        return self.result(window, Verdict(False, None, 0.0, "", "", f"No window matches {window!r}: "
                                           "the fault never took effect, so this could not be judged.",
                                           inconclusive=True))
