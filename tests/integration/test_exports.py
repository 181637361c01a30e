"""`harness export` against real receivers, in containers built by `make setup` from
debian:bookworm-slim with apt (scripts/lib/images.sh):

- Prometheus (Debian's `prometheus`): the server scrapes the exported metrics.prom and answers
  queries with the report's numbers; `promtool check metrics` lints the file clean;
- an OTLP/HTTP receiver standing in for an OpenTelemetry Collector (images/export-receivers/: it
  decodes ExportTraceServiceRequest with the official protobuf schema): the spans it got;
- a stand-in for Grafana's annotation API (same image): the annotations posted and the token.

One container per receiver for the module, labelled ``harness.run-id=<this module's id>`` and
removed at the end; one `harness export` subprocess pushes to both stand-ins. Everything is
asserted from outside, through the receivers' own HTTP APIs.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import requests

from harness.export import GRAFANA_FILE, PROMETHEUS_FILE, read_run
from harness.export.source import iso_ns
from tests.unit.export.conftest import NOTES, write_run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PROMETHEUS_IMAGE = "harness/prometheus:0.1"
RECEIVERS_IMAGE = "harness/export-receivers:0.1"
RUN_ID = f"export-test-{uuid.uuid4().hex[:12]}"
TOKEN = "glsa_test_token_not_a_secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, deadline_s: float = 30) -> None:
    """Poll ``url`` until it answers 200, or fail."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > end:
            pytest.fail(f"{url} did not answer within {deadline_s} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def engine(docker_engine) -> Iterator:  # noqa: ANN001
    """A Docker SDK client; at the end, no container of this module is left."""
    import docker

    client = docker.from_env(timeout=60)
    for image in (PROMETHEUS_IMAGE, RECEIVERS_IMAGE):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"image {image} is missing: run `make setup`")
    yield client
    left = client.containers.list(all=True, filters={"label": f"harness.run-id={RUN_ID}"})
    for container in left:
        container.remove(force=True)
    client.close()
    assert not left, f"containers left behind: {[c.name for c in left]}"


