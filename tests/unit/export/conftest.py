"""Run directories for the export tests: a synthetic report (``make_report``) written as
``report.json``, and a ``journal.jsonl`` with the load's start and operator notes, plus a tiny
HTTP receiver that records what is posted to it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from harness.report import Report
from tests.unit.report.conftest import HOSTILE, make_report

LOAD_START_S = 1767225600.25
"""The load's start in the journal: 0.25 s after the report's ``started_at`` (2026-01-01T00:00:00Z)."""
NOTES = [(LOAD_START_S + 12.5, "api looks slow, paging catalog team"), (LOAD_START_S + 31.0, HOSTILE)]


def write_run(run_dir: Path, report: Report | None = None, notes: list[tuple[float, str]] | None = None,
              journal: bool = True) -> Path:
    """``run_dir`` holding ``report.json`` and (``journal``) a ``journal.jsonl`` with ``load.start``
    at :data:`LOAD_START_S` and ``notes`` (default :data:`NOTES`) as ``note`` events."""
    run_dir.mkdir(parents=True, exist_ok=True)
    report = report or make_report(faults=("catalog-slow", "api-kill"))
    (run_dir / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if journal:
        lines = [{"event": "run.start", "t": LOAD_START_S - 0.25},
                 {"event": "load.start", "t": LOAD_START_S, "host": "http://127.0.0.1:1"}]
        lines += [{"event": "note", "t": t, "text": text} for t, text in (NOTES if notes is None else notes)]
        (run_dir / "journal.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return run_dir


@dataclass
class Received:
    """One request a :class:`Receiver` got: method, path, headers (lower-case names), body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server answering every POST with ``status`` (and a JSON body), recording the
    requests in ``received``; ``url`` is its base URL."""

    url: str = ""
    status: int = 200
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A :class:`Receiver` on 127.0.0.1, stopped after the test."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.received.append(Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = json.dumps({"id": len(state.received), "message": "Annotation added" if state.status < 300
                                 else "Unauthorized"}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:  # noqa: ANN002 (quiet)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_otlp_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard OTLP variables of the machine running the tests never reach an export."""
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
