"""Bad input and a broken environment through the CLI: distinct exit codes, one clear line each,
nothing left running."""

import json
import subprocess
import textwrap

import pytest


def test_validate_reports_unknown_kind_and_negative_duration_with_lines(harness_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        name: bad
        proxies:
          - {name: catalog, listen: "0.0.0.0:18080", upstream: "catalog:8080"}
        load:
          host: http://lb:8080
          duration_s: 30
          requests: [{path: /}]
        faults:
          - kind: earthquake
            at_s: 1
            duration_s: 2
          - kind: latency
            proxy: catalog
            latency_ms: 10
            at_s: 5
            duration_s: -1
        """))
    proc = harness_cli("validate", str(bad))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith(f"{bad}:9:11: faults.0.kind: unknown kind 'earthquake'")
    assert lines[1].startswith(f"{bad}:16:17: faults.1.duration_s: Input should be greater than 0")
    assert "Traceback" not in proc.stderr


def test_run_with_invalid_scenario_exits_2_and_starts_nothing(harness_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nload: {host: 'http://lb:8080', duration_s: 5, requests: [{path: /}], userz: 3}\n")
    proc = harness_cli("run", str(bad), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "load.userz: unknown key 'userz'; did you mean 'users'?" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.integration
def test_environment_error_is_inconclusive_exit_3_and_cleans_up(docker_engine, harness_cli, tmp_path):
    compose = tmp_path / "compose.yml"
    compose.write_text(textwrap.dedent("""\
        services:
          broken:
            image: harness/shop:0.1
            command: ["python3", "-c", "import sys; sys.exit(3)"]
        """))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent("""\
        name: broken-stack
        target: {compose: compose.yml, healthy_timeout_s: 8}
        load: {host: 'http://127.0.0.1:9', duration_s: 5, requests: [{path: /}]}
        expectations: ["error_rate < 0.5"]
        """))
    proc = harness_cli("run", str(scenario), "--out", str(tmp_path / "out"), timeout=180)
    assert proc.returncode == 3, proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "error" and "not healthy" in report["error"]
    assert report["expectations"] == []  # an inconclusive run never reads as a pass
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=harness.run-id={report['run_id']}"],
                          capture_output=True, text=True).stdout.strip()
    assert left == ""


@pytest.mark.integration
def test_doctor_reports_every_prerequisite_ok(docker_engine, harness_cli):
    proc = harness_cli("doctor")
    assert proc.returncode == 0, proc.stdout
    names = [line.split()[1] for line in proc.stdout.strip().splitlines()]
    assert names == ["engine", "compose", "images", "toxiproxy", "disk"]


def test_a_scenario_that_judges_nothing_is_refused_with_its_line(harness_cli, tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text(textwrap.dedent("""\
        name: bare
        load:
          host: http://lb:8080
          duration_s: 30
          requests: [{path: /}]
        expectations: []
        """))
    for command in ("validate", "run"):
        proc = harness_cli(command, str(bare))
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"{bare}:6:1: expectations: a scenario judges at least one expectation (a run that judges nothing "
            "cannot pass); add expectations, or set mode: measure for a measurement run"]
    bare.write_text(bare.read_text() + "mode: measure\n")
    # validate also checks the compose project (target.compose defaults to docker-compose.yml here)
    (tmp_path / "docker-compose.yml").write_text("services:\n  lb:\n    image: harness/httpbin:0.1\n")
    assert harness_cli("validate", str(bare)).returncode == 0
