"""harness.starter.writer: the rendered starter scenario validates and says what was found."""

from pathlib import Path

import pytest
import yaml

from harness.scenario import load_scenario
from harness.starter.edges import sketch
from harness.starter.writer import render_scenario, scenario_name, toxiproxy_service

TWO_TIER = {
    "name": "demo",
    "services": {
        "web": {"image": "nginx:1.27", "ports": [{"target": 8080}], "depends_on": {"api": {}}},
        "api": {"image": "acme/api:1", "expose": ["8000"], "deploy": {"replicas": 2},
                "environment": {"DATABASE_URL": "postgres://u:p@db:5432/app", "REDIS_HOST": "redis"}},
        "db": {"image": "postgres:16"},
        "redis": {"image": "redis:7"},
    },
}

TINY_COMPOSE = "services:\n  web:\n    image: nginx:1.27\n"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "docker-compose.yml").write_text(TINY_COMPOSE)
    out = tmp_path / "scenario.yaml"
    out.write_text(text)
    return out


def test_two_tier_starter_validates_with_edges_faults_and_expectations(tmp_path):
    text = render_scenario(sketch(TWO_TIER), "stack/docker-compose.yml", "demo-starter")
    scenario = load_scenario(write(tmp_path, text)).scenario
    assert scenario.name == "demo-starter"
    assert scenario.target.compose == "stack/docker-compose.yml"
    assert scenario.target.profile is None
    assert scenario.load.host == "http://web:8080"
    assert [(p.name, p.upstream, p.listen) for p in scenario.proxies] == [
        ("api", "api:8000", None), ("db", "db:5432", None), ("redis", "redis:6379", None)]
    assert [(f.kind, f.name, f.at_s, f.duration_s) for f in scenario.faults] == [
        ("latency", "api-slow", 15, 15), ("kill", "api-killed", 40, 15)]
    assert scenario.faults[0].proxy == "api" and scenario.faults[0].latency_ms == 300
    assert scenario.faults[1].service == "api" and scenario.faults[1].count == 1
    windows = [e.window for e in scenario.expectations]
    assert windows == ["baseline", "fault:api-slow", "fault:api-slow", "fault:api-killed", "recovery:api-killed"]
    assert {e.metric for e in scenario.expectations} == {"error_rate", "p99_ms"}
    assert all(f.end_s <= scenario.load.duration_s for f in scenario.faults)


def test_every_section_has_a_comment_above_it():
    lines = render_scenario(sketch(TWO_TIER), "c.yml", "demo-starter").splitlines()
    for key in ("name:", "target:", "proxies:", "load:", "faults:", "expectations:"):
        i = lines.index(next(line for line in lines if line.startswith(key)))
        assert lines[i - 1].startswith("#"), key


def test_stack_without_edges_gets_a_kill_of_the_entry_service(tmp_path):
    cfg = {"services": {"web": {"image": "nginx", "ports": [{"target": 80}]}}}
    scenario = load_scenario(write(tmp_path, render_scenario(sketch(cfg), "stack/docker-compose.yml", "x"))).scenario
    assert scenario.proxies == []
    assert [(f.kind, f.service) for f in scenario.faults] == [("kill", "web")]
    assert scenario.load.host == "http://web:80"


def test_stack_without_any_port_still_validates_and_says_to_edit(tmp_path):
    cfg = {"services": {"job": {"image": "acme/batch"}}}
    text = render_scenario(sketch(cfg), "stack/docker-compose.yml", "x")
    scenario = load_scenario(write(tmp_path, text)).scenario
    assert scenario.faults == [] and "EDIT" in scenario.load.host
    assert "No service publishes or exposes a port" in text


def test_hand_wired_proxies_when_the_file_runs_its_own_toxiproxy(tmp_path):
    cfg = {"services": {
        "lb": {"image": "haproxy", "ports": [{"target": 8080}], "depends_on": {"api": {}}},
        "api": {"image": "acme/api", "environment": {"CATALOG_URL": "http://proxy:18080"}},
        "catalog": {"image": "acme/catalog", "expose": ["8080"]},
        "proxy": {"image": "ghcr.io/shopify/toxiproxy:2.12.0", "depends_on": {"catalog": {}}},
    }}
    scenario = load_scenario(write(tmp_path, render_scenario(sketch(cfg), "stack/docker-compose.yml", "x"))).scenario
    assert [(p.name, p.listen, p.upstream) for p in scenario.proxies] == [("catalog", "0.0.0.0:18080", "catalog:8080")]
    assert scenario.target.toxiproxy_service == "proxy"


def test_edges_next_to_a_service_named_toxiproxy_insert_under_another_name(tmp_path):
    cfg = {"services": {
        "web": {"image": "nginx", "ports": [{"target": 80}], "depends_on": {"db": {}}},
        "db": {"image": "postgres"},
        "toxiproxy": {"image": "acme/not-a-proxy"},
    }}
    found = sketch(cfg)
    assert toxiproxy_service(found) == "harness-toxiproxy"
    scenario = load_scenario(write(tmp_path, render_scenario(found, "stack/docker-compose.yml", "x"))).scenario
    assert scenario.target.toxiproxy_service == "harness-toxiproxy"


def test_skipped_edges_are_listed_as_comments():
    cfg = {"services": {
        "web": {"image": "nginx", "ports": [{"target": 80}],
                "environment": {"A": "http://one:8000", "B": "http://two:8000"}},
        "one": {"image": "acme/a"}, "two": {"image": "acme/b"},
    }}
    text = render_scenario(sketch(cfg), "c.yml", "x")
    assert "#   web -> two:8000: shares port 8000 with one:8000" in text
    assert [p["name"] for p in yaml.safe_load(text)["proxies"]] == ["one"]


@pytest.mark.parametrize(("project", "expected"), [("shop", "shop-starter"), ("My Stack!", "My-Stack-starter"),
                                                   ("", "dir-starter")])
def test_scenario_name_is_always_valid(project, expected):
    assert scenario_name(project, "dir") == expected


def test_odd_service_names_are_quoted_safely(tmp_path):
    cfg = {"services": {"web": {"image": "nginx", "ports": [{"target": 8080}], "depends_on": {"db.v2": {}}},
                        "db.v2": {"image": "postgres"}}}
    scenario = load_scenario(write(tmp_path, render_scenario(sketch(cfg), "stack/docker-compose.yml", "x"))).scenario
    assert scenario.proxies[0].upstream == "db.v2:5432"
