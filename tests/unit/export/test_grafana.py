"""Grafana annotations: regions on the fault windows' times, points for notes and verdicts, and
the push to POST /api/annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.export import PushError, annotations, annotations_json, push_annotations, read_run
from tests.unit.export.conftest import LOAD_START_S, NOTES, write_run
from tests.unit.report.conftest import HOSTILE, make_report


def _ms(t_s: float) -> int:
    return round(t_s * 1000)


def test_each_fault_window_is_a_region_on_the_windows_times(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path))
    regions = [a for a in annotations(run) if "timeEnd" in a]
    faults = [w for w in run.report.windows if w.kind == "fault"]
    assert [(a["time"], a["timeEnd"]) for a in regions] == [
        (_ms(LOAD_START_S + w.start_s), _ms(LOAD_START_S + w.end_s)) for w in faults]
    first = regions[0]
    assert {"harness", "run:run-shop-1", "scenario:shop", "fault", "fault:catalog-slow", "kind:latency",
            "failed"} <= set(first["tags"])
    assert "fault:catalog-slow (latency): p99 " in first["text"]
    assert "p99 bounded during catalog-slow: failed" in first["text"]


def test_notes_and_verdicts_are_points(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path))
    items = annotations(run)
    notes = [a for a in items if "note" in a["tags"]]
    assert [(a["time"], a["text"]) for a in notes] == [(_ms(t), text) for t, text in NOTES]
    assert all("timeEnd" not in a for a in notes)
    verdicts = [a for a in items if "verdict" in a["tags"]]
    assert len(verdicts) == len(run.report.expectations)
    baseline = next(a for a in verdicts if a["text"].startswith("steady baseline"))
    assert baseline["time"] == _ms(LOAD_START_S + 10) and "held" in baseline["tags"]
    status = next(a for a in items if "run" in a["tags"])
    assert status["time"] == _ms(run.ended_ns / 1e9) and "failed" in status["tags"]
    assert [a["time"] for a in items] == sorted(a["time"] for a in items)


def test_a_run_without_notes_exports_none(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path, notes=[]))
    assert not [a for a in annotations(run) if "note" in a["tags"]]


def test_the_json_is_the_annotations_and_keeps_hostile_names_exact(tmp_path: Path) -> None:
    report = make_report(name=HOSTILE, faults=(HOSTILE,))
    run = read_run(write_run(tmp_path, report))
    parsed = json.loads(annotations_json(run))
    assert parsed == annotations(run)
    assert f"fault:{HOSTILE}" in parsed[0]["tags"] and f"scenario:{HOSTILE}" in parsed[0]["tags"]


def test_push_posts_each_annotation_with_the_bearer_token(tmp_path: Path, receiver) -> None:  # noqa: ANN001
    items = annotations(read_run(write_run(tmp_path)))
    assert push_annotations(items, receiver.url + "/", token="s3cret") == len(items)
    assert [r.path for r in receiver.received] == ["/api/annotations"] * len(items)
    assert [json.loads(r.body) for r in receiver.received] == items
    assert {r.headers["authorization"] for r in receiver.received} == {"Bearer s3cret"}
    assert {r.headers["content-type"] for r in receiver.received} == {"application/json"}


def test_a_refused_push_is_one_line_naming_the_url_and_the_status(tmp_path: Path, receiver) -> None:  # noqa: ANN001
    receiver.status = 401
    items = annotations(read_run(write_run(tmp_path)))
    with pytest.raises(PushError) as caught:
        push_annotations(items, receiver.url)
    message = str(caught.value)
    assert f"{receiver.url}/api/annotations" in message and "HTTP 401" in message and "Unauthorized" in message
    assert "\n" not in message and len(receiver.received) == 1


def test_an_unreachable_grafana_is_one_line(tmp_path: Path) -> None:
    items = annotations(read_run(write_run(tmp_path)))
    with pytest.raises(PushError, match=r"^Grafana push to http://127\.0\.0\.1:9/api/annotations failed after 0 of "
                                        r"\d+ annotations: cannot connect \(Connection refused\)$"):
        push_annotations(items, "http://127.0.0.1:9", timeout_s=2)
