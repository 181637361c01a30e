"""Exports of a run for the tools SREs already watch, all pure functions of a run directory
(``report.json``, and the operator's notes from ``journal.jsonl``; :mod:`.source`):

- ``grafana-annotations.json``: Grafana annotations (:mod:`.grafana`): a region per fault window,
  a point per note and per verdict; pushed to ``POST /api/annotations`` when asked;
- ``metrics.prom``: the windows' metrics and the verdicts in Prometheus' text format
  (:mod:`.prometheus`);
- OpenTelemetry spans (:mod:`.otel`): a trace per run, a span per window; sent over OTLP/HTTP
  when an endpoint is given (nothing is written for them).

Nothing exports unless asked: ``harness export RUN_DIR`` (docs/exports.md).
"""

from __future__ import annotations

from pathlib import Path

from harness.export.common import PushError
from harness.export.grafana import annotations, annotations_json, push_annotations
from harness.export.otel import build_spans, otlp_endpoint, push_spans, traces_url
from harness.export.prometheus import prometheus_text
from harness.export.source import Note, RunSource, read_run
from harness.report.files import write_files

GRAFANA_FILE = "grafana-annotations.json"
PROMETHEUS_FILE = "metrics.prom"


def export_texts(run: RunSource) -> dict[str, str]:
    """The export files' texts by file name: ``grafana-annotations.json`` and ``metrics.prom``."""
    return {GRAFANA_FILE: annotations_json(run), PROMETHEUS_FILE: prometheus_text(run)}


def write_exports(run: RunSource, out_dir: Path) -> dict[str, Path]:
    """Write :func:`export_texts` into ``out_dir`` (created if missing), each file whole or not at
    all; return their paths by file name.

    Raises:
        ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    return write_files(out_dir, export_texts(run))


__all__ = ["GRAFANA_FILE", "PROMETHEUS_FILE", "Note", "PushError", "RunSource", "annotations", "annotations_json",
           "build_spans", "export_texts", "otlp_endpoint", "prometheus_text", "push_annotations", "push_spans",
           "read_run", "traces_url", "write_exports"]
