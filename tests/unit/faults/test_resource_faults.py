"""Resource faults without Docker: spec validation, the cgroup v1 parsing, the helper process (run
for real against fake ``cgroup.procs`` files), the disk fill (on a temporary directory), the
open-files limit (on a child process of the test) and the inject/revert bookkeeping against fake
cgroup directories (fakes at the edges: the Stack, its containers and the cgroup file system)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import TypeAdapter, ValidationError

from harness.errors import EnvironmentFailure
from harness.faults import FaultContext, fault_for
from harness.faults import _cgroup
from harness.faults import cpu as cpu_module
from harness.faults import disk_full as disk_module
from harness.faults import fd_limit as fd_module
from harness.faults import memory_leak as leak_module
from harness.faults import oom as oom_module
from harness.scenario.faults.describe import describe_kinds
from harness.scenario.models import FaultEntry

KINDS = {
    "oom": {"service": "api"},
    "memory_leak": {"service": "api"},
    "cpu": {"service": "api"},
    "disk_full": {"service": "redis", "path": "/var/lib/redis"},
    "fd_limit": {"service": "api"},
}
MIB = 2**20


def spec(**fields):
    return TypeAdapter(FaultEntry).validate_python({"name": "f", "at_s": 0, "duration_s": 5, **fields})


class FakeContainer:
    def __init__(self, name: str, pid: int, cid: str = "c0ffee" * 10, status: str = "running", oom: bool = False):
        self.name, self.id = name, cid
        self.attrs = {"State": {"Pid": pid, "Status": status, "OOMKilled": oom, "ExitCode": 137 if oom else 0}}


class FakeStack:
    """The Stack methods the resource faults use: running_containers, container, start."""

    def __init__(self, containers: list[FakeContainer]):
        self.containers = {c.name: c for c in containers}
        self.started: list[str] = []

    def running_containers(self, service: str) -> list[str]:
        return [n for n, c in self.containers.items() if c.attrs["State"]["Status"] == "running"]

    def container(self, name: str) -> FakeContainer:
        return self.containers[name]

    def start(self, name: str) -> bool:
        state = self.containers[name].attrs["State"]
        if state["Status"] == "running":
            return False
        state["Status"] = "running"
        self.started.append(name)
        return True


def make(fields: dict, stack: FakeStack):
    s = spec(**fields)
    return fault_for(s)(s, FaultContext(toxiproxy=None, containers=stack, rng=random.Random(1)))  # type: ignore[arg-type]


@pytest.fixture
def sleeper():
    """A child process that sleeps (a stand-in for a container's PID 1); killed afterwards."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait(timeout=5)


# -- specs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_documents_its_failure_and_parameters(kind):
    s = spec(kind=kind, **KINDS[kind])
    assert type(s).summary and type(s).seed_section.startswith("00")
    for name, field in type(s).model_fields.items():
        if name not in ("kind", "name", "at_s", "duration_s", "every_s", "until_s"):
            assert field.description, f"{kind}.{name} has no description"
    assert s.service_refs() == [KINDS[kind]["service"]]
    assert kind in {k["kind"] for k in describe_kinds()}


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_parameters_and_a_missing_service_are_rejected(kind):
    with pytest.raises(ValidationError, match="Extra inputs"):
        spec(kind=kind, **KINDS[kind], size_mb=3)
    with pytest.raises(ValidationError):
        spec(kind=kind, **{k: v for k, v in KINDS[kind].items() if k != "service"})


def test_oom_defaults_and_bounds():
    s = spec(kind="oom", service="api")
    assert (s.limit_mib, s.kill_timeout_s) == (128, 20)
    for bad in ({"limit_mib": 15}, {"limit_mib": 65_537}, {"kill_timeout_s": 0.5}, {"kill_timeout_s": 301}):
        with pytest.raises(ValidationError):
            spec(kind="oom", service="api", **bad)


def test_memory_leak_defaults_and_bounds():
    s = spec(kind="memory_leak", service="api")
    assert (s.rate_mib_s, s.limit_mib) == (10, 256)
    for bad in ({"rate_mib_s": 0}, {"rate_mib_s": 2000}, {"limit_mib": 0}, {"limit_mib": 70_000}):
        with pytest.raises(ValidationError):
            spec(kind="memory_leak", service="api", **bad)


def test_cpu_defaults_bounds_and_throttle_quota():
    s = spec(kind="cpu", service="api")
    assert (s.mode, s.cores, s.cpu_percent, s.period_us) == ("load", 1, 100, 100_000)
    assert spec(kind="cpu", service="api", mode="throttle", cores=2, cpu_percent=25).quota_us() == 50_000
    assert spec(kind="cpu", service="api", mode="throttle", cpu_percent=0.1).quota_us() == 1000  # kernel minimum
    for bad in ({"cores": 0}, {"cores": 65}, {"cpu_percent": 0}, {"cpu_percent": 101}, {"mode": "spin"},
                {"period_us": 999}, {"period_us": 1_000_001}):
        with pytest.raises(ValidationError):
            spec(kind="cpu", service="api", **bad)


@pytest.mark.parametrize("path", ["var/lib/redis", "/var/../etc", "/var/./lib", "/a\0b"])
def test_disk_full_path_must_be_absolute_and_clean(path):
    with pytest.raises(ValidationError):
        spec(kind="disk_full", service="redis", path=path)


def test_disk_full_defaults_and_bounds():
    s = spec(kind="disk_full", service="redis", path="/var/lib/redis/")
    assert (s.path, s.leave_mib, s.max_fill_mib) == ("/var/lib/redis", 0, 1024)
    for bad in ({"leave_mib": -1}, {"max_fill_mib": 0}):
        with pytest.raises(ValidationError):
            spec(kind="disk_full", service="redis", path="/data", **bad)


def test_fd_limit_takes_spare_fds_or_max_open_files_and_a_valid_regex():
    s = spec(kind="fd_limit", service="api")
    assert (s.spare_fds, s.max_open_files, s.process) == (None, None, None)
    assert s.limit_for(7) == 7  # default: exhausted
    assert spec(kind="fd_limit", service="api", spare_fds=3).limit_for(7) == 10
    assert spec(kind="fd_limit", service="api", max_open_files=64).limit_for(7) == 64
    assert spec(kind="fd_limit", service="api").limit_for(0) == 1
    with pytest.raises(ValidationError, match="either spare_fds or max_open_files"):
        spec(kind="fd_limit", service="api", spare_fds=1, max_open_files=10)
    with pytest.raises(ValidationError, match="regular expression"):
        spec(kind="fd_limit", service="api", process="shop(")
    with pytest.raises(ValidationError):
        spec(kind="fd_limit", service="api", max_open_files=0)


# -- cgroup v1 paths --------------------------------------------------------------------------------

CID = "f884c0d21f5e8835cb8569ebde31501a97c844fa33a65035df5d88b74b77ce55"
PROC_CGROUP = f"""9:name=systemd:/docker/{CID}
4:memory:/docker/{CID}
2:cpu,cpuacct:/docker/{CID}
3:cpuset:/docker/{CID}
0::/docker/{CID}
"""
MOUNTINFO = """24 30 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755
30 24 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
31 24 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
32 24 0:28 / /sys/fs/cgroup/cpuset rw,relatime shared:11 - cgroup cgroup rw,cpuset,clone_children
33 24 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
34 24 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_proc_cgroup_and_mountinfo_are_parsed_per_controller():
    assert _cgroup.parse_proc_cgroup(PROC_CGROUP) == {
        "memory": f"/docker/{CID}", "cpu": f"/docker/{CID}", "cpuacct": f"/docker/{CID}", "cpuset": f"/docker/{CID}"}
    mounts = _cgroup.parse_mountinfo(MOUNTINFO)
    assert mounts["memory"] == "/sys/fs/cgroup/memory"
    assert mounts["cpu"] == mounts["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct"
    assert "systemd" not in mounts and "name=systemd" not in mounts


def _fake_cgroupfs(monkeypatch, tmp_path: Path, proc_cgroup: str = PROC_CGROUP) -> Path:
    root = tmp_path / "cgroup"
    info = MOUNTINFO.replace("/sys/fs/cgroup", str(root))
    for controller in ("memory", "cpu,cpuacct", "cpuset"):
        (root / controller / "docker" / CID).mkdir(parents=True)
    real_read = _cgroup._read

    def fake_read(path):
        if str(path) == "/proc/self/mountinfo":
            return info
        if str(path).startswith("/proc/") and str(path).endswith("/cgroup"):
            return proc_cgroup
        return real_read(path)

    monkeypatch.setattr(_cgroup, "_read", fake_read)
    return root


def test_container_cgroup_dirs_resolves_each_controller(monkeypatch, tmp_path):
    root = _fake_cgroupfs(monkeypatch, tmp_path)
    dirs = _cgroup.container_cgroup_dirs(123, CID, ["cpu", "cpuacct"], optional=("cpuset", "blkio"))
    assert dirs == {"cpu": root / "cpu,cpuacct" / "docker" / CID, "cpuacct": root / "cpu,cpuacct" / "docker" / CID,
                    "cpuset": root / "cpuset" / "docker" / CID}


def test_container_cgroup_dirs_refuses_a_process_of_another_container(monkeypatch, tmp_path):
    _fake_cgroupfs(monkeypatch, tmp_path)
    with pytest.raises(EnvironmentFailure, match="not container"):
        _cgroup.container_cgroup_dirs(123, "0123456789ab" * 5, ["memory"])
    with pytest.raises(EnvironmentFailure, match="not found"):
        _cgroup.container_cgroup_dirs(123, CID, ["blkio"])


def test_process_start_time_tells_a_process_from_its_successor(sleeper):
    start = _cgroup.process_start_time(sleeper.pid)
    assert isinstance(start, int) and start > 0
    assert _cgroup.process_start_time(sleeper.pid) == start
    sleeper.kill()
    sleeper.wait(timeout=5)
    assert _cgroup.process_start_time(sleeper.pid) is None


# -- helper processes -------------------------------------------------------------------------------


def test_cpu_helper_joins_its_procs_files_and_exits_with_the_watched_process(tmp_path, sleeper):
    procs = [tmp_path / "a.procs", tmp_path / "b.procs"]
    for p in procs:
        p.write_text("")
    helper = _cgroup.Helper.spawn(_cgroup.HelperConfig(mode="cpu", watch_pid=sleeper.pid,
                                                       procs_files=tuple(map(str, procs)), percent=20), "test helper")
    try:
        assert all(p.read_text() == str(helper.pid) for p in procs)
        assert helper.running()
        sleeper.kill()
        sleeper.wait(timeout=5)
        helper.proc.wait(timeout=5)  # it noticed the watched process exit
        assert helper.proc.returncode == 0
    finally:
        helper.stop()
    assert helper.stop() is False


def test_memory_helper_holds_its_memory_in_a_memfd_not_in_its_rss(tmp_path, sleeper):
    procs = tmp_path / "procs"
    procs.write_text("")
    helper = _cgroup.Helper.spawn(_cgroup.HelperConfig(mode="memory", watch_pid=sleeper.pid,
                                                       procs_files=(str(procs),), target_mib=24), "test helper")
    try:
        def memfd_size() -> int:
            for fd in os.listdir(f"/proc/{helper.pid}/fd"):
                if os.readlink(f"/proc/{helper.pid}/fd/{fd}").startswith("/memfd:harness-memory"):
                    return os.stat(f"/proc/{helper.pid}/fd/{fd}").st_size
            return 0

        deadline = time.monotonic() + 10
        while memfd_size() < 24 * MIB and time.monotonic() < deadline:
            time.sleep(0.05)
        assert memfd_size() == 24 * MIB
        assert _cgroup.memfd_bytes(helper.pid) == 24 * MIB  # what memory_leak reports as leaked_mib
        rss_kib = int(next(line for line in Path(f"/proc/{helper.pid}/status").read_text().splitlines()
                           if line.startswith("VmRSS")).split()[1])
        assert rss_kib < 24 * 1024 + 60 * 1024 - 20 * 1024  # the 24 MiB are not in its RSS (an interpreter is)
    finally:
        assert helper.stop() is True
    assert helper.proc.returncode == -9
    assert _cgroup.memfd_bytes(helper.pid) == 0  # gone: nothing held


def test_helper_that_cannot_join_fails_with_its_reason(tmp_path, sleeper):
    with pytest.raises(EnvironmentFailure, match="test helper failed: .*No such file or directory"):
        _cgroup.Helper.spawn(_cgroup.HelperConfig(mode="cpu", watch_pid=sleeper.pid,
                                                  procs_files=(str(tmp_path / "missing" / "procs"),)), "test helper")
    assert not _cgroup._LIVE


def test_helper_exits_when_the_harness_dies(tmp_path, sleeper):
    """A harness killed with SIGKILL (no revert, no atexit) leaves no helper behind."""
    pid_file, procs = tmp_path / "helper.pid", tmp_path / "procs"
    procs.write_text("")
    code = ("import sys, time\nfrom harness.faults._cgroup import Helper, HelperConfig\n"
            f"h = Helper.spawn(HelperConfig(mode='cpu', watch_pid={sleeper.pid}, procs_files=({str(procs)!r},), "
            "percent=5), 'h')\n"
            f"open({str(pid_file)!r}, 'w').write(str(h.pid))\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        helper_pid = int(pid_file.read_text())
    finally:
        parent.kill()
        parent.wait(timeout=5)
    deadline = time.monotonic() + 5
    while alive(helper_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(helper_pid)


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- oom / memory_leak / cpu bookkeeping on fake cgroups ---------------------------------------------


class FakeHelper:
    spawned: list["FakeHelper"] = []

    def __init__(self, config, what):
        self.config, self.what, self.stopped = config, what, False
        self.pid = 4242

    @classmethod
    def spawn(cls, config, what, timeout_s=0):
        helper = cls(config, what)
        cls.spawned.append(helper)
        return helper

    def stop(self):
        self.stopped = True
        return True


@pytest.fixture
def fake_cgroups(monkeypatch, tmp_path, sleeper):
    """A fake cgroup tree for the sleeper (standing in for a container's PID 1), fake helpers,
    and an ``oom_score_adj`` file per process under tmp_path."""
    root = _fake_cgroupfs(monkeypatch, tmp_path)
    memory = root / "memory" / "docker" / CID
    (memory / "memory.usage_in_bytes").write_text(str(30 * MIB))
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712")
    (memory / "memory.memsw.limit_in_bytes").write_text("9223372036854771712")
    cpu = root / "cpu,cpuacct" / "docker" / CID
    (cpu / "cpu.cfs_quota_us").write_text("-1")
    (cpu / "cpu.cfs_period_us").write_text("100000")
    adj = tmp_path / "oom_score_adj"
    adj.write_text("0")
    real_write, real_read = _cgroup.write_cgroup, _cgroup._read

    def redirect(path):
        return adj if str(path).endswith("/oom_score_adj") else path

    monkeypatch.setattr(_cgroup, "write_cgroup", lambda path, value: real_write(redirect(path), value))
    monkeypatch.setattr(_cgroup, "_read", lambda path: real_read(redirect(path)))
    for module in (oom_module, leak_module, cpu_module):
        monkeypatch.setattr(module, "Helper", FakeHelper)
    monkeypatch.setattr(oom_module, "write_cgroup", _cgroup.write_cgroup)
    monkeypatch.setattr(cpu_module, "write_cgroup", _cgroup.write_cgroup)
    FakeHelper.spawned = []
    stack = FakeStack([FakeContainer("shop-api-1", sleeper.pid, CID)])
    return SimpleNamespace(stack=stack, memory=memory, cpu=cpu, adj=adj)


def test_oom_lowers_the_limit_marks_pid1_and_waits_for_the_kill(fake_cgroups, monkeypatch):
    stack = fake_cgroups.stack
    fault = make({"kind": "oom", "service": "api", "limit_mib": 64, "kill_timeout_s": 1}, stack)
    state = stack.containers["shop-api-1"].attrs["State"]
    original_spawn = FakeHelper.spawn

    def spawn_and_kill(config, what, timeout_s=0):  # the kernel's part: the container dies, OOMKilled
        state.update(Status="exited", OOMKilled=True)
        return original_spawn(config, what)

    monkeypatch.setattr(FakeHelper, "spawn", spawn_and_kill)
    assert fault.inject() == ["shop-api-1", "shop-api-1:OOMKilled"]
    assert (fake_cgroups.memory / "memory.limit_in_bytes").read_text() == str(64 * MIB)
    assert (fake_cgroups.memory / "memory.memsw.limit_in_bytes").read_text() == str(64 * MIB)
    assert fake_cgroups.adj.read_text() == "1000"
    helper = FakeHelper.spawned[0]
    assert helper.config.mode == "memory" and helper.config.target_mib == 64 + 64
    assert helper.config.procs_files == (str(fake_cgroups.memory / "cgroup.procs"),)
    assert fault.revert() == ["shop-api-1"] and helper.stopped
    assert stack.started == ["shop-api-1"]
    assert fault.revert() == []


def test_oom_never_sets_a_limit_below_usage_and_reverts_a_kill_that_never_came(fake_cgroups):
    fault = make({"kind": "oom", "service": "api", "limit_mib": 16, "kill_timeout_s": 1}, fake_cgroups.stack)
    with pytest.raises(EnvironmentFailure, match="not OOM-killed within 1 s"):
        fault.inject()
    assert (fake_cgroups.memory / "memory.limit_in_bytes").read_text() == str(30 * MIB + 8 * MIB)
    assert fault.revert() == []  # still running: nothing to start, but limits and score restored
    assert (fake_cgroups.memory / "memory.limit_in_bytes").read_text() == "9223372036854771712"
    assert (fake_cgroups.memory / "memory.memsw.limit_in_bytes").read_text() == "9223372036854771712"
    assert fake_cgroups.adj.read_text() == "0"


def test_memory_leak_starts_a_growing_helper_and_revert_restarts_an_oom_killed_victim(fake_cgroups):
    stack = fake_cgroups.stack
    fault = make({"kind": "memory_leak", "service": "api", "rate_mib_s": 5, "limit_mib": 100}, stack)
    assert fault.inject() == ["shop-api-1"]
    helper = FakeHelper.spawned[0]
    assert (helper.config.mode, helper.config.rate_mib_s, helper.config.target_mib) == ("memory", 5, 100)
    assert fake_cgroups.adj.read_text() == "1000"
    stack.containers["shop-api-1"].attrs["State"].update(Status="exited", OOMKilled=True)
    assert fault.revert() == ["shop-api-1"] and helper.stopped
    assert stack.started == ["shop-api-1"]
    assert fake_cgroups.adj.read_text() == "0"
    assert fault.revert() == []


def test_cpu_load_spawns_one_helper_per_core_in_cpu_cgroups(fake_cgroups):
    fault = make({"kind": "cpu", "service": "api", "cores": 3, "cpu_percent": 40}, fake_cgroups.stack)
    assert fault.inject() == ["shop-api-1"]
    assert len(FakeHelper.spawned) == 3
    procs = FakeHelper.spawned[0].config.procs_files
    assert procs == (str(fake_cgroups.cpu / "cgroup.procs"),
                     str(fake_cgroups.cpu.parent.parent.parent / "cpuset" / "docker" / CID / "cgroup.procs"))
    assert {h.config.percent for h in FakeHelper.spawned} == {40}
    assert fault.revert() == ["shop-api-1"]
    assert all(h.stopped for h in FakeHelper.spawned)
    assert fault.revert() == []


def test_cpu_throttle_writes_the_quota_and_restores_it(fake_cgroups):
    fault = make({"kind": "cpu", "service": "api", "mode": "throttle", "cores": 1, "cpu_percent": 20,
                  "period_us": 50_000}, fake_cgroups.stack)
    assert fault.inject() == ["shop-api-1"]
    assert (fake_cgroups.cpu / "cpu.cfs_quota_us").read_text() == "10000"
    assert (fake_cgroups.cpu / "cpu.cfs_period_us").read_text() == "50000"
    assert fault.revert() == ["shop-api-1"]
    assert (fake_cgroups.cpu / "cpu.cfs_quota_us").read_text() == "-1"
    assert (fake_cgroups.cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert fault.revert() == []


def test_no_running_replica_is_an_environment_failure(fake_cgroups):
    fake_cgroups.stack.containers["shop-api-1"].attrs["State"]["Status"] = "exited"
    for kind in KINDS:
        fault = make({"kind": kind, **KINDS[kind]}, fake_cgroups.stack)
        with pytest.raises(EnvironmentFailure, match="no running container"):
            fault.inject()
        assert fault.revert() == []


# -- disk_full ------------------------------------------------------------------------------------


def test_open_dir_in_container_refuses_symlinks_and_files(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "file").write_text("x")
    fd = disk_module.open_dir_in_container(os.getpid(), str(tmp_path / "real"))
    os.close(fd)
    for bad in ("link", "file", "missing"):
        with pytest.raises(EnvironmentFailure, match=f"/{bad} in the container"):
            disk_module.open_dir_in_container(os.getpid(), str(tmp_path / bad))


def test_fill_allocates_what_is_asked(tmp_path):
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    try:
        assert disk_module.fill(fd, 3 * MIB + 5) == 3 * MIB + 5
    finally:
        os.close(fd)
    assert os.stat(tmp_path / "f").st_size == 3 * MIB + 5


def test_disk_full_fills_down_to_leave_mib_and_revert_removes_the_file(tmp_path):
    stack = FakeStack([FakeContainer("redis-1", os.getpid())])
    st = os.statvfs(tmp_path)
    free_mib = st.f_bavail * st.f_frsize / MIB
    fault = make({"kind": "disk_full", "service": "redis", "path": str(tmp_path), "leave_mib": free_mib - 2}, stack)
    assert fault.inject() == ["redis-1", f"redis-1:{tmp_path}"]  # the bare name first: analysis matches it
    files = list(tmp_path.glob(".harness-disk-full-f-*"))
    assert len(files) == 1 and files[0].stat().st_size <= 8 * MIB  # ~2 MiB (other writers change the free space)
    assert fault.revert() == [f"redis-1:{tmp_path}"]
    assert not files[0].exists()
    assert fault.revert() == []


def test_disk_full_refuses_to_write_more_than_max_fill_mib(tmp_path):
    stack = FakeStack([FakeContainer("redis-1", os.getpid())])
    fault = make({"kind": "disk_full", "service": "redis", "path": str(tmp_path), "max_fill_mib": 1}, stack)
    st = os.statvfs(tmp_path)
    if st.f_bavail * st.f_frsize < 2 * MIB:
        pytest.skip("the test file system is almost full")
    with pytest.raises(EnvironmentFailure, match="max_fill_mib=1"):
        fault.inject()
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert fault.revert() == []


# -- fd_limit -------------------------------------------------------------------------------------


def test_steady_fds_ignores_a_descriptor_open_for_a_moment():
    r, w = os.pipe()
    try:
        steady = fd_module.steady_fds(os.getpid(), samples=2, interval_s=0)
        assert {0, 1, 2, r, w} <= steady
    finally:
        os.close(r)
        os.close(w)
    assert fd_module.lowest_free_fd({0, 1, 2, 4}) == 3
    assert fd_module.lowest_free_fd(set()) == 0


def _soft_nofile(pid: int) -> int:
    line = next(x for x in Path(f"/proc/{pid}/limits").read_text().splitlines() if x.startswith("Max open files"))
    return int(line.split()[3])


def test_prlimit_nofile_reads_and_sets_the_soft_limit_only(sleeper):
    uid, gid = os.getuid(), os.getgid()
    before = fd_module.prlimit_nofile(sleeper.pid, uid, gid)
    assert before == str(_soft_nofile(sleeper.pid))
    assert fd_module.prlimit_nofile(sleeper.pid, uid, gid, "40") == before
    assert _soft_nofile(sleeper.pid) == 40
    fd_module.prlimit_nofile(sleeper.pid, uid, gid, before)
    assert str(_soft_nofile(sleeper.pid)) == before
    with pytest.raises(EnvironmentFailure, match="prlimit for pid"):
        fd_module.prlimit_nofile(2**22 + 7, uid, gid)


def test_fd_limit_lowers_each_matching_process_and_restores_it(monkeypatch, sleeper):
    stack = FakeStack([FakeContainer("shop-api-1", sleeper.pid, CID)])
    monkeypatch.setattr(fd_module, "container_cgroup_dirs", lambda pid, cid, controllers: {"memory": Path("/x")})
    monkeypatch.setattr(fd_module, "cgroup_pids", lambda path: [sleeper.pid])
    monkeypatch.setattr(fd_module, "_ids", lambda pid: (os.getuid(), os.getgid()))
    before = _soft_nofile(sleeper.pid)
    fault = make({"kind": "fd_limit", "service": "api", "spare_fds": 2, "process": "^sleep"}, stack)
    touched = fault.inject()
    limit = fd_module.lowest_free_fd(fd_module.steady_fds(sleeper.pid)) + 2
    assert touched == ["shop-api-1", f"shop-api-1:pid={sleeper.pid},nofile={limit}"]
    assert _soft_nofile(sleeper.pid) == limit
    assert fault.revert() == ["shop-api-1"]
    assert _soft_nofile(sleeper.pid) == before
    assert fault.revert() == []
    nobody = make({"kind": "fd_limit", "service": "api", "process": "^nginx"}, stack)
    with pytest.raises(EnvironmentFailure, match="no process of shop-api-1 matches"):
        nobody.inject()


# -- effect counters (what each kind measured of its effect, read right before revert) -------------


def test_cpu_stat_is_parsed_and_process_cpu_counts_what_a_process_burned():
    assert _cgroup.parse_cpu_stat("nr_periods 50\nnr_throttled 7\nthrottled_time 123456789\nbogus\nx y\n") == {
        "nr_periods": 50, "nr_throttled": 7, "throttled_time": 123456789}
    burner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                               "while time.process_time() - t < 0.3: pass\ninput()"], stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while (_cgroup.process_cpu_s(burner.pid) or 0) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0.3 <= _cgroup.process_cpu_s(burner.pid) < 5
    finally:
        burner.kill()
        burner.wait(timeout=5)
    assert _cgroup.process_cpu_s(burner.pid) is None


def _cpu_stat(cpu: Path, throttled: int, throttled_ns: int) -> None:
    (cpu / "cpu.stat").write_text(f"nr_periods 100\nnr_throttled {throttled}\nthrottled_time {throttled_ns}\n")


def test_cpu_throttle_reports_the_periods_throttled_since_inject(fake_cgroups):
    _cpu_stat(fake_cgroups.cpu, 10, 5_000_000_000)  # throttled before the fault: not ours
    fault = make({"kind": "cpu", "service": "api", "mode": "throttle", "cpu_percent": 10}, fake_cgroups.stack)
    assert fault.effect_counters() == {}
    fault.inject()
    assert fault.effect_counters() == {"throttled_periods": 0, "throttled_s": 0.0}
    _cpu_stat(fake_cgroups.cpu, 25, 6_500_000_000)
    assert fault.effect_counters() == {"throttled_periods": 15, "throttled_s": 1.5}
    (fake_cgroups.cpu / "cpu.stat").unlink()  # the cgroup went away (container stopped)
    assert fault.effect_counters() == {}
    fault.revert()
    assert fault.effect_counters() == {}


def test_cpu_load_reports_helper_cpu_and_ignores_a_restarted_victims_counters(fake_cgroups, monkeypatch):
    _cpu_stat(fake_cgroups.cpu, 0, 0)
    burned = {4242: 1.0}
    monkeypatch.setattr(cpu_module, "process_cpu_s", lambda pid: burned.get(pid))
    fault = make({"kind": "cpu", "service": "api", "cores": 2}, fake_cgroups.stack)
    fault.inject()  # two fake helpers, both pid 4242, each at 1.0 s when ready
    burned[4242] = 1.6
    _cpu_stat(fake_cgroups.cpu, 3, 300_000_000)  # the helpers pushed the container past its quota
    assert fault.effect_counters() == {"throttled_periods": 3, "throttled_s": 0.3, "helper_cpu_s": 1.2}
    monkeypatch.setattr(cpu_module, "process_start_time", lambda pid: -1)  # PID 1 is another process now
    assert fault.effect_counters() == {"helper_cpu_s": 1.2}  # its new cgroup's counters are not ours
    del burned[4242]  # helpers gone (reaped): their time is unknown, counted as 0
    assert fault.effect_counters() == {"helper_cpu_s": 0.0}


def test_memory_leak_reports_the_mib_its_helpers_hold(fake_cgroups, monkeypatch):
    held = {4242: 40 * MIB + MIB // 2}
    monkeypatch.setattr(leak_module, "memfd_bytes", lambda pid: held.get(pid, 0))
    fault = make({"kind": "memory_leak", "service": "api", "limit_mib": 64}, fake_cgroups.stack)
    assert fault.effect_counters() == {}
    fault.inject()
    assert fault.effect_counters() == {"leaked_mib": 40.5}
    held.clear()  # the helper exited (the OOM kill it caused took the container)
    assert fault.effect_counters() == {"leaked_mib": 0.0}
    fault.revert()
    assert fault.effect_counters() == {}


def test_disk_full_reports_the_mib_its_file_holds_and_what_is_left(tmp_path):
    stack = FakeStack([FakeContainer("redis-1", os.getpid())])
    st = os.statvfs(tmp_path)
    free_mib = st.f_bavail * st.f_frsize / MIB
    fault = make({"kind": "disk_full", "service": "redis", "path": str(tmp_path), "leave_mib": free_mib - 3}, stack)
    assert fault.effect_counters() == {}
    fault.inject()
    [fill] = tmp_path.glob(".harness-disk-full-f-*")
    effect = fault.effect_counters()
    assert set(effect) == {"filled_mib", "free_mib"}
    assert effect["filled_mib"] == pytest.approx(fill.stat().st_blocks * 512 / MIB, abs=0.01)
    assert 1 <= effect["filled_mib"] <= 8, effect  # ~3 MiB (other writers change the free space)
    assert abs(effect["free_mib"] - (free_mib - 3)) < 64, (effect, free_mib)
    fill.unlink()  # someone removed it: the fault holds nothing any more
    assert fault.effect_counters() == {}
    fault.revert()
    assert fault.effect_counters() == {}


def test_accept_backlog_sums_the_listeners_queues():
    tcp = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000010 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0200000A:1F90 0300000A:C350 01 00000000:00000005 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
"""
    assert fd_module.accept_backlog(tcp) == 3 + 16  # established sockets' queues are data, not accepts
    assert fd_module.accept_backlog("") == 0


def test_pending_accepts_sees_connections_nobody_accepted():
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    clients = [socket.create_connection(server.getsockname(), timeout=2) for _ in range(3)]
    try:
        assert fd_module.pending_accepts(os.getpid()) >= 3  # this namespace: ours, and maybe others'
    finally:
        for c in clients:
            c.close()
        server.close()


def test_fd_limit_reports_processes_left_without_a_free_descriptor(monkeypatch, sleeper):
    stack = FakeStack([FakeContainer("shop-api-1", sleeper.pid, CID)])
    monkeypatch.setattr(fd_module, "container_cgroup_dirs", lambda pid, cid, controllers: {"memory": Path("/x")})
    monkeypatch.setattr(fd_module, "cgroup_pids", lambda path: [sleeper.pid])
    monkeypatch.setattr(fd_module, "_ids", lambda pid: (os.getuid(), os.getgid()))
    monkeypatch.setattr(fd_module, "pending_accepts", lambda pid: 7 if pid == sleeper.pid else 0)
    exhausting = make({"kind": "fd_limit", "service": "api"}, stack)
    assert exhausting.effect_counters() == {}
    exhausting.inject()
    assert exhausting.effect_counters() == {"exhausted_processes": 1, "limited_processes": 1, "pending_accepts": 7}
    exhausting.revert()
    roomy = make({"kind": "fd_limit", "service": "api", "spare_fds": 2}, stack)
    roomy.inject()
    assert roomy.effect_counters() == {"exhausted_processes": 0, "limited_processes": 1, "pending_accepts": 7}
    [changed] = roomy._victims[0].changed
    fd_module.prlimit_nofile(sleeper.pid, os.getuid(), os.getgid(), changed.old_soft)  # raised back by itself
    assert roomy.effect_counters() == {"exhausted_processes": 0, "limited_processes": 0, "pending_accepts": 7}
    roomy.revert()


def test_soft_nofile_reads_proc_limits(sleeper):
    assert fd_module.soft_nofile(sleeper.pid) == _soft_nofile(sleeper.pid)
    fd_module.prlimit_nofile(sleeper.pid, os.getuid(), os.getgid(), "33")
    assert fd_module.soft_nofile(sleeper.pid) == 33
    assert fd_module.soft_nofile(2**22 + 7) is None
