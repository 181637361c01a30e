"""The check contract: a spec that judges evidence and explains its verdict."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from harness.analysis.evidence import Evidence
    from harness.analysis.windows import Window


@dataclass(frozen=True)
class Verdict:
    """A check's judgement of one window, before it is named: ``held``, the ``observed``
    value, the ``threshold`` with its ``operator``, the ``metric``, a one-sentence
    ``explanation``, and ``inconclusive`` when the evidence was missing."""

    held: bool
    observed: float | None
    threshold: float
    operator: str
    metric: str
    explanation: str
    inconclusive: bool = False


@dataclass(frozen=True)
class ExpectationResult:
    """One verdict.

    Fields: expectation ``name``; ``held``; the ``observed`` value (None when it could not be
    measured); the ``threshold`` it was held against with its ``operator``; the ``window`` and
    ``metric`` judged; a one-sentence ``explanation`` citing the numbers; ``request`` when the
    verdict is about one request name; ``check`` (``threshold``, ``timeout``, ...);
    ``inconclusive`` when the evidence was missing (e.g. the fault never took effect), which
    never counts as held.
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


class CheckSpec(BaseModel):
    """Envelope of every expectation.

    Fields:
        check: the registered check name (subclasses narrow it to a Literal with a default).
        name: the expectation's name in reports (default: generated from the parameters).
        window: window selector: ``baseline``, ``fault``, ``recovery``, ``run``,
            ``fault:<fault>``, ``recovery:<fault>``.
        request: narrow to one request name of the mix (where the check uses request metrics).

    Class attribute ``summary``: one line saying what the check verifies (for docs).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    summary: ClassVar[str] = ""

    check: str
    name: str | None = None
    window: str = "fault"
    request: str | None = None

    @property
    def label(self) -> str:
        """The expectation's name in reports."""
        return self.name or self.default_label()

    def default_label(self) -> str:
        """A name built from the parameters when the scenario gives none."""
        return f"{self.check} in {self.window}"

    def judge(self, evidence: Evidence) -> list[ExpectationResult]:
        """Verdicts for every window :meth:`windows` selects (one inconclusive verdict when
        none matches: the fault never took effect)."""
        windows = self.windows(evidence)
        if not windows:
            return [self.no_window()]
        return [self.result(w, *astuple(self.judge_window(evidence, w)), several=len(windows) > 1) for w in windows]

    def windows(self, evidence: Evidence) -> list[Window]:
        """The windows this check judges (default: what the ``window`` selector names)."""
        return evidence.windows_for(self.window)

    @abstractmethod
    def judge_window(self, evidence: Evidence, window: Window) -> Verdict:
        """The verdict on one window."""

    def no_requests(self, window: Window, threshold: float, operator: str, metric: str) -> Verdict:
        """The verdict on a window in which no request started: the clients were stuck, so the
        pattern did not hold."""
        scope = f" for {self.request}" if self.request else ""
        return Verdict(False, None, threshold, operator, metric,
                       f"No requests{scope} started in {window.name}: the clients were stuck.")

    def result(self, window: Window | str, held: bool, observed: float | None, threshold: float, operator: str,
               metric: str, explanation: str, inconclusive: bool = False, several: bool = False) -> ExpectationResult:
        """Build a verdict for this check; ``several`` appends ``[window]`` to the name."""
        window_name = window if isinstance(window, str) else window.name
        name = f"{self.label} [{window_name}]" if several else self.label
        return ExpectationResult(name, held and not inconclusive, observed, threshold, operator, window_name, metric,
                                 explanation, self.request, self.check, inconclusive)

    def no_window(self) -> ExpectationResult:
        """The verdict when the selector matched no window: inconclusive, never held."""
        return self.result(self.window, False, None, 0.0, "", "", f"No window matches {self.window!r}: "
                           "the fault never took effect, so this could not be judged.", inconclusive=True)


