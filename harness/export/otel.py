"""OpenTelemetry spans of a run, built with the official SDK and sent over OTLP/HTTP.

One trace per run: a root span ``harness run <scenario>`` from ``started_at`` to ``ended_at``,
and a child span per window (``baseline``, ``fault:<f>``, ``recovery:<f>``) over its bounds. The
root's events are the timeline's actions (``inject <f>``, ``revert <f>``...) and the operator's
notes (``note``), each at its own time. Every timestamp comes from the report (epoch ns), never
from the clock. Attributes are prefixed ``harness.``: the run's id, scenario, status and seed on
the root; a window's kind, fault, fault kind, ``p99_ms``, ``p50_ms``, ``error_rate``, ``rps``,
``requests`` and ``verdicts`` (``"<name>: held"``...) on its span, whose status is ERROR when one
of its verdicts failed. Trace and span ids are derived from the run id, so exporting a run again
sends the same ids (a receiver that deduplicates keeps one copy).

The spans are made by a private ``TracerProvider`` (the process's global one is never set or
read) and collected in memory; :func:`push_spans` then sends them in one OTLP request.
"""

from __future__ import annotations

import hashlib
import logging
import random
from contextlib import contextmanager
from typing import Iterator, Mapping
from urllib.parse import urlsplit

import requests
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Status, StatusCode

from harness import __version__
from harness.export.common import PushError, fault_kind, outcome, short_reason, verdict_words, window_verdicts
from harness.export.source import RunSource, iso_ns
from harness.report.model import WindowReport

PUSH_TIMEOUT_S = 10.0
"""Deadline of the OTLP push, retries included, seconds."""
TRACES_PATH = "/v1/traces"
MAX_EVENTS = 10_000
"""Most events on the root span (timeline actions and notes; the SDK's default is 128)."""
FAILED_STATUSES = ("failed", "error", "aborted", "interrupted")
"""Run statuses that make the root span's status ERROR."""


class _RunIds(IdGenerator):
    """Trace and span ids drawn from a generator seeded with the run id: the same run, the same ids."""

    def __init__(self, run_id: str):
        self._rng = random.Random(hashlib.sha256(run_id.encode("utf-8", "surrogatepass")).digest())

    def generate_trace_id(self) -> int:
        """A non-zero 128-bit trace id."""
        return self._rng.getrandbits(128) or 1

    def generate_span_id(self) -> int:
        """A non-zero 64-bit span id."""
        return self._rng.getrandbits(64) or 1


