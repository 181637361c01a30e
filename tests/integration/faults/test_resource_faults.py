"""Resource faults on the live sample stack, each effect observed from outside the fault:
``OOMKilled`` from the engine, memory and CPU from ``docker stats``, ENOSPC from a write inside
the container, EMFILE as a connection that is accepted by the kernel but never answered. Each
fault's own ``effect_counters()`` (read before revert, what analysis proves the effect with) is
checked against those outside observations."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.integration.faults.conftest import wait_until

pytestmark = pytest.mark.integration

MIB = 2**20


def memory_mib(container) -> float:
    """``docker stats`` memory usage of a container, MiB (usage minus inactive file cache, as the
    docker CLI shows it)."""
    stats = container.stats(stream=False, one_shot=True)["memory_stats"]
    return (stats["usage"] - stats.get("stats", {}).get("total_inactive_file", 0)) / MIB


def cpu_seconds(container) -> tuple[float, float]:
    """``docker stats`` total CPU time of a container (s) and when it was read (monotonic s)."""
    stats = container.stats(stream=False, one_shot=True)
    return stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9, time.monotonic()


def cpu_percent(container, window_s: float = 2.0) -> float:
    """The container's CPU use over ``window_s`` from two ``docker stats`` samples, % of a core."""
    used0, t0 = cpu_seconds(container)
    time.sleep(window_s)
    used1, t1 = cpu_seconds(container)
    return (used1 - used0) / (t1 - t0) * 100


def helper_pids(fault) -> list[int]:
    """Host PIDs of the helper processes a fault started (whatever its victim structure)."""
    pids = []
    for victim in fault._victims:
        helpers = getattr(victim, "helpers", None) or [getattr(victim, "helper", None)]
        pids += [h.pid for h in helpers if h is not None]
    return pids


