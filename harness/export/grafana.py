"""Grafana annotations of a run, in the shape of Grafana's HTTP API (``POST /api/annotations``,
one JSON object per annotation), and pushing them.

Each annotation has ``time`` (epoch ms), ``tags`` and ``text``; a region has ``timeEnd`` too:

- a region per fault window (``fault:<f>``), from the inject to the revert, tagged ``harness``,
  ``run:<run id>``, ``scenario:<name>``, ``fault``, ``fault:<f>``, its kind, its verdicts'
  outcomes; its text gives the window's p99, error rate and rps and its verdicts;
- a point per operator note (journal ``note`` events), tagged ``note``;
- a point per verdict at the end of its window, tagged ``verdict`` and ``held``/``failed``/
  ``inconclusive``, its text the verdict's explanation;
- a point at the run's end with its status, tagged ``run`` and the status.

Without ``dashboardUID``/``panelId`` they are organisation-wide annotations: a dashboard shows
them through an annotation query filtered by tags (``harness``, or ``run:<run id>``).
"""

from __future__ import annotations

import json
from typing import TypedDict

import requests

from harness.export.common import (PushError, fault_kind, metrics_line, outcome, short_reason, verdict_words,
                                   window_verdicts)
from harness.export.source import RunSource

NS_PER_MS = 1_000_000
PUSH_TIMEOUT_S = 10.0
"""Timeout of each HTTP request to Grafana (connect and read), seconds."""
ANNOTATIONS_PATH = "/api/annotations"


class Annotation(TypedDict, total=False):
    """One annotation as Grafana's ``POST /api/annotations`` takes it: ``time`` and ``timeEnd``
    (region end; absent for a point) in epoch milliseconds, ``tags``, ``text``."""

    time: int
    timeEnd: int
    tags: list[str]
    text: str


def annotations(run: RunSource) -> list[Annotation]:
    """Every annotation of ``run`` (see the module docstring), in time order (stable)."""
    report = run.report
    base = ["harness", f"run:{report.run_id}", f"scenario:{report.scenario.name}"]
    out: list[Annotation] = []
    for window in report.windows:
        if window.kind != "fault":
            continue
        verdicts = window_verdicts(report, window.name)
        kind = fault_kind(report, window.fault)
        tags = base + ["fault", f"fault:{window.fault}"] + ([f"kind:{kind}"] if kind else [])
        tags += sorted({outcome(v) for v in verdicts})
        text = f"{window.name}" + (f" ({kind})" if kind else "") + f": {metrics_line(window)}"
        if verdicts:
            text += "; " + "; ".join(verdict_words(verdicts))
        out.append(Annotation(time=_ms(run.at_ns(window.start_s)), timeEnd=_ms(run.at_ns(window.end_s)),
                              tags=tags, text=text))
    out += [Annotation(time=_ms(note.t_ns), tags=base + ["note"], text=note.text) for note in run.notes]
    ends = {w.name: run.at_ns(w.end_s) for w in report.windows}
    for verdict in report.expectations:
        at_ns = ends.get(verdict.window, run.ended_ns)
        out.append(Annotation(time=_ms(at_ns), tags=base + ["verdict", outcome(verdict)],
                              text=f"{verdict.name}: {outcome(verdict)}. {verdict.explanation}"))
    out.append(Annotation(time=_ms(run.ended_ns), tags=base + ["run", report.status],
                          text=f"harness run {report.run_id} of {report.scenario.name}: {report.status}"
                               + (f" ({report.error})" if report.error else "")))
    return sorted(out, key=lambda a: a["time"])


def annotations_json(run: RunSource) -> str:
    """:func:`annotations` as a JSON array (indented, ending in a newline): the body of each
    ``POST /api/annotations`` is one element."""
    return json.dumps(annotations(run), indent=2, ensure_ascii=False) + "\n"


def push_annotations(items: list[Annotation], grafana_url: str, token: str | None = None,
                     timeout_s: float = PUSH_TIMEOUT_S, session: requests.Session | None = None) -> int:
    """POST each annotation to ``<grafana_url>/api/annotations``, in order; return how many.

    Args:
        items: the annotations (:func:`annotations`).
        grafana_url: Grafana's base URL (``http://grafana:3000``; a sub-path is kept).
        token: a service-account token or API key, sent as ``Authorization: Bearer``; None sends
            none (basic auth in the URL works as requests does it).
        timeout_s: per request (connect and read), seconds.
        session: a requests session (tests); a new one by default.

    Raises:
        PushError: a request failed or was answered with a status outside 2xx; the annotations
            before it were pushed. One line: ``Grafana at URL answered HTTP 401 ...``.
    """
    url = grafana_url.rstrip("/") + ANNOTATIONS_PATH
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = session or requests.Session()
    for number, item in enumerate(items):
        try:
            answer = http.post(url, json=item, headers=headers, timeout=timeout_s)
        except requests.RequestException as exc:
            raise PushError(f"Grafana push to {url} failed after {number} of {len(items)} annotations: "
                            f"{_reason(exc)}") from None
        if not 200 <= answer.status_code < 300:
            raise PushError(f"Grafana at {url} answered HTTP {answer.status_code} {answer.reason or ''}".rstrip()
                            + f" after {number} of {len(items)} annotations" + _body_hint(answer))
    return len(items)


def _ms(t_ns: int) -> int:
    """Epoch ms of epoch ns, rounded to the nearest."""
    return (t_ns + NS_PER_MS // 2) // NS_PER_MS


def _reason(exc: requests.RequestException) -> str:
    """A request error's kind and a short reason, one line."""
    kind = {requests.Timeout: "timed out", requests.ConnectionError: "cannot connect"}
    name = next((word for cls, word in kind.items() if isinstance(exc, cls)), type(exc).__name__)
    detail = short_reason(str(exc))
    return f"{name} ({detail})" if detail else name


def _body_hint(answer: requests.Response) -> str:
    """``: <Grafana's message>`` from a JSON error body, cut to one short line; else empty."""
    try:
        message = answer.json().get("message")
    except (ValueError, AttributeError):
        return ""
    return f": {short_reason(str(message))}" if message else ""