def build_spans(run: RunSource) -> list[ReadableSpan]:
    """The run's spans (see the module docstring): the root first, then one per window in report
    order. Made by a private provider, flushed and shut down before returning."""
    report = run.report
    provider = TracerProvider(sampler=ALWAYS_ON, shutdown_on_exit=False, id_generator=_RunIds(report.run_id),
                              span_limits=SpanLimits(max_events=MAX_EVENTS),
                              resource=Resource.create({"service.name": "harness",
                                                        "service.version": __version__,
                                                        "harness.run_id": report.run_id}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("harness.export", __version__)
    root = tracer.start_span(f"harness run {report.scenario.name}", start_time=run.started_ns,
                             attributes={"harness.run_id": report.run_id, "harness.scenario": report.scenario.name,
                                         "harness.status": report.status, "harness.seed": report.seed})
    for entry in report.timeline:
        root.add_event(f"{entry.action} {entry.fault}", timestamp=iso_ns(entry.at),
                       attributes=_clean({"harness.fault": entry.fault, "harness.fault.kind": entry.kind,
                                          "harness.touched": list(entry.touched), "harness.error": entry.error,
                                          "harness.offset_s": entry.offset_s}))
    for note in run.notes:
        root.add_event("note", timestamp=note.t_ns, attributes={"harness.note": note.text})
    parent = trace.set_span_in_context(root)
    for window in report.windows:
        _window_span(tracer, parent, run, window)
    if report.status in FAILED_STATUSES:
        root.set_status(Status(StatusCode.ERROR, f"{report.status}: {report.error or ''}".rstrip(": ")))
    root.end(end_time=run.ended_ns)
    provider.force_flush(timeout_millis=5000)
    provider.shutdown()
    finished = list(memory.get_finished_spans())
    return finished[-1:] + finished[:-1]


def _window_span(tracer: trace.Tracer, parent, run: RunSource, window: WindowReport) -> None:  # noqa: ANN001
    """One window's child span, ended at the window's end."""
    verdicts = window_verdicts(run.report, window.name)
    m = window.metrics
    attributes = _clean({
        "harness.window": window.name, "harness.window.kind": window.kind, "harness.fault": window.fault,
        "harness.fault.kind": fault_kind(run.report, window.fault), "harness.p99_ms": m.p99_ms,
        "harness.p50_ms": m.p50_ms, "harness.error_rate": m.error_rate, "harness.rps": m.rps,
        "harness.requests": m.requests, "harness.verdicts": verdict_words(verdicts),
        "harness.start_s": window.start_s, "harness.end_s": window.end_s,
    })
    span = tracer.start_span(window.name, context=parent, start_time=run.at_ns(window.start_s), attributes=attributes)
    failed = [v.name for v in verdicts if outcome(v) == "failed"]
    if failed:
        span.set_status(Status(StatusCode.ERROR, "failed: " + ", ".join(failed)))
    span.end(end_time=max(run.at_ns(window.end_s), run.at_ns(window.start_s)))


def _clean(attributes: Mapping[str, object]) -> dict:
    """The attributes without None values and empty lists (OpenTelemetry drops or rejects them)."""
    return {key: value for key, value in attributes.items() if value is not None and value != []}


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of an endpoint given like ``OTEL_EXPORTER_OTLP_ENDPOINT``
    (``http://collector:4318`` gets ``/v1/traces``); a URL already ending in ``/v1/traces`` is kept."""
    endpoint = endpoint.strip()
    if urlsplit(endpoint).path.rstrip("/").endswith(TRACES_PATH):
        return endpoint
    return endpoint.rstrip("/") + TRACES_PATH


def otlp_endpoint(flag: str | None, environ: Mapping[str, str]) -> str | None:
    """Where to send spans: ``--otlp-endpoint`` when given, else the standard
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as is) or ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a base
    URL); None when none is set (nothing is sent). Returns the traces URL (:func:`traces_url`)."""
    if flag:
        return traces_url(flag)
    if environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip():
        return environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].strip()
    if environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return traces_url(environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
    return None


def push_spans(spans: list[ReadableSpan], url: str, timeout_s: float = PUSH_TIMEOUT_S) -> int:
    """Send ``spans`` to the OTLP/HTTP traces ``url`` (protobuf) in one request, retried by the
    SDK on 429/502/503/504 and connection errors within ``timeout_s`` seconds; return how many.

    Raises:
        PushError: not accepted (one line naming the URL and the HTTP status, or the error).
    """
    session = _RecordingSession()
    exporter = OTLPSpanExporter(endpoint=url, timeout=timeout_s, session=session)
    with _captured_logs("opentelemetry") as messages:
        try:
            result = exporter.export(spans)
        finally:
            exporter.shutdown()
    if result is not SpanExportResult.SUCCESS:
        if session.statuses:
            raise PushError(f"OTLP receiver at {url} answered HTTP {session.statuses[-1]}; "
                            f"{len(spans)} spans not accepted")
        reason = session.errors[-1] if session.errors else " ".join(messages) or "no answer"
        raise PushError(f"OTLP push to {url} failed: {short_reason(reason)}")
    return len(spans)


class _RecordingSession(requests.Session):
    """A requests session that keeps the status of every answer and the text of every error."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []
        self.errors: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:  # noqa: ANN003
        """:meth:`requests.Session.send`, recording the outcome."""
        try:
            answer = super().send(request, **kwargs)
        except requests.RequestException as exc:
            self.errors.append(str(exc))
            raise
        self.statuses.append(answer.status_code)
        return answer


@contextmanager
def _captured_logs(name: str) -> Iterator[list[str]]:
    """Collect the warnings and errors of logger ``name`` (and its children) instead of letting
    them reach stderr; yields the list of messages."""
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            """Keep the record's message."""
            messages.append(record.getMessage())

    logger = logging.getLogger(name)
    handler, propagate = _Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