def gone(pid: int) -> bool:
    """True once ``pid`` no longer exists (or is a zombie nobody reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_revert_before_inject_is_a_no_op(live):
    for spec in (
        {"kind": "oom", "service": "api"},
        {"kind": "memory_leak", "service": "catalog"},
        {"kind": "cpu", "service": "catalog"},
        {"kind": "cpu", "service": "catalog", "mode": "throttle"},
        {"kind": "disk_full", "service": "redis", "path": "/var/lib/redis"},
        {"kind": "fd_limit", "service": "api"},
    ):
        fault = live.fault(spec)
        assert fault.revert() == []
        assert fault.revert() == []


def test_oom_kills_the_replica_with_oomkilled_and_revert_brings_it_back(live):
    fault = live.fault({"kind": "oom", "service": "api", "limit_mib": 96})
    try:
        touched = fault.inject()
        name = touched[0]
        assert touched == [name, f"{name}:OOMKilled"]
        state = live.stack.containers.container(name).attrs["State"]
        assert state["Status"] == "exited" and state["OOMKilled"] is True and state["ExitCode"] == 137
        helpers = helper_pids(fault)
        wait_until(lambda: all(gone(p) for p in helpers), 5)  # the helper left with the container
        # the other replica still serves through the load balancer
        assert requests.get(f"{live.lb_url}/products/1", timeout=5).status_code == 200
    finally:
        restarted = fault.revert()
    assert restarted == [name]
    assert fault.revert() == []
    state = live.stack.containers.container(name).attrs["State"]
    assert state["Status"] == "running"  # (the engine keeps OOMKilled true from the last exit)
    live.wait_healthy()
    assert requests.get(f"{live.lb_url}/products/1", timeout=5).status_code == 200


def steady_memory_mib(container, samples: int = 3) -> float:
    """The lowest of a few ``docker stats`` memory readings, MiB: short-lived processes (health
    checks run every 2 s inside the container) only ever add to it."""
    return min(memory_mib(container) for _ in range(samples))


def test_memory_leak_grows_at_its_rate_up_to_its_limit_and_revert_frees_it(live):
    name = live.container("redis")
    container = live.stack.containers.container(name)
    before = steady_memory_mib(container)
    fault = live.fault({"kind": "memory_leak", "service": "redis", "rate_mib_s": 16, "limit_mib": 40})
    try:
        assert fault.inject() == [name]
        started = time.monotonic()
        time.sleep(1.5)
        grown = memory_mib(container) - before
        elapsed = time.monotonic() - started  # after the sample: an upper bound of its time
        assert 0.5 * 16 * 1.5 <= grown <= 16 * elapsed + 8, (grown, elapsed)
        time.sleep(max(0.0, 40 / 16 + 1.0 - (time.monotonic() - started)))
        plateau = steady_memory_mib(container) - before
        assert 40 - 4 <= plateau <= 40 + 8, plateau  # stops at limit_mib
        helpers = helper_pids(fault)
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [name]
    assert effect == {"leaked_mib": 40.0}, effect  # what docker stats saw grow, held by the helper
    assert fault.revert() == []
    assert all(gone(p) for p in helpers)
    wait_until(lambda: steady_memory_mib(container, 2) < before + 8, 5)  # freed
    assert live.stack.containers.container(name).attrs["State"]["Status"] == "running"


def _schedstat_s(pid: int) -> tuple[float, float]:
    """(s on a CPU, s runnable but waiting for one) of a host process (``/proc/<pid>/schedstat``)."""
    on_cpu, waiting = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def test_cpu_load_shows_in_the_container_cpu_and_stops_on_revert(live):
    name = live.container("redis")
    container = live.stack.containers.container(name)
    idle = cpu_percent(container, 1.0)
    fault = live.fault({"kind": "cpu", "service": "redis", "cores": 1, "cpu_percent": 50})
    try:
        assert fault.inject() == [name]
        helper = helper_pids(fault)[0]
        used0, t0 = cpu_seconds(container)
        run0, wait0 = _schedstat_s(helper)  # the helper's window lies inside the container's
        time.sleep(2.0)
        run1, wait1 = _schedstat_s(helper)
        used1, t1 = cpu_seconds(container)
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [name]
    # the helper's CPU since it joined (>= the 2 s sampled above), and no throttling: redis has no
    # CPU limit, so on this host the load competes with nobody's quota (it cannot slow redis by it)
    assert run1 - run0 <= effect["helper_cpu_s"] <= run1 - run0 + 1.0, (effect, run1 - run0)
    assert effect["throttled_periods"] == 0, effect
    assert fault.revert() == []
    wall, busy = t1 - t0, (used1 - used0) / (t1 - t0) * 100
    # The helper asked for half a core (on a CPU or waiting for one at least half the time) and
    # got no more than that; on a busy 2-core host it gets what the scheduler gives it ...
    assert (run1 - run0) + (wait1 - wait0) >= 0.45 * 2.0, (run1 - run0, wait1 - wait0)
    assert (run1 - run0) <= 0.6 * wall, (run1 - run0, wall)
    # ... and docker stats accounts all of it to the container: ~50 % more on an idle host
    assert used1 - used0 >= 0.9 * (run1 - run0), (used1 - used0, run1 - run0)
    assert idle + 5 <= busy <= 50 + idle + 15, (idle, busy)
    assert gone(helper)
    assert cpu_percent(container, 1.0) < idle + 15


def test_cpu_throttle_caps_a_busy_process_in_the_container(live):
    name = live.container("api")
    container = live.stack.containers.container(name)
    burn = ["python3", "-c", "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 1.5: pass\n"
            "print(time.process_time())"]
    fault = live.fault({"kind": "cpu", "service": "api", "mode": "throttle", "cores": 1, "cpu_percent": 10})
    try:
        assert fault.inject() == [name]
        throttled0 = container.stats(stream=False, one_shot=True)["cpu_stats"]["throttling_data"]["throttled_periods"]
        capped = float(container.exec_run(burn).output)  # CPU seconds it got in 1.5 s of wall time
        throttled1 = container.stats(stream=False, one_shot=True)["cpu_stats"]["throttling_data"]["throttled_periods"]
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [name]
    assert effect["throttled_periods"] >= throttled1 - throttled0, (effect, throttled1 - throttled0)  # same counter
    assert effect["throttled_s"] > 0, effect
    assert fault.revert() == []
    assert capped < 0.1 * 1.5 + 0.1, capped  # 10 % of a core, plus the interpreter's start-up
    assert throttled1 - throttled0 >= 5  # the quota throttled the container (api has none otherwise)
    cpu = Path(f"/sys/fs/cgroup/cpu/docker/{container.id}/cpu.cfs_quota_us")
    if cpu.exists():
        assert cpu.read_text().strip() == "-1"
    assert requests.get(f"{live.lb_url}/products/2", timeout=5).status_code == 200


def test_disk_full_gives_enospc_inside_the_container_and_revert_frees_the_space(live):
    name = live.container("redis")
    container = live.stack.containers.container(name)
    probe = ["dd", "if=/dev/zero", "of=/var/lib/redis/probe", "bs=64k", "count=4"]
    fault = live.fault({"kind": "disk_full", "service": "redis", "path": "/var/lib/redis"})
    try:
        assert fault.inject() == [name, f"{name}:/var/lib/redis"]
        full = container.exec_run(probe, user="redis")
        container.exec_run(["redis-cli", "bgsave"])
        save_status = wait_until(lambda: _bgsave_status(container), 5)
        write = container.exec_run(["redis-cli", "set", "harness:disk-full", "still-served"])
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [f"{name}:/var/lib/redis"]
    assert fault.revert() == []
    assert full.exit_code != 0 and b"No space left on device" in full.output, full.output
    assert save_status == "err"  # Redis's snapshot hit ENOSPC ...
    assert write.output.strip() == b"OK"  # ... while it keeps serving writes (stop-writes-on-bgsave-error no)
    assert 8 <= effect["filled_mib"] <= 16 and effect["free_mib"] < 0.5, effect  # the 16 MiB tmpfs, full
    after = container.exec_run(probe, user="redis")
    container.exec_run(["rm", "-f", "/var/lib/redis/probe"], user="redis")
    assert after.exit_code == 0, after.output


def _bgsave_status(container) -> str | None:
    """``rdb_last_bgsave_status`` once no background save is in progress."""
    info = container.exec_run(["redis-cli", "info", "persistence"]).output.decode()
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    if fields.get("rdb_bgsave_in_progress", "1").strip() != "0":
        return None
    return fields.get("rdb_last_bgsave_status", "").strip() or None


def test_disk_full_refuses_to_fill_the_host_disk(live):
    fault = live.fault({"kind": "disk_full", "service": "api", "path": "/tmp", "max_fill_mib": 64})
    from harness.errors import EnvironmentFailure

    with pytest.raises(EnvironmentFailure, match="max_fill_mib"):
        fault.inject()
    assert fault.revert() == []


def _http_health(ip: str, timeout_s: float) -> str:
    """Open a new TCP connection to the api, send GET /health: the status line, or "timeout"
    when the connection was accepted by the kernel but no answer came."""
    with socket.create_connection((ip, 8080), timeout=timeout_s) as conn:
        conn.sendall(b"GET /health HTTP/1.0\r\nHost: api\r\n\r\n")
        try:
            return conn.recv(64).split(b"\r\n")[0].decode()
        except socket.timeout:
            return "timeout"


def _app_pid(live, name: str) -> int:
    """Host PID of the ``python3 -m shop.api`` process in an api container (PID 1 is a shell)."""
    top = live.stack.containers.container(name).top(ps_args="-o pid,args")
    return next(int(pid) for pid, args in top["Processes"] if args.startswith("python3 -m shop.api"))


def test_fd_limit_makes_new_connections_hang_with_emfile_and_revert_restores_it(live):
    before = {name: _nofile(_app_pid(live, name)) for name in live.stack.containers.running_containers("api")}
    fault = live.fault({"kind": "fd_limit", "service": "api", "process": r"^python3 -m shop\.api"})
    try:
        touched = fault.inject()
        name = touched[0]
        assert len(touched) == 2 and touched[1].startswith(f"{name}:pid="), touched
        pid, ip = _app_pid(live, name), live.stack.containers.ips(name)[0]
        soft, hard = _nofile(pid)
        answer = _http_health(ip, 2)  # the kernel accepts the connection, the app cannot accept() it
        logs = subprocess.run(["docker", "logs", "--since", "30s", name], capture_output=True, text=True,
                              timeout=30).stderr
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [name]
    assert fault.revert() == []
    assert soft < 64 and hard == before[name][1], (soft, hard)
    assert answer == "timeout"
    assert "Too many open files" in logs
    # the app had no descriptor left, and the probe's connection waits in its accept queue
    assert effect["exhausted_processes"] == 1 and effect["limited_processes"] == 1, effect
    assert effect["pending_accepts"] >= 1, effect
    assert _nofile(pid) == before[name]
    assert wait_until(lambda: _http_health(ip, 3).endswith("200 OK"), 10)
    live.wait_healthy()


def _nofile(pid: int) -> tuple[int, int]:
    """(soft, hard) "Max open files" of a process, from /proc/<pid>/limits."""
    lines = Path(f"/proc/{pid}/limits").read_text().splitlines()
    line = next(line for line in lines if line.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    return int(soft), int(hard)