def _receiver(engine, role: str, port: int) -> Iterator[str]:  # noqa: ANN001
    """A stand-in receiver container published on 127.0.0.1; yields its base URL."""
    container = engine.containers.run(RECEIVERS_IMAGE, ["python3", "/srv/receiver.py", role, str(port)],
                                      detach=True, labels={"harness.run-id": RUN_ID},
                                      ports={f"{port}/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        url = f"http://127.0.0.1:{container.ports[f'{port}/tcp'][0]['HostPort']}"
        _wait_http(url + "/health")
        yield url
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module")
def otlp(engine) -> Iterator[str]:  # noqa: ANN001
    """The OTLP/HTTP receiver's base URL."""
    yield from _receiver(engine, "otlp", 4318)


@pytest.fixture(scope="module")
def grafana(engine) -> Iterator[str]:  # noqa: ANN001
    """The Grafana stand-in's base URL."""
    yield from _receiver(engine, "grafana", 3000)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory: a two-fault report and a journal with the load's start and two notes."""
    return write_run(tmp_path_factory.mktemp("export") / "run")


@pytest.fixture(scope="module")
def exported(run_dir: Path, otlp: str, grafana: str, harness_module_cli) -> dict:  # noqa: ANN001
    """One `harness export` pushing to both stand-ins; what each received."""
    result = harness_module_cli("export", str(run_dir), "--grafana-url", grafana, "--grafana-token-env",
                                "EXPORT_TEST_TOKEN", "--otlp-endpoint", otlp, env={"EXPORT_TEST_TOKEN": TOKEN})
    assert result.returncode == 0, result.stdout + result.stderr
    return {"stdout": result.stdout,
            "spans": requests.get(otlp + "/received", timeout=10).json(),
            "annotations": requests.get(grafana + "/received", timeout=10).json()}


@pytest.fixture(scope="module")
def harness_module_cli():
    """``harness`` in a subprocess, with extra environment variables (and none of the machine's
    ``OTEL_*``)."""
    repo = Path(__file__).resolve().parents[2]

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=repo,
                              timeout=120, env={**environ, **(env or {})})

    return run


def test_the_collector_got_the_run_span_and_a_child_per_window_on_the_reports_times(
        exported: dict, run_dir: Path, otlp: str) -> None:
    run = read_run(run_dir)
    spans = exported["spans"]
    root, children = spans[0], spans[1:]
    assert root["name"] == "harness run shop" and root["parent_span_id"] == ""
    assert (root["start_time_unix_nano"], root["end_time_unix_nano"]) == (run.started_ns, run.ended_ns)
    assert root["resource"]["service.name"] == "harness" and root["attributes"]["harness.run_id"] == "run-shop-1"
    assert [c["name"] for c in children] == [w.name for w in run.report.windows]
    for child, window in zip(children, run.report.windows):
        assert child["trace_id"] == root["trace_id"] and child["parent_span_id"] == root["span_id"]
        assert child["start_time_unix_nano"] == run.at_ns(window.start_s)
        assert child["end_time_unix_nano"] == run.at_ns(window.end_s)
        assert child["attributes"]["harness.p99_ms"] == window.metrics.p99_ms
        assert child["attributes"]["harness.window.kind"] == window.kind
    notes = [(e["time_unix_nano"], e["attributes"]["harness.note"]) for e in root["events"] if e["name"] == "note"]
    assert notes == [(note.t_ns, note.text) for note in run.notes] and len(notes) == len(NOTES)
    actions = [(e["name"], e["time_unix_nano"]) for e in root["events"] if e["name"] != "note"]
    assert actions == [(f"{e.action} {e.fault}", iso_ns(e.at)) for e in run.report.timeline]
    assert f"otlp: {len(spans)} spans sent to {otlp}/v1/traces" in exported["stdout"]


def test_grafana_got_every_annotation_with_the_token(exported: dict, run_dir: Path) -> None:
    run = read_run(run_dir)
    posted = [r["body"] for r in exported["annotations"]]
    assert posted == json.loads((run_dir / GRAFANA_FILE).read_text(encoding="utf-8"))
    assert {r["authorization"] for r in exported["annotations"]} == {f"Bearer {TOKEN}"}
    regions = [a for a in posted if "timeEnd" in a]
    faults = [w for w in run.report.windows if w.kind == "fault"]
    assert [(a["time"], a["timeEnd"]) for a in regions] == [
        (round(run.at_ns(w.start_s) / 1e6), round(run.at_ns(w.end_s) / 1e6)) for w in faults]
    assert all({"harness", "run:run-shop-1", "fault"} <= set(a["tags"]) for a in regions)
    notes = [a for a in posted if "note" in a["tags"]]
    assert [(a["time"], a["text"]) for a in notes] == [(round(n.t_ns / 1e6), n.text) for n in run.notes]
    assert not any(TOKEN in p.read_text(encoding="utf-8") for p in run_dir.iterdir() if p.is_file())


def test_a_refused_push_exits_3_with_one_line(run_dir: Path, otlp: str, harness_module_cli,  # noqa: ANN001
                                              tmp_path: Path) -> None:
    result = harness_module_cli("export", str(run_dir), "--out", str(tmp_path), "--grafana-url", otlp)
    assert result.returncode == 3
    count = len(json.loads((tmp_path / GRAFANA_FILE).read_text(encoding="utf-8")))
    assert result.stderr.strip() == (f"error: Grafana at {otlp}/api/annotations answered HTTP 404 Not Found "
                                     f"after 0 of {count} annotations: not found")


class _Metrics(SimpleHTTPRequestHandler):
    """Serves a directory; ``.prom`` files as Prometheus' text format."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".prom": "text/plain; version=0.0.4; charset=utf-8"}

    def log_message(self, *args) -> None:  # noqa: ANN002 (quiet)
        pass


@pytest.fixture(scope="module")
def prometheus(engine, run_dir: Path, harness_module_cli) -> Iterator[dict]:  # noqa: ANN001
    """Prometheus (host network, on 127.0.0.1) scraping metrics.prom every second from a file
    server of this process; yields its URL and the container."""
    assert harness_module_cli("export", str(run_dir)).returncode == 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Metrics, directory=str(run_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = _free_port()
    config = ("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n"
              f"  - job_name: harness\n    metrics_path: /{PROMETHEUS_FILE}\n"
              f"    static_configs: [{{targets: ['127.0.0.1:{server.server_address[1]}']}}]\n")
    container = engine.containers.create(
        PROMETHEUS_IMAGE, ["prometheus", "--config.file=/tmp/harness/prometheus.yml",
                           "--storage.tsdb.path=/tmp/harness/data", f"--web.listen-address=127.0.0.1:{port}"],
        network_mode="host", labels={"harness.run-id": RUN_ID})
    try:
        container.put_archive("/tmp", _tar({"harness/prometheus.yml": config,
                                            f"harness/{PROMETHEUS_FILE}": (run_dir / PROMETHEUS_FILE).read_text()}))
        container.start()
        _wait_http(f"http://127.0.0.1:{port}/-/ready")
        yield {"url": f"http://127.0.0.1:{port}", "container": container}
    finally:
        container.remove(force=True)
        server.shutdown()
        server.server_close()


def _tar(files: dict[str, str]) -> bytes:
    """A tar archive of ``{path: text}``, world-readable (Prometheus runs as its own user)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in sorted({str(Path(p).parent) for p in files}):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o777
            tar.addfile(info)
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _query(url: str, promql: str, deadline_s: float = 30) -> list[dict]:
    """The result of an instant query, once it is not empty (the first scrape takes a second)."""
    end = time.monotonic() + deadline_s
    while True:
        answer = requests.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5).json()
        assert answer["status"] == "success", answer
        if answer["data"]["result"] or time.monotonic() > end:
            return answer["data"]["result"]
        time.sleep(0.5)


def test_prometheus_scrapes_the_metrics_and_answers_with_the_reports_numbers(prometheus: dict,
                                                                              run_dir: Path) -> None:
    run = read_run(run_dir)
    result = _query(prometheus["url"], 'harness_window_p99_seconds{job="harness"}')
    got = {r["metric"]["window"]: float(r["value"][1]) for r in result}
    assert got == pytest.approx({w.name: w.metrics.p99_ms / 1000 for w in run.report.windows}, rel=1e-12)
    assert {r["metric"]["kind"] for r in result} == {"baseline", "fault", "recovery"}
    held = _query(prometheus["url"], "harness_expectation_held")
    assert {r["metric"]["expectation"]: r["value"][1] for r in held} == {
        e.name: "1" if e.held and not e.inconclusive else "0" for e in run.report.expectations}
    up = _query(prometheus["url"], 'up{job="harness"}')
    assert [r["value"][1] for r in up] == ["1"]


def test_promtool_lints_the_metrics_clean_and_would_flag_a_ms_name(prometheus: dict) -> None:
    container = prometheus["container"]
    code, output = container.exec_run(["sh", "-c", f"promtool check metrics < /tmp/harness/{PROMETHEUS_FILE}"])
    assert code == 0 and output.decode().strip() == "", output.decode()
    bad = "# HELP harness_window_p99_ms p99.\n# TYPE harness_window_p99_ms gauge\nharness_window_p99_ms 1\n"
    code, output = container.exec_run(["sh", "-c", f"printf '{bad}' | promtool check metrics"])
    assert code != 0 and "abbreviated units" in output.decode(), output.decode()
