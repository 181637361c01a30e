"""Scenario models: defaults, cross-field rules, expectation forms."""

import pytest
from pydantic import ValidationError

from harness.scenario.models import Scenario, Threshold

BASE = {
    "name": "demo",
    "proxies": [{"name": "catalog", "listen": "0.0.0.0:18080", "upstream": "catalog:8080"}],
    "load": {"host": "http://lb:8080", "duration_s": 60, "requests": [{"path": "/products/1"}]},
    "expectations": ["error_rate < 0.01"],
}


def scenario(**extra):
    return Scenario.model_validate({**BASE, **extra})


def test_faults_get_default_names_in_order():
    s = scenario(faults=[
        {"kind": "latency", "proxy": "catalog", "latency_ms": 100, "at_s": 30, "duration_s": 5},
        {"kind": "kill", "service": "api", "at_s": 5, "duration_s": 5},
    ])
    assert [f.name for f in s.faults] == ["latency-1", "kill-2"]
    assert [f.name for f in s.fault_specs] == ["kill-2", "latency-1"]


def test_latency_spec_keeps_units_and_defaults():
    s = scenario(faults=[{"kind": "latency", "proxy": "catalog", "latency_ms": 250, "at_s": 1, "duration_s": 2}])
    fault = s.faults[0]
    assert (fault.latency_ms, fault.jitter_ms, fault.stream, fault.toxicity) == (250, 0, "downstream", 1.0)


def test_unknown_proxy_is_rejected():
    with pytest.raises(ValidationError, match="unknown proxy 'nope'"):
        scenario(faults=[{"kind": "latency", "proxy": "nope", "latency_ms": 1, "at_s": 1, "duration_s": 1}])


def test_overlapping_faults_are_allowed():
    s = scenario(faults=[
        {"kind": "kill", "service": "api", "at_s": 5, "duration_s": 10},
        {"kind": "kill", "service": "api", "at_s": 10, "duration_s": 5},
    ])
    assert len(s.faults) == 2


def test_intermittent_fault_occurrences_and_rules():
    s = scenario(faults=[{"kind": "kill", "service": "api", "at_s": 5, "duration_s": 2, "every_s": 10,
                          "until_s": 30}])
    assert s.faults[0].occurrences() == [(5, 7), (15, 17), (25, 27)]
    assert s.faults[0].end_s == 27
    with pytest.raises(ValidationError, match="every_s and until_s go together"):
        scenario(faults=[{"kind": "kill", "service": "api", "at_s": 5, "duration_s": 2, "every_s": 10}])
    with pytest.raises(ValidationError, match="must be longer than duration_s"):
        scenario(faults=[{"kind": "kill", "service": "api", "at_s": 5, "duration_s": 2, "every_s": 2,
                          "until_s": 9}])
    with pytest.raises(ValidationError, match="after the load ends"):
        scenario(faults=[{"kind": "kill", "service": "api", "at_s": 5, "duration_s": 8, "every_s": 10,
                          "until_s": 59}])  # last occurrence 55..63 s, the load ends at 60 s


def test_fault_past_load_end_is_rejected():
    with pytest.raises(ValidationError, match="after the load ends at 60 s"):
        scenario(faults=[{"kind": "kill", "service": "api", "at_s": 50, "duration_s": 20}])


def test_kill_count_and_percent_are_exclusive_and_percent_rounds_up():
    with pytest.raises(ValidationError, match="either count or percent"):
        scenario(faults=[{"kind": "kill", "service": "api", "count": 1, "percent": 50, "at_s": 1, "duration_s": 1}])
    s = scenario(faults=[{"kind": "kill", "service": "api", "percent": 50, "at_s": 1, "duration_s": 1}])
    assert s.faults[0].victims_wanted(3) == 2
    assert s.faults[0].victims_wanted(1) == 1


def test_threshold_dict_and_text_forms_agree():
    a = Threshold.model_validate({"window": "fault", "metric": "p99_ms", "<": 800})
    b = Threshold.model_validate("p99_ms < 800 in fault")
    assert (a.window, a.metric, a.operator, a.limit) == (b.window, b.metric, b.operator, b.limit) == ("fault", "p99_ms", "<", 800)
    assert Threshold.model_validate("error_rate <= 0.01").window == "run"


def test_threshold_needs_exactly_one_operator():
    with pytest.raises(ValidationError, match="exactly one operator"):
        Threshold.model_validate({"metric": "p99_ms", "<": 1, ">": 0})
    with pytest.raises(ValidationError, match="exactly one operator"):
        Threshold.model_validate({"metric": "p99_ms"})


def test_expectation_window_must_exist():
    with pytest.raises(ValidationError, match="unknown window 'fault:ghost'"):
        scenario(expectations=[{"window": "fault:ghost", "metric": "p99_ms", "<": 1}])
    s = scenario(
        faults=[{"name": "slow", "kind": "latency", "proxy": "catalog", "latency_ms": 1, "at_s": 1, "duration_s": 1}],
        expectations=[{"window": "recovery:slow", "metric": "error_rate", "<": 0.1}],
    )
    assert s.expectations[0].label == "error_rate < 0.1 in recovery:slow"


