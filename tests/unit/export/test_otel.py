"""OpenTelemetry spans: a root span for the run, a child per window, explicit timestamps from the
report, events for the timeline and the notes, and the OTLP/HTTP push."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.trace import StatusCode

from harness.export import PushError, build_spans, otlp_endpoint, push_spans, read_run, traces_url
from tests.unit.export.conftest import LOAD_START_S, NOTES, write_run

S = 10**9


def _ns(t_s: float) -> int:
    return round(t_s * 1e6) * 1000


def test_one_root_span_and_a_child_per_window_on_the_reports_times(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path))
    root, *children = build_spans(run)
    assert root.name == "harness run shop" and root.parent is None
    assert (root.start_time, root.end_time) == (run.started_ns, run.ended_ns)
    assert root.start_time == 1767225600 * S
    assert [c.name for c in children] == [w.name for w in run.report.windows]
    for child, window in zip(children, run.report.windows):
        assert child.parent.span_id == root.context.span_id
        assert child.context.trace_id == root.context.trace_id
        assert child.start_time == _ns(LOAD_START_S) + round(window.start_s * S)
        assert child.end_time == _ns(LOAD_START_S) + round(window.end_s * S)
        assert child.attributes["harness.window.kind"] == window.kind
        assert child.attributes["harness.p99_ms"] == window.metrics.p99_ms
        assert child.attributes["harness.error_rate"] == window.metrics.error_rate
        assert child.attributes["harness.rps"] == window.metrics.rps


def test_window_attributes_carry_the_fault_and_its_verdicts(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path))
    spans = {s.name: s for s in build_spans(run)}
    fault = spans["fault:catalog-slow"]
    assert fault.attributes["harness.fault"] == "catalog-slow"
    assert fault.attributes["harness.fault.kind"] == "latency"
    assert fault.attributes["harness.verdicts"] == ("p99 bounded during catalog-slow: failed",)
    assert fault.status.status_code is StatusCode.ERROR
    assert "harness.fault" not in spans["baseline"].attributes
    assert spans["baseline"].status.status_code is StatusCode.UNSET
    assert spans["harness run shop"].status.status_code is StatusCode.ERROR


def test_timeline_actions_and_notes_are_events_at_their_times(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path))
    root = build_spans(run)[0]
    events = [(e.name, e.timestamp) for e in root.events]
    assert ("inject catalog-slow", 1767225610 * S) in events and ("revert api-kill", 1767225640 * S) in events
    notes = [e for e in root.events if e.name == "note"]
    assert [(e.timestamp, e.attributes["harness.note"]) for e in notes] == [(_ns(t), text) for t, text in NOTES]


def test_no_notes_no_note_events(tmp_path: Path) -> None:
    root = build_spans(read_run(write_run(tmp_path, notes=[])))[0]
    assert not [e for e in root.events if e.name == "note"]


def test_ids_follow_the_run_and_the_global_provider_is_untouched(tmp_path: Path) -> None:
    before = trace.get_tracer_provider()
    run = read_run(write_run(tmp_path))
    first, second = build_spans(run), build_spans(run)
    assert [s.context.span_id for s in first] == [s.context.span_id for s in second]
    assert len({s.context.span_id for s in first}) == len(first)
    assert trace.get_tracer_provider() is before


def test_push_sends_one_protobuf_request_the_official_schema_decodes(tmp_path: Path, receiver) -> None:  # noqa: ANN001
    spans = build_spans(read_run(write_run(tmp_path)))
    assert push_spans(spans, traces_url(receiver.url)) == len(spans)
    (request,) = receiver.received
    assert request.path == "/v1/traces" and request.headers["content-type"] == "application/x-protobuf"
    decoded = ExportTraceServiceRequest.FromString(request.body)
    sent = [s for rs in decoded.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert [s.name for s in sent] == [s.name for s in spans]
    assert [s.start_time_unix_nano for s in sent] == [s.start_time for s in spans]
    root_id = sent[0].span_id
    assert all(s.parent_span_id == root_id for s in sent[1:])


def test_a_refused_push_is_one_line_naming_the_url_and_the_status(tmp_path: Path, receiver) -> None:  # noqa: ANN001
    receiver.status = 400
    spans = build_spans(read_run(write_run(tmp_path)))
    with pytest.raises(PushError, match=rf"^OTLP receiver at {receiver.url}/v1/traces answered HTTP 400; "
                                        rf"{len(spans)} spans not accepted$"):
        push_spans(spans, receiver.url + "/v1/traces", timeout_s=3)


def test_an_unreachable_endpoint_is_one_line(tmp_path: Path) -> None:
    spans = build_spans(read_run(write_run(tmp_path)))
    with pytest.raises(PushError, match=r"^OTLP push to http://127\.0\.0\.1:9/v1/traces failed: Connection refused$"):
        push_spans(spans, "http://127.0.0.1:9/v1/traces", timeout_s=0.5)


@pytest.mark.parametrize(("flag", "environ", "expected"), [
    (None, {}, None),
    ("http://c:4318", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"}, "http://c:4318/v1/traces"),
    (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, "http://c:4318/v1/traces"),
    (None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/custom"}, "http://c:4318/custom"),
    ("http://c:4318/v1/traces", {}, "http://c:4318/v1/traces"),
    ("https://c/otlp", {}, "https://c/otlp/v1/traces"),
])
def test_the_endpoint_is_the_flag_else_the_standard_variables(flag, environ, expected) -> None:  # noqa: ANN001
    assert otlp_endpoint(flag, environ) == expected
