"""Faults that act from the Docker host say, before a run, what this host lacks for them."""

from pathlib import Path

import pytest

from harness.environment.engine import EngineConfigError
from harness.faults.host_needs import LOCAL_ONLY_WHY, _cgroup_v1, host_problems, missing_needs
from harness.scenario.models import Scenario

SCENARIO = {
    "name": "needs",
    "proxies": [{"name": "db", "upstream": "db:5432"}],
    "load": {"host": "http://web:8080", "duration_s": 60, "requests": [{"path": "/"}]},
    "faults": [
        {"kind": "latency", "proxy": "db", "latency_ms": 100, "at_s": 1, "duration_s": 5},
        {"kind": "partition", "services_a": ["web"], "services_b": ["db"], "at_s": 10, "duration_s": 5},
        {"kind": "oom", "service": "web", "at_s": 20, "duration_s": 5},
        {"kind": "kill", "service": "web", "at_s": 30, "duration_s": 5},
    ],
    "expectations": ["error_rate < 0.01"],
}


def faults():
    return Scenario.model_validate(SCENARIO).faults


def test_a_root_host_with_the_tools_and_cgroup_v1_lacks_nothing():
    assert host_problems(faults(), euid=0, docker_host="", which=lambda t: f"/usr/bin/{t}",
                         cgroup_v1=lambda: True) == []


def test_without_root_the_host_side_kinds_are_named_and_the_api_kinds_are_not():
    problems = host_problems(faults(), euid=1000, docker_host="", which=lambda t: f"/usr/bin/{t}",
                             cgroup_v1=lambda: True)
    assert [i for i, _ in problems] == [1, 2]  # partition and oom; latency and kill go through APIs
    assert "kind 'partition'" in problems[0][1] and "root on the Docker host" in problems[0][1]


def test_a_local_engine_a_missing_tool_and_cgroup_v2_are_each_named_with_the_fix():
    missing = missing_needs(("netns", "cgroup_v1"), euid=0, docker_host="unix:///var/run/docker.sock",
                            which=lambda t: None if t == "iptables" else "/x", cgroup_v1=lambda: False)
    assert len(missing) == 2, missing
    assert "apt-get install iptables" in missing[0]
    assert "cgroup v2 host" in missing[1]


def test_on_a_remote_engine_the_iptables_kinds_need_nothing_here():
    # no root, no nsenter, no iptables on this machine: the helper container on the engine does it
    for host in ("tcp://10.0.0.5:2375", "ssh://ops@far"):
        assert missing_needs(("netns",), euid=1000, docker_host=host, which=lambda t: None,
                             cgroup_v1=lambda: False) == []
    problems = host_problems(faults(), euid=1000, docker_host="tcp://10.0.0.5:2375", which=lambda t: None,
                             cgroup_v1=lambda: False)
    assert [i for i, _ in problems] == [2]  # only oom: partition goes through the helper container


def test_on_a_remote_engine_each_resource_kind_says_it_needs_a_local_engine_and_why():
    for kind, why in LOCAL_ONLY_WHY.items():
        missing = missing_needs(("root", "local_engine", "cgroup_v1"), euid=0, docker_host="ssh://ops@far",
                                which=lambda t: "/x", cgroup_v1=lambda: False, kind=kind)
        assert len(missing) == 1, missing  # this machine's root and cgroups are beside the point
        assert missing[0].startswith("a local Docker engine: " + why), missing
        assert "ssh://ops@far (DOCKER_HOST) is on another machine" in missing[0]
    problem = host_problems(faults(), euid=0, docker_host="ssh://ops@far", which=lambda t: "/x",
                            cgroup_v1=lambda: True)
    assert problem == [(2, "kind 'oom' acts from the Docker host and needs a local Docker engine: "
                        + LOCAL_ONLY_WHY["oom"] + ", and the engine ssh://ops@far (DOCKER_HOST) is on another "
                        "machine (run the harness on the engine's host, or drop this fault)")]
    assert "\n" not in problem[0][1]


def test_every_resource_kind_has_its_reason_and_every_iptables_kind_uses_the_netns_need():
    from harness.scenario.faults import fault_spec_types

    needs = {spec.model_fields["kind"].default: spec.host_needs for spec in fault_spec_types()}
    assert {k for k, n in needs.items() if "local_engine" in n} == set(LOCAL_ONLY_WHY)
    assert {k for k, n in needs.items() if "netns" in n} == {"dns", "firewall", "node_loss", "partition"}


def test_the_engine_comes_from_a_docker_context_when_docker_host_is_unset(tmp_path, monkeypatch):
    import hashlib
    import json

    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"far").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "far", "Endpoints": {"docker": {"Host": "ssh://ops@far"}}}))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DOCKER_CONTEXT", "far")
    problems = host_problems(faults(), euid=0, which=lambda t: "/x", cgroup_v1=lambda: True)
    assert [i for i, _ in problems] == [2] and "docker context 'far'" in problems[0][1]


def test_a_bad_docker_host_is_one_line_naming_it():
    with pytest.raises(EngineConfigError, match=r"^DOCKER_HOST='10.0.0.5:2375': no scheme"):
        host_problems(faults(), euid=0, docker_host="10.0.0.5:2375")


def test_cgroup_v1_is_read_from_mountinfo(tmp_path: Path):
    v1 = tmp_path / "v1"
    v1.write_text("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                  "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                  "36 31 0:33 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n")
    v2 = tmp_path / "v2"
    v2.write_text("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")
    assert _cgroup_v1(v1) is True and _cgroup_v1(v2) is False and _cgroup_v1(tmp_path / "none") is False