def test_load_needs_mix_or_locustfile_not_both():
    with pytest.raises(ValidationError, match="exactly one"):
        Scenario.model_validate({**BASE, "load": {"host": "http://x", "duration_s": 1}})
    with pytest.raises(ValidationError, match="exactly one"):
        Scenario.model_validate({**BASE, "load": {"host": "http://x", "duration_s": 1, "locustfile": "l.py",
                                                  "requests": [{"path": "/"}]}})


def test_duplicate_fault_names_point_at_the_second_one():
    with pytest.raises(ValidationError) as info:
        scenario(faults=[
            {"name": "x", "kind": "kill", "service": "api", "at_s": 1, "duration_s": 1},
            {"name": "x", "kind": "kill", "service": "api", "at_s": 5, "duration_s": 1},
        ])
    assert "faults.1.name: fault name 'x' is used twice" in str(info.value)


def _locustfile_scenario(tmp_path, locustfile: str) -> Scenario:
    """A scenario file at ``tmp_path/scenarios/s.yaml`` whose load runs ``locustfile``."""
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    load = {"host": "http://lb:8080", "duration_s": 60, "locustfile": locustfile}
    return Scenario.model_validate({**BASE, "load": load, "source_path": tmp_path / "scenarios" / "s.yaml"})


def test_a_locustfile_in_a_sibling_directory_validates(tmp_path, monkeypatch):
    (tmp_path / "locust").mkdir()
    (tmp_path / "locust" / "x.py").write_text("from locust import HttpUser\n")
    monkeypatch.chdir(tmp_path / "locust")  # the working directory plays no part
    s = _locustfile_scenario(tmp_path, "../locust/x.py")
    assert (s.base_dir / s.load.locustfile).resolve() == (tmp_path / "locust" / "x.py").resolve()


def test_a_missing_locustfile_is_an_error_naming_load_locustfile(tmp_path):
    (tmp_path / "locust").mkdir()
    with pytest.raises(ValidationError) as info:
        _locustfile_scenario(tmp_path, "../locust/nope.py")
    missing = (tmp_path / "locust" / "nope.py").resolve()
    assert f"load.locustfile: no such file: {missing}" in str(info.value)
    with pytest.raises(ValidationError, match="load.locustfile: no such file"):
        _locustfile_scenario(tmp_path, "../locust")  # a directory is not a locustfile


def test_the_loader_resolves_a_locustfile_against_the_scenario_file_not_the_working_directory(tmp_path, monkeypatch):
    from harness.errors import ScenarioError
    from harness.scenario import load_scenario

    (tmp_path / "scenarios").mkdir()
    (tmp_path / "locust").mkdir()
    (tmp_path / "locust" / "x.py").write_text("from locust import HttpUser\n")
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text("name: demo\nproxies:\n  - {name: catalog, listen: \"0.0.0.0:18080\", upstream: \"catalog:8080\"}\n"
                    "load:\n  host: http://lb:8080\n  duration_s: 60\n  locustfile: ../locust/x.py\n"
                    "expectations: [\"error_rate < 0.01\"]\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_scenario(path).scenario.load.locustfile == "../locust/x.py"
    path.write_text(path.read_text().replace("x.py", "y.py"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (line,) = info.value.problems
    assert "load.locustfile" in line and "no such file" in line and str(tmp_path / "locust" / "y.py") in line


def test_an_edge_proxy_needs_no_listen_and_listens_on_its_upstream_port():
    s = scenario(proxies=[{"name": "db", "upstream": "postgres:5432"}])
    proxy = s.proxies[0]
    assert proxy.is_edge and proxy.listen_address == "0.0.0.0:5432"
    assert (proxy.upstream_host, proxy.upstream_port) == ("postgres", 5432)


def test_two_edges_on_one_port_but_different_hosts_are_refused():
    with pytest.raises(ValidationError, match="share port 8000"):
        scenario(proxies=[{"name": "a", "upstream": "a:8000"}, {"name": "b", "upstream": "b:8000"}])
    with pytest.raises(ValidationError, match="is already proxy 'a'"):
        scenario(proxies=[{"name": "a", "upstream": "a:8000"}, {"name": "a2", "upstream": "a:8000"}])
    ok = scenario(proxies=[{"name": "a", "upstream": "a:8000"}, {"name": "b", "upstream": "b:8001"}])
    assert [p.listen_address for p in ok.proxies] == ["0.0.0.0:8000", "0.0.0.0:8001"]


def test_an_edge_on_toxiproxys_api_port_is_refused():
    with pytest.raises(ValidationError, match="Toxiproxy's API port"):
        scenario(proxies=[{"name": "a", "upstream": "a:8474"}])
