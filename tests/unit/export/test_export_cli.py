"""`harness export RUN_DIR`: the files always, pushes where asked, exit 0 / 2 / 3 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.export import GRAFANA_FILE, PROMETHEUS_FILE
from tests.unit.export.conftest import write_run

runner = CliRunner()


def _one_line(text: str, *needles: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_it_writes_both_files_next_to_the_report_and_says_where(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run_dir)], env={"OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"export: {run_dir / GRAFANA_FILE}", f"export: {run_dir / PROMETHEUS_FILE}"]
    assert json.loads((run_dir / GRAFANA_FILE).read_text(encoding="utf-8"))
    assert (run_dir / PROMETHEUS_FILE).read_text(encoding="utf-8").startswith("# HELP ")


def test_out_puts_them_elsewhere(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run_dir / "report.json"), "--out", str(tmp_path / "x" / "y")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "x" / "y").iterdir()) == [GRAFANA_FILE, PROMETHEUS_FILE]
    assert not (run_dir / GRAFANA_FILE).exists()


@pytest.mark.parametrize("content", [None, b"", b'{"run_id": "x"', b"[1, 2]"])
def test_missing_or_damaged_report_exits_2_with_one_line_naming_it(tmp_path: Path, content: bytes | None) -> None:
    if content is not None:
        (tmp_path / "report.json").write_bytes(content)
    result = runner.invoke(app, ["export", str(tmp_path)])
    assert result.exit_code == 2
    _one_line(result.output, f"error: {tmp_path / 'report.json'}")
    assert not (tmp_path / GRAFANA_FILE).exists()


def test_an_unwritable_out_exits_2(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run")
    (tmp_path / "file").write_text("x")
    result = runner.invoke(app, ["export", str(run_dir), "--out", str(tmp_path / "file")])
    assert result.exit_code == 2
    _one_line(result.output, "cannot write report files")


@pytest.mark.parametrize("args", [["--grafana-url", "ftp://grafana"], ["--otlp-endpoint", "not a url"],
                                  ["--grafana-token-env", "TOKEN_X"],
                                  ["--grafana-url", "http://g", "--grafana-token-env", "UNSET_TOKEN_VAR"]])
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args: list[str]) -> None:
    run_dir = write_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run_dir), *args], env={"UNSET_TOKEN_VAR": ""})
    assert result.exit_code == 2
    _one_line(result.output, "error: ")


def test_grafana_push_uses_the_token_from_the_environment_and_never_writes_it(tmp_path: Path, receiver) -> None:  # noqa: ANN001
    run_dir = write_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run_dir), "--grafana-url", receiver.url,
                                 "--grafana-token-env", "MY_GRAFANA_TOKEN"], env={"MY_GRAFANA_TOKEN": "tok-123"})
    assert result.exit_code == 0, result.output
    posted = json.loads((run_dir / GRAFANA_FILE).read_text(encoding="utf-8"))
    assert [json.loads(r.body) for r in receiver.received] == posted
    assert {r.headers["authorization"] for r in receiver.received} == {"Bearer tok-123"}
    assert f"grafana: {len(posted)} annotations pushed to {receiver.url}" in result.stdout
    assert not any("tok-123" in p.read_text(encoding="utf-8") for p in run_dir.iterdir())


def test_the_standard_otlp_variable_sends_the_spans(tmp_path: Path, receiver) -> None:  # noqa: ANN001
    run_dir = write_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run_dir)], env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url})
    assert result.exit_code == 0, result.output
    assert [r.path for r in receiver.received] == ["/v1/traces"]
    assert f"otlp: 6 spans sent to {receiver.url}/v1/traces" in result.stdout


def test_a_failed_push_exits_3_with_one_line_and_the_files_are_written(tmp_path: Path, receiver) -> None:  # noqa: ANN001
    receiver.status = 500
    run_dir = write_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run_dir), "--grafana-url", receiver.url])
    assert result.exit_code == 3
    _one_line(result.stderr, f"error: Grafana at {receiver.url}/api/annotations answered HTTP 500")
    assert (run_dir / GRAFANA_FILE).is_file() and (run_dir / PROMETHEUS_FILE).is_file()
