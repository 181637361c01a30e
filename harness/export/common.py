"""What the exporters share: a verdict's outcome, the verdicts of a window, a window's metrics
in one line, and the error of a failed push."""

from __future__ import annotations

import re
from typing import Literal

from harness.checks import ExpectationResult
from harness.report.model import Report, WindowReport

class PushError(RuntimeError):
    """A push to a receiver (Grafana, an OTLP endpoint) failed. The message is one line naming
    the URL and the HTTP status, or the connection error."""


Outcome = Literal["held", "failed", "inconclusive"]


def outcome(result: ExpectationResult) -> Outcome:
    """``inconclusive`` (never held), else ``held`` or ``failed``."""
    if result.inconclusive:
        return "inconclusive"
    return "held" if result.held else "failed"


def window_verdicts(report: Report, window: str) -> list[ExpectationResult]:
    """The expectations judged on ``window`` (by name), in report order."""
    return [e for e in report.expectations if e.window == window]


def verdict_words(results: list[ExpectationResult]) -> list[str]:
    """``["<name>: held", ...]`` for each verdict."""
    return [f"{e.name}: {outcome(e)}" for e in results]


def metrics_line(window: WindowReport) -> str:
    """``p99 1500 ms, error rate 0.2%, 50 rps, 500 requests`` (``p99 -`` without requests)."""
    m = window.metrics
    p99 = f"{m.p99_ms:g} ms" if m.p99_ms is not None else "-"
    return f"p99 {p99}, error rate {100 * m.error_rate:.3g}%, {m.rps:.4g} rps, {m.requests} requests"


def fault_kind(report: Report, fault: str | None) -> str | None:
    """The fault kind (``latency``, ``kill``...) of the fault named ``fault``, from the timeline."""
    return next((entry.kind for entry in report.timeline if entry.fault == fault), None) if fault else None


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
MAX_REASON_CHARS = 160


def short_reason(text: str) -> str:
    """The root cause in a network error's text, one short line: the OS's words when the text
    has an ``[Errno N] ...`` (``Connection refused``, ``Name or service not known``), else the
    text itself with its whitespace collapsed, cut to :data:`MAX_REASON_CHARS`."""
    found = _ERRNO.findall(text)
    if found:
        return found[-1].strip()
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[: MAX_REASON_CHARS - 1] + "…"
