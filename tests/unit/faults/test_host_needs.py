"""Faults that act from the Docker host say, before a run, what this host lacks for them."""

from pathlib import Path

from harness.faults.host_needs import _cgroup_v1, host_problems, missing_needs
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


def test_a_remote_engine_a_missing_tool_and_cgroup_v2_are_each_named_with_the_fix():
    missing = missing_needs(("root", "local_engine", "nsenter", "iptables", "cgroup_v1"), euid=0,
                            docker_host="ssh://ops@far", which=lambda t: None if t == "iptables" else "/x",
                            cgroup_v1=lambda: False)
    assert len(missing) == 3
    assert "DOCKER_HOST=ssh://ops@far" in missing[0]
    assert "apt-get install iptables" in missing[1]
    assert "cgroup v2 host" in missing[2]


def test_cgroup_v1_is_read_from_mountinfo(tmp_path: Path):
    v1 = tmp_path / "v1"
    v1.write_text("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                  "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                  "36 31 0:33 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n")
    v2 = tmp_path / "v2"
    v2.write_text("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")
    assert _cgroup_v1(v1) is True and _cgroup_v1(v2) is False and _cgroup_v1(tmp_path / "none") is False
