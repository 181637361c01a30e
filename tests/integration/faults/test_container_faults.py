"""Container and process faults against the live sample stack, each effect observed from outside:
exit codes and states from the engine, TCP connects and HTTP requests to the container's address,
``die`` events from the engine's event stream. Every test reverts and waits until healthy."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime

import pytest
import requests

from harness.errors import EnvironmentFailure
from tests.integration.faults.conftest import wait_until

API_PORT = 8080


def connect(ip: str, port: int, timeout_s: float = 1.0) -> str:
    """TCP connect from the host: ``connected``, ``refused``, ``timeout`` or ``unreachable``."""
    with socket.socket() as s:
        s.settimeout(timeout_s)
        try:
            s.connect((ip, port))
        except ConnectionRefusedError:
            return "refused"
        except (socket.timeout, TimeoutError):
            return "timeout"
        except OSError:
            return "unreachable"  # EHOSTUNREACH: the address is gone
        return "connected"


def health(ip: str, timeout_s: float = 2.0) -> int | str:
    """Status of GET /health on a replica's own address, or the exception's class name."""
    try:
        return requests.get(f"http://{ip}:{API_PORT}/health", timeout=timeout_s).status_code
    except requests.RequestException as exc:
        return type(exc).__name__


def state(live, name: str) -> dict:
    return live.stack.containers.container(name).attrs["State"]


def ip_of(live, name: str) -> str:
    return live.stack.containers.ips(name)[0]


def lb_answers(live, timeout_s: float = 15) -> None:
    """Wait until a product is served through the load balancer again (its checks need
    ``rise`` successes after Docker already reports the replicas healthy)."""

    def ok() -> bool:
        try:
            return requests.get(f"{live.lb_url}/products/1", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_until(ok, timeout_s=timeout_s, poll_s=0.5)


def assert_revert_is_safe_before_inject(fault) -> None:
    assert fault.revert() == []


def test_kill_sigkills_a_replica_and_revert_starts_it(live):
    fault = live.fault({"kind": "kill", "service": "api", "count": 1})
    assert_revert_is_safe_before_inject(fault)
    [victim] = fault.inject()
    try:
        st = wait_until(lambda: (s := state(live, victim))["Status"] == "exited" and s)
        assert st["ExitCode"] == 137  # SIGKILL reached PID 1: no graceful shutdown
        assert len(live.stack.containers.running_containers("api")) == 1
    finally:
        assert fault.revert() == [victim]
    assert fault.revert() == []
    assert state(live, victim)["Running"]
    live.wait_healthy()
    lb_answers(live)


def test_stop_shuts_a_replica_down_gracefully_and_its_address_stops_answering(live):
    fault = live.fault({"kind": "stop", "service": "api", "count": 1, "timeout_s": 5})
    assert_revert_is_safe_before_inject(fault)
    ips = {name: ip_of(live, name) for name in live.stack.containers.running_containers("api")}
    started = time.monotonic()
    [victim] = fault.inject()
    took_s = time.monotonic() - started
    try:
        st = state(live, victim)
        assert (st["Status"], st["ExitCode"]) == ("exited", 0)  # SIGTERM honoured: exit 0, not 137
        assert took_s < 5, took_s  # it did not need the grace period
        assert connect(ips[victim], API_PORT, timeout_s=1.0) in ("unreachable", "timeout")
    finally:
        assert fault.revert() == [victim]
    assert fault.revert() == []
    live.wait_healthy()
    assert health(ip_of(live, victim)) == 200


def test_restart_rolls_through_replicas_one_at_a_time(live):
    fault = live.fault({"kind": "restart", "service": "api", "percent": 100, "timeout_s": 5})
    assert_revert_is_safe_before_inject(fault)
    before = {name: state(live, name)["StartedAt"] for name in live.stack.containers.running_containers("api")}
    victims = fault.inject()
    try:
        assert victims == sorted(before)
        after = {name: state(live, name)["StartedAt"] for name in victims}
        assert all(after[n] > before[n] for n in victims), (before, after)
        first, second = (datetime.fromisoformat(after[n][:26].rstrip("Z")) for n in victims)
        assert (second - first).total_seconds() >= 1.5  # the second waited for the first to be healthy
    finally:
        assert fault.revert() == []  # both run: nothing to start
    live.wait_healthy()
    lb_answers(live)


def test_pause_accepts_tcp_connects_but_requests_time_out(live):
    fault = live.fault({"kind": "pause", "service": "api", "count": 1})
    assert_revert_is_safe_before_inject(fault)
    [victim] = fault.inject()
    ip = ip_of(live, victim)
    try:
        st = state(live, victim)
        assert st["Paused"] and st["Running"]
        assert connect(ip, API_PORT) == "connected"  # the kernel still completes the handshake
        started = time.monotonic()
        assert health(ip, timeout_s=2.0) == "ReadTimeout"  # ... but nobody reads the request
        assert time.monotonic() - started >= 1.9
    finally:
        assert fault.revert() == [victim]
    assert fault.revert() == []
    assert not state(live, victim)["Paused"]
    assert wait_until(lambda: health(ip) == 200)
    live.wait_healthy()


def die_events(live, name: str, since: float, until: float) -> list[dict]:
    """``die`` events of container ``name`` between two epoch times, from the engine."""
    events = live.stack.docker.events(since=int(since), until=int(until) + 1, decode=True,
                                      filters={"container": name, "event": "die"})
    return [e for e in events if since <= e.get("timeNano", 0) / 1e9 <= until]


def test_crash_loop_kills_the_replica_each_time_it_comes_back_and_stops_at_revert(live):
    fault = live.fault({"kind": "crash_loop", "service": "api", "count": 1, "restart_after_s": 0.5,
                        "crash_after_s": 0.2})
    assert_revert_is_safe_before_inject(fault)
    t0 = time.time()
    [victim] = fault.inject()
    try:
        time.sleep(7)  # a cycle takes ~2 s here: start ~0.7 s, kill ~0.4 s, inspects, waits
        t1 = time.time()
        dies = die_events(live, victim, t0, t1)
        exit_codes = [e["Actor"]["Attributes"].get("exitCode") for e in dies]
        assert len(dies) >= 3, exit_codes  # the inject's kill, then killed again after each restart
        assert set(exit_codes) == {"137"}
        assert fault.kills[victim] >= len(dies)
    finally:
        fault.revert()
    reverted_at = time.time()
    assert not any(t.name.startswith("crash_loop-") for t in threading.enumerate())  # the loop is over
    assert fault.revert() == []
    st = state(live, victim)
    assert st["Running"]
    time.sleep(2)  # longer than restart_after_s + crash_after_s: no further kill
    assert state(live, victim)["StartedAt"] == st["StartedAt"]
    assert die_events(live, victim, reverted_at, time.time()) == []
    live.wait_healthy()
    lb_answers(live)


def test_process_kill_closes_the_port_while_the_container_keeps_running(live):
    fault = live.fault({"kind": "process_kill", "service": "api", "count": 1})
    assert_revert_is_safe_before_inject(fault)
    running = sorted(live.stack.containers.running_containers("api"))
    pid1 = {name: state(live, name)["Pid"] for name in running}
    with_pattern = live.fault({"kind": "process_kill", "service": "api", "process": r"shop\.api"})
    assert with_pattern.app_pids(running[0]) == fault.app_pids(running[0])  # the app, never PID 1
    [victim] = fault.inject()
    ip = ip_of(live, victim)
    try:
        assert wait_until(lambda: connect(ip, API_PORT) == "refused", timeout_s=5)
        st = state(live, victim)
        assert st["Running"] and st["Pid"] == pid1[victim]  # PID 1 and the container live on
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == [victim]
    assert effect == {"signalled_processes": 1, "killed_processes": 1}, effect  # the app, and it is gone
    assert fault.revert() == []
    assert wait_until(lambda: health(ip) == 200, timeout_s=20)
    live.wait_healthy()


def test_process_kill_refuses_a_container_whose_pid_1_is_the_app(live):
    fault = live.fault({"kind": "process_kill", "service": "catalog"})
    name = live.container("catalog")
    pid = state(live, name)["Pid"]
    with pytest.raises(EnvironmentFailure, match="supervisor as PID 1"):
        fault.inject()
    assert fault.revert() == []  # nothing was signalled, nothing to restart
    assert state(live, name)["Running"] and state(live, name)["Pid"] == pid


def test_node_loss_makes_the_whole_group_time_out_at_once_and_revert_restores_it(live):
    fault = live.fault({"kind": "node_loss", "services": ["catalog", "redis"]})
    assert_revert_is_safe_before_inject(fault)
    ports = {"catalog": 8080, "redis": 6379}
    targets = {live.container(s): (live.ip(s), port) for s, port in ports.items()}
    assert all(connect(ip, port) == "connected" for ip, port in targets.values())
    touched = fault.inject()
    try:
        assert touched == sorted(targets)
        seen = {name: connect(ip, port, timeout_s=1.0) for name, (ip, port) in targets.items()}
        assert seen == {name: "timeout" for name in targets}  # silence, not refusals
        assert all(state(live, name)["Running"] for name in targets)  # the engine sees nothing wrong
        effect = fault.effect_counters()
    finally:
        assert fault.revert() == sorted(targets)
    assert effect["matched_packets"] >= len(targets) and effect["rules_in_place"] == 2 * len(targets), effect
    assert fault.revert() == []
    assert all(connect(ip, port) == "connected" for ip, port in targets.values())
    live.wait_healthy()
    lb_answers(live)
