"""Verdicts are evidence, on real Docker, Toxiproxy and Locust: a fault on a proxy that no request
crosses leaves every check unheld (the run inconclusive, exit 5), each verdict naming the missing
evidence; the same fault moved onto the path the api really dials is seen to act."""

import json
import subprocess

import pytest

pytestmark = pytest.mark.integration

SCENARIO = "tests/integration/fault_misses_traffic.yaml"


def leftovers(run_id: str) -> str:
    return "".join(subprocess.run(["docker", *kind.split(), "--filter", f"label=harness.run-id={run_id}"],
                                  capture_output=True, text=True, timeout=30).stdout.strip()
                   for kind in ("ps -aq", "network ls -q"))


def test_a_fault_that_crosses_no_request_holds_nothing(docker_engine, harness_cli, tmp_path):
    proc = harness_cli("run", SCENARIO, "--out", str(tmp_path / "ghost"))
    report = json.loads((tmp_path / "ghost" / "report.json").read_text())
    assert proc.returncode == 5, proc.stderr[-3000:]
    assert report["status"] == "inconclusive"
    effect = report["fault_effects"][0]
    assert effect["acted"] is False and "no request went through" in effect["evidence"], effect
    assert len(report["expectations"]) == 13
    held = [e["name"] for e in report["expectations"] if e["held"]]
    assert held == []
    for e in report["expectations"]:
        assert e["inconclusive"], e
        assert "proxy ghost" in e["explanation"] or "no fault window whose fault acted" in e["explanation"], e
    assert report["load"]["recorded"] > 500  # the load ran, and found the shop healthy
    assert "never took effect" in proc.stderr
    assert leftovers(report["run_id"]) == ""


def test_the_same_fault_on_the_dialled_proxy_is_seen_to_act(docker_engine, harness_cli, tmp_path):
    proc = harness_cli("run", SCENARIO, "--out", str(tmp_path / "real"), "--set", "faults.0.proxy=catalog",
                       "--set", "load.duration_s=22")
    report = json.loads((tmp_path / "real" / "report.json").read_text())
    effect = report["fault_effects"][0]
    assert effect["acted"] is True and "proxy catalog accepted" in effect["evidence"], (effect, proc.stderr[-2000:])
    by_name = {e["name"]: e for e in report["expectations"]}
    assert by_name["product p99 bounded"]["held"], by_name["product p99 bounded"]
    assert by_name["timeouts bound latency"]["held"], by_name["timeouts bound latency"]
    # Checks whose pattern has nothing to do with a slow catalog do not hold for free either.
    for name in ("traffic fails over", "excess is shed"):
        assert not by_name[name]["held"], by_name[name]
    assert leftovers(report["run_id"]) == ""
