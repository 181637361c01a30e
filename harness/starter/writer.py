"""Render a commented starter scenario (YAML text) from a :class:`~harness.starter.edges.Sketch`.

Plain string building: every section is a small function returning lines, each section opens
with a comment saying what to edit. Strings are written as JSON strings, which are valid YAML
double-quoted scalars, so no service name or path can break the file.

The timeline (seconds from the load's start, 70 s of load):

- 0-15 s baseline; 15-30 s ``latency`` (300 ms) on the first proxy; 30-40 s its recovery;
- 40-55 s ``kill`` of one replica of the service behind that proxy; 55-70 s its recovery.

Without any proxy, only the kill, on the entry service, at 20-40 s. The error-rate bounds are
loose enough (0.01 on the 15 s baseline, else 0.02-0.05) that 5 users give each window the
requests a held verdict needs (``harness.checks.base.needed_requests``: 3 / bound).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from harness.starter.edges import Sketch

DURATION_S = 70
USERS = 5
LATENCY_MS = 300
LATENCY_AT_S, LATENCY_FOR_S = 15, 15
KILL_AT_S, KILL_FOR_S = 40, 15
LONE_KILL_AT_S, LONE_KILL_FOR_S = 20, 20


@dataclass(frozen=True)
class ProxyLine:
    """One proxy of the scenario.

    Attributes:
        name: the proxy's name (faults refer to it).
        upstream: ``host:port`` it forwards to.
        server: the compose service behind it (the kill's victim).
        listen: ``0.0.0.0:PORT`` for a hand-wired proxy, None for an edge.
        note: where it was found, written as a trailing comment.
    """

    name: str
    upstream: str
    server: str
    listen: str | None
    note: str


def _q(text: str) -> str:
    """``text`` as a YAML double-quoted scalar."""
    return json.dumps(text)


def scenario_name(project: str, fallback: str) -> str:
    """A valid scenario ``name`` (``[A-Za-z0-9_.-]``, at most 100 characters):
    ``<project>-starter``, with ``fallback`` (e.g. the compose file's directory) when the
    project has no name."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", project or fallback).strip("-.") or "stack"
    return f"{base[:92]}-starter"


def proxy_lines(sketch: Sketch) -> list[ProxyLine]:
    """The scenario's proxies: the hand-wired ones when the file runs its own Toxiproxy, else
    one edge proxy per edge (named after its server, ``<server>-<port>`` for a second port)."""
    if sketch.hand_wired:
        return [ProxyLine(w.name, w.upstream, w.server, f"0.0.0.0:{w.listen_port}", w.source)
                for w in sketch.hand_wired]
    lines: list[ProxyLine] = []
    for edge in sketch.edges:
        name = edge.server if all(p.name != edge.server for p in lines) else f"{edge.server}-{edge.port}"
        lines.append(ProxyLine(name, edge.upstream, edge.server, None, edge.source))
    return lines


def toxiproxy_service(sketch: Sketch) -> str | None:
    """The ``target.toxiproxy_service`` to write, None for the default (``toxiproxy``): the
    file's own Toxiproxy for hand-wired proxies; an unused name when edges are inserted and
    the file already has a service called ``toxiproxy``."""
    if sketch.hand_wired:
        return sketch.toxiproxy if sketch.toxiproxy != "toxiproxy" else None
    if sketch.edges and "toxiproxy" in sketch.services:
        name, n = "harness-toxiproxy", 1
        while name in sketch.services:
            n += 1
            name = f"harness-toxiproxy-{n}"
        return name
    return None


def _header(sketch: Sketch, compose_rel: str, proxies: list[ProxyLine]) -> list[str]:
    entry = sketch.entry.host if sketch.entry else "no entry point found"
    edges = ", ".join(f"{p.name} ({p.upstream})" for p in proxies) or "none found"
    return [
        f"# Starter scenario written by `harness init` from {compose_rel}.",
        f"# Entry point: {entry}. Proxied edges: {edges}.",
        "# Edit every section below (each comment says what to change), then:",
        "#   harness validate THIS_FILE && harness run THIS_FILE",
        "# Reference: `harness faults` (fault kinds), `harness schema scenario` (every field), docs/own-stack.md.",
        "version: 1",
    ]


def _about(sketch: Sketch, name: str, compose_rel: str, proxies: list[ProxyLine]) -> list[str]:
    if proxies:
        what = (f"{proxies[0].server} answers {LATENCY_MS} ms late for {LATENCY_FOR_S} s, then one replica of "
                f"{proxies[0].server} is SIGKILLed for {KILL_FOR_S} s.")
    else:
        what = "one replica of the entry service is SIGKILLed for 20 s."
    return [
        "",
        "# A name for the reports (letters, digits, . _ -) and what this scenario proves: edit both.",
        f"name: {name}",
        "description: >",
        f"  Starter for {compose_rel}: {what}",
        "  Describe here what your stack should do meanwhile (time out, retry, fail over...).",
        "seed: 1",
    ]


def _target(sketch: Sketch, compose_rel: str) -> list[str]:
    lines = [
        "",
        "# The stack under test. compose is relative to this file. The harness runs its own copy of the",
        "# project (harness-<run id>), never edits your file, and publishes ports on 127.0.0.1 only.",
        "# profile (optional) reaches compose as ${HARNESS_PROFILE}; env adds interpolation variables.",
        "target:",
        f"  compose: {_q(compose_rel)}",
        "  # profile: resilient",
        "  healthy_timeout_s: 120",
    ]
    service = toxiproxy_service(sketch)
    if service and sketch.hand_wired:
        lines.append(f"  toxiproxy_service: {_q(service)}   # your file's own Toxiproxy")
    elif service:
        lines.append(f"  toxiproxy_service: {_q(service)}   # the inserted Toxiproxy (your file has a "
                     "service named toxiproxy)")
    return lines


def _proxy_comment(sketch: Sketch) -> list[str]:
    if sketch.hand_wired:
        return [
            f"# Your file runs its own Toxiproxy ({sketch.toxiproxy}); your services dial it, so each proxy below",
            "# listens where they dial (listen) and forwards to the real service (upstream). The harness creates",
            "# them through Toxiproxy's API. Check every upstream port.",
        ]
    return [
        "# Edges Toxiproxy sits on. An edge names the host:port your clients already dial (no listen):",
        "# the harness inserts Toxiproxy into its copy of the project and moves that name to it, so",
        "# traffic goes through the proxy with no change to your app. Check each port; remove an edge",
        "# you do not want to break; add one as {name: NAME, upstream: \"service:port\"}.",
    ]


def _proxies(sketch: Sketch, proxies: list[ProxyLine]) -> list[str]:
    lines = ["", *_proxy_comment(sketch)]
    if not proxies:
        lines += ["# No edge was found (no depends_on, no service named in an environment value).",
                  "proxies: []"]
    else:
        lines.append("proxies:")
        for p in proxies:
            listen = f"listen: {_q(p.listen)}, " if p.listen else ""
            lines.append(f"  - {{name: {_q(p.name)}, {listen}upstream: {_q(p.upstream)}}}   # {p.note}")
    if sketch.skipped:
        lines.append("# Left out:")
        lines += [f"#   {s.what}: {s.reason}" for s in sketch.skipped]
    return lines


def _load(sketch: Sketch) -> list[str]:
    host = sketch.entry.host if sketch.entry else "http://EDIT-ME:80"
    if sketch.entry is None:
        where = "# No service publishes or exposes a port: EDIT the host below (http://<service>:<port>)."
    elif sketch.entry.published:
        where = f"# {sketch.entry.service} publishes port {sketch.entry.port}: the load goes in there."
    else:
        where = (f"# Nothing is published; {sketch.entry.service} is the service nobody dials, on port "
                 f"{sketch.entry.port}: the harness publishes it on 127.0.0.1 for the run.")
    lines = [
        "",
        "# The load (Locust, closed model): `users` concurrent users for duration_s seconds. host is",
        "# http://<service>:<container port>; the harness dials the loopback port it is published on.",
        where,
        "# GET / is a guess: if your app answers it 404, every request counts as an error (http_4xx).",
        "# Replace the request mix with what your users really request (weights are relative), or use",
        "# locustfile: path/to/locustfile.py. Add rate_rps: N for a fixed arrival rate (open model).",
        "load:",
        f"  host: {_q(host)}",
        f"  users: {USERS}",
        f"  spawn_rate: {USERS}",
        f"  duration_s: {DURATION_S}",
        "  think_time_s: [0.05, 0.15]",
        "  request_timeout_s: 10",
        "  requests:",
        '    - {name: "GET /", method: GET, path: "/", weight: 1}',
    ]
    if sketch.health_path and sketch.entry:
        lines += [f"    # its health check's path (answered by {sketch.entry.service} itself, so it may not cross "
                  "the edges above):",
                  f"    # - {{name: {_q('GET ' + sketch.health_path)}, method: GET, path: {_q(sketch.health_path)}, "
                  "weight: 1}"]
    return lines


def _steady_state() -> list[str]:
    return [
        "",
        "# What normal looks like, checked on the baseline (a broken baseline makes the run inconclusive)",
        "# and on the last window. Optional: derived from the baseline when absent.",
        "# steady_state:",
        '#   - {metric: error_rate, "<": 0.01}',
        '#   - {metric: p99_ms, "<": 500}',
    ]


def _faults(sketch: Sketch, proxies: list[ProxyLine]) -> tuple[list[str], list[str]]:
    """The faults section and the names of the fault windows, in timeline order."""
    lines = [
        "",
        "# Faults on a timeline: at_s seconds after the load starts, for duration_s seconds, each ending",
        f"# before the load does ({DURATION_S} s). `harness faults` lists every kind (blackhole, reset_peer,",
        "# bandwidth, pause, stop, restart, cpu, memory_leak...) with its parameters and units.",
        "faults:",
    ]
    if not proxies:
        if sketch.entry is None:
            return lines[:-1] + ["# No service to fault was found: add faults here.", "faults: []"], []
        victim = sketch.entry.service
        name = f"{victim}-killed"
        lines += [f"  # {_replicas_note(sketch, victim)}",
                  f"  - {{name: {_q(name)}, kind: kill, service: {_q(victim)}, count: 1, signal: SIGKILL, "
                  f"at_s: {LONE_KILL_AT_S}, duration_s: {LONE_KILL_FOR_S}}}"]
        return lines, [name]
    first = proxies[0]
    slow, killed = f"{first.name}-slow", f"{first.server}-killed"
    lines += [
        f"  # {first.name} answers {LATENCY_MS} ms late (downstream: the answers; stream: both slows requests too).",
        f"  - {{name: {_q(slow)}, kind: latency, proxy: {_q(first.name)}, latency_ms: {LATENCY_MS}, jitter_ms: 0, "
        f"at_s: {LATENCY_AT_S}, duration_s: {LATENCY_FOR_S}}}",
        f"  # {_replicas_note(sketch, first.server)}",
        f"  - {{name: {_q(killed)}, kind: kill, service: {_q(first.server)}, count: 1, signal: SIGKILL, "
        f"at_s: {KILL_AT_S}, duration_s: {KILL_FOR_S}}}",
    ]
    return lines, [slow, killed]


def _replicas_note(sketch: Sketch, service: str) -> str:
    n = sketch.replicas.get(service, 1)
    if n > 1:
        return f"one of {service}'s {n} replicas is SIGKILLed (back at the revert); count/percent pick more."
    return (f"{service} has one replica: while it is killed, whatever needs it fails unless your stack copes "
            "(deploy.replicas: 2 gives it a twin).")


def _expectations(windows: list[str]) -> list[str]:
    lines = [
        "",
        "# What must hold, per window: baseline, fault:<name>, recovery:<name>, fault (every fault",
        "# window), run. Metrics: error_rate, p50_ms..p999_ms, max_ms, rps, requests. Set the bounds your",
        "# users need; pattern checks (check: timeout, retry, circuit_breaker, redundancy...) prove more.",
        "# An error_rate bound b holds only on at least 3/b requests in its window (else: inconclusive):",
        "# a tighter bound needs more users or a longer window.",
        "expectations:",
        '  - {name: steady baseline, window: baseline, metric: error_rate, "<": 0.01}',
    ]
    if len(windows) == 2:
        slow, killed = windows
        lines += [
            f'  - {{name: p99 bounded while slow, window: {_q("fault:" + slow)}, metric: p99_ms, "<": 1000}}',
            f'  - {{name: few errors while slow, window: {_q("fault:" + slow)}, metric: error_rate, "<": 0.05}}',
        ]
    else:
        killed = windows[0] if windows else None
    if killed:
        lines += [
            f'  - {{name: few errors while a replica is down, window: {_q("fault:" + killed)}, metric: error_rate, '
            '"<": 0.05}',
            f'  - {{name: recovered after the kill, window: {_q("recovery:" + killed)}, metric: error_rate, '
            '"<": 0.02}',
        ]
    return lines


def render_scenario(sketch: Sketch, compose_rel: str, name: str) -> str:
    """The starter scenario's YAML text.

    Args:
        sketch: what was found in the compose project (:func:`harness.starter.edges.sketch`).
        compose_rel: the compose file's path relative to the scenario file's directory.
        name: the scenario's ``name`` (see :func:`scenario_name`).

    Returns:
        YAML text (ends with a newline) that ``harness validate`` accepts.
    """
    proxies = proxy_lines(sketch)
    faults, windows = _faults(sketch, proxies)
    lines = [
        *_header(sketch, compose_rel, proxies),
        *_about(sketch, name, compose_rel, proxies),
        *_target(sketch, compose_rel),
        *_proxies(sketch, proxies),
        *_load(sketch),
        *_steady_state(),
        *faults,
        *_expectations(windows),
    ]
    return "\n".join(lines) + "\n"
