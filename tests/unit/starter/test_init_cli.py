"""`harness init` end to end: a real compose file read by `docker compose config` (no engine
needed), the written scenario validated; and the one-line errors with exit 2."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import EnvironmentFailure
from harness.scenario import load_scenario

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILES = sorted(REPO.glob("targets/*/docker-compose.yml")) + [REPO / "docker-compose.yml"]


def _compose_found() -> bool:
    from harness.environment.compose import compose_command

    try:
        compose_command()
    except EnvironmentFailure:
        return False
    return True


needs_compose = pytest.mark.skipif(not _compose_found(), reason="compose v2 not found (`docker compose config` reads "
                                   "the file); run `make setup`")
runner = CliRunner()


@needs_compose
@pytest.mark.parametrize("compose", [p for p in COMPOSE_FILES if p.is_file()], ids=lambda p: str(p.relative_to(REPO)))
def test_init_on_a_sample_stack_writes_a_scenario_that_validates(compose, tmp_path):
    out = tmp_path / "starter.yaml"
    before = compose.read_bytes()
    result = runner.invoke(app, ["init", str(compose), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    scenario = load_scenario(out).scenario
    assert (out.parent / scenario.target.compose).resolve() == compose.resolve()
    assert scenario.load.host.startswith("http://")
    assert scenario.proxies, "every sample stack has at least one edge"
    assert {f.kind for f in scenario.faults} == {"latency", "kill"}
    assert compose.read_bytes() == before  # the user's file is never changed


@needs_compose
def test_init_on_nginx_httpbin_finds_nginx_and_the_httpbin_edge(tmp_path):
    compose = REPO / "targets" / "nginx-httpbin" / "docker-compose.yml"
    if not compose.is_file():
        pytest.skip("targets/nginx-httpbin is not in this tree")
    out = tmp_path / "starter.yaml"
    assert runner.invoke(app, ["init", str(compose), "--out", str(out)]).exit_code == 0
    scenario = load_scenario(out).scenario
    assert scenario.name == "nginx-httpbin-starter"
    assert scenario.load.host == "http://nginx:8080"
    assert [(p.name, p.upstream, p.listen) for p in scenario.proxies] == [("httpbin", "httpbin:8000", None)]
    assert [(f.kind, getattr(f, "proxy", None) or f.service) for f in scenario.faults] == [
        ("latency", "httpbin"), ("kill", "httpbin")]


@needs_compose
def test_compose_rejecting_the_file_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  a: [\n")
    out = tmp_path / "s.yaml"
    result = runner.invoke(app, ["init", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: compose rejects it")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_compose_file_is_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "nope.yml"), "--out", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.yml'}: no such compose file"
    assert not (tmp_path / "s.yaml").exists()


def test_existing_out_without_force_is_refused_and_kept(tmp_path):
    out = tmp_path / "s.yaml"
    out.write_text("mine\n")
    result = runner.invoke(app, ["init", str(REPO / "docker-compose.yml"), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {out}: already exists; pass --force to overwrite it"
    assert out.read_text() == "mine\n"


@needs_compose
def test_force_overwrites_an_existing_out(tmp_path):
    out = tmp_path / "s.yaml"
    out.write_text("mine\n")
    result = runner.invoke(app, ["init", str(REPO / "docker-compose.yml"), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert load_scenario(out).scenario.name == "harness-shop-starter"
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]  # no temporary file left behind


def test_help_teaches_an_example_and_the_default_out():
    result = runner.invoke(app, ["init", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "harness init docker-compose.yml --out" in result.stdout
    assert "harness-scenario.yaml" in result.stdout
