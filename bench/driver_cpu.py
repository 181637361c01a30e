"""``driver_cpu_per_request_ratio``: CPU per request of bare Locust ÷ the harness's load, at Locust's own limit.

What the driver costs is CPU: a load generator that spends more CPU per request sends fewer
requests from the same core. So both sides run the same user class flat out on one core
against a target that does not bottleneck, and the row compares the CPU seconds their load
processes spend per request:

- target: Debian's nginx (harness/static-nginx:0.1, images/static-nginx) with one worker process
  answering ``200 ok`` from memory, no access log, on the host's loopback (127.0.0.1:18490,
  bench/scenarios/compose/static-nginx.yml: host networking, so no docker-proxy and no veth
  pair on the path), pinned to CPU 0 (compose ``cpuset``). It costs a few tens of µs per
  request against the load's ~250 µs, so it idles part of its core and never sets the pace;
- user class: bench/scenarios/locustfiles/static_cpu.py, one FastHttpUser asking ``GET /`` with
  no think time; USERS users (enough to keep one core busy), spawned at SPAWN_RATE/s, DURATION_S s;
- bare: ``locust -f static_cpu.py --headless -u USERS -r SPAWN_RATE -t DURATION_S --host
  http://127.0.0.1:18490 --only-summary``, as a user runs it (no CSV writer);
- harness: ``harness run bench/scenarios/driver_cpu.yaml``: the whole run (orchestrator, the
  single-process load child with its record hook and stream, its own idle project,
  compose/idle.yml); the users run in the load child (harness/load/worker_local.py).

Both loads (the whole ``harness run``, the whole bare ``locust``) are pinned to CPU 1
(``taskset -c 1``): the load never shares a core with the target.

**The measurement is the same on both sides**: the locustfile's listeners on Locust's
``test_start`` and ``test_stop`` events take ``time.process_time()`` (user + system CPU
seconds of the process running the users, all threads) and Locust's request count, and write
them to the file named by ``BENCH_CPU_OUT``. Both bare ``locust --headless`` and the harness's
load child run the users in a Locust ``LocalRunner``, which fires ``test_start`` as it starts
spawning (``Runner._start``) and ``test_stop`` once its users have stopped (``Runner.stop``,
from ``quit()``: bare Locust's ``-t`` timer, the harness child's duration). So each side's
figure is the CPU of exactly its load (ramp, steady state, drain), without the interpreter's
start-up, imports and exit, in CPU seconds per 1,000 requests.

**Interleaved**: bare, harness, bare, ... bare (ORDER: 8 harness runs, each between two bare
runs; 9 bare runs), after an uncounted warm-up run. The machine's speed drifts (the same
request cost a worker 218-335 µs of CPU within two minutes, docs/benchmarks.md), and a drift
that is steady over three runs cancels when each harness run is compared with the mean of its
two bare neighbours (bench.common.ratios_to_neighbours). What is compared is requests per CPU
second (the absolute requests/s per core): harness ÷ bare neighbours' mean = bare's CPU per
request ÷ the harness's. The row is the median of the 8 ratios, and the ratios are its
``samples``: bench/confidence.py gives their spread and the sign-test lower bound of the
median at 90 % (the 2nd smallest of 8, 96.5 %), and the row holds only when that bound is
≥ 0.97.

Beside the row (``detail``): each run's CPU s per 1,000 requests, requests, failures and
requests per CPU second; the medians of both sides' requests/s per core next to Locust's own
documented figure (GOAL_SOURCE: "around 16000 requests per second using FastHttpUser" on a 2021
M1 MacBook Pro with Python 3.11, docs/scale-out.md); the harness child's whole-load CPU from its
``stopped`` event (a cross-check of the window); and the orchestrator's CPU during each load
(sampled from /proc every 0.2 s: reader thread, journal, progress), which is not in the row
(it runs in another process, not the one running the users) but is the harness's too, so a
second set of ratios counts it in: ``whole_harness_ratios``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.common import (LOCUSTFILES, SCENARIOS, Row, harness_run, locust_binary, log, pinned,
                          ratios_to_neighbours)

NAME = "driver_cpu_per_request_ratio"
GOAL = 0.97
COMPOSE = SCENARIOS / "compose" / "static-nginx.yml"
LOCUSTFILE = LOCUSTFILES / "static_cpu.py"
SCENARIO = SCENARIOS / "driver_cpu.yaml"
HOST = "http://127.0.0.1:18490"
USERS = 32
"""Users of the one process: enough that the process, not the round trip to nginx, is the limit
(its core is busy for the whole load)."""
SPAWN_RATE = 100
DURATION_S = 10.0
ORDER = "B" + "HB" * 8
"""8 harness runs, each between two bare ones: the fewest whose median has a sign-test bound
with one comparison to spare (the 2nd smallest of 8 at 96.5 %; of 4 only the smallest, at 93.75 %)."""
WARMUP_S = 5.0
"""An uncounted bare run first: the target's and the page cache's first touches."""
TARGET_CPUS = "0"
LOAD_CPUS = "1"
"""nginx runs on CPU 0 (compose/static-nginx.yml), both loads on CPU 1."""
LOCUST_DOCUMENTED = {
    "fast_http_user_rps_per_core": 16000, "http_user_rps_per_core": 4000,
    "tested_on": "2021 M1 MacBook Pro, Python 3.11",
    "source": "https://docs.locust.io/en/2.46.7/increase-performance.html",
}
"""Locust's documented figure for small requests in a ``while True`` loop, one process, as
docs/scale-out.md cites it ("around 16000 requests per second using FastHttpUser, and 4000
using HttpUser (tested on a 2021 M1 MacBook Pro and Python 3.11)")."""
CPU_OUT_ENV = "BENCH_CPU_OUT"


def wait_for_target(url: str = HOST, timeout_s: float = 30.0) -> None:
    """Wait until ``url`` answers 200 (the static target has no health check of its own).

    Raises:
        RuntimeError: no 200 within ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the static target at {url} did not answer 200 within {timeout_s:g} s")
        time.sleep(0.2)


def read_window(path: Path) -> dict:
    """The locustfile's measurement (``cpu_s``, ``wall_s``, ``requests``, ``failures`` between
    ``test_start`` and ``test_stop``).

    Raises:
        RuntimeError: the file is missing (the events did not fire) or counts no request.
    """
    if not path.exists():
        raise RuntimeError(f"no CPU measurement in {path}: test_start/test_stop did not fire")
    window = json.loads(path.read_text())
    if not window.get("requests") or not window.get("cpu_s"):
        raise RuntimeError(f"the load measured in {path} sent no request or used no CPU: {window}")
    return window


def per_request(kind: str, window: dict, **extra: object) -> dict:
    """A run's figures from its window: ``cpu_s_per_1000`` (CPU seconds per 1,000 requests,
    which is also ms per request), ``requests_per_cpu_s`` (requests/s per core: what one core
    would send at this cost) and ``core_busy`` (CPU s ÷ wall s of the window: 1.0 is a full core)."""
    cpu_s, requests = float(window["cpu_s"]), int(window["requests"])
    return {"kind": kind, "requests": requests, "failures": int(window.get("failures") or 0),
            "cpu_s": round(cpu_s, 3), "cpu_s_per_1000": round(1000 * cpu_s / requests, 4),
            "requests_per_cpu_s": round(requests / cpu_s, 1), "wall_s": round(float(window.get("wall_s") or 0), 3),
            "core_busy": round(cpu_s / float(window["wall_s"]), 3) if window.get("wall_s") else None, **extra}


def bare(work: Path, duration_s: float = DURATION_S) -> dict:
    """One bare ``locust --headless`` run of the locustfile for ``duration_s`` seconds (``-t``),
    pinned to LOAD_CPUS; its figures."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / "cpu.json"
    argv = [*pinned(LOAD_CPUS), locust_binary(), "-f", str(LOCUSTFILE), "--headless", "-u", str(USERS),
            "-r", str(SPAWN_RATE), "-t", f"{duration_s:g}s", "--host", HOST, "--only-summary",
            "--exit-code-on-error", "0", "--loglevel", "WARNING"]
    started = time.perf_counter()
    with (work / "locust.log").open("w") as logf:
        proc = subprocess.run(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=work,
                              env={**os.environ, CPU_OUT_ENV: str(out)}, timeout=duration_s + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"bare locust exited {proc.returncode}: {(work / 'locust.log').read_text()[-2000:]}")
    return per_request("bare", read_window(out), process_wall_s=round(time.perf_counter() - started, 2))


def harness(work: Path) -> dict:
    """One ``harness run`` of bench/scenarios/driver_cpu.yaml, pinned to LOAD_CPUS; its figures,
    with the load child's own ``cpu_s`` (its ``stopped`` event) and the orchestrator's CPU during
    the load."""
    out = work / "cpu.json"
    work.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get(CPU_OUT_ENV)
    os.environ[CPU_OUT_ENV] = str(out)  # harness_run passes the environment to the run, the run to its child
    try:
        result = harness_run(SCENARIO, work, cpus=LOAD_CPUS)
    finally:
        if previous is None:
            os.environ.pop(CPU_OUT_ENV, None)
        else:
            os.environ[CPU_OUT_ENV] = previous
    if result.returncode != 0:
        raise RuntimeError(f"harness run exited {result.returncode}: {result.report.get('error')}")
    load = result.report["load"]
    start, stop = result.event("load.start"), result.event("load.stop")
    window = read_window(out)
    return per_request("harness", window, recorded=load["recorded"], locust_requests=load["locust_requests"],
                       child_load_cpu_s=stop.get("cpu_s"),
                       orchestrator_cpu_s_during_load=result.orchestrator_cpu_s(start["t"], stop["t"]),
                       run_wall_s=round(result.wall_s, 2), run_id=result.report["run_id"])


def summarise(runs: list[dict]) -> Row:
    """The row from the interleaved runs (``kind`` ``bare``/``harness``, ``requests``,
    ``cpu_s``, ``requests_per_cpu_s``, and for harness runs optionally
    ``orchestrator_cpu_s_during_load``): median of the harness runs' requests per CPU second ÷
    their two bare neighbours' mean, with those ratios as the row's samples.

    Raises:
        ValueError: the runs do not alternate bare, harness, ..., bare.
    """
    ratios = ratios_to_neighbours(runs, "kind", "harness", value="requests_per_cpu_s")
    value = round(float(statistics.median(ratios)), 3)

    def side(kind: str) -> dict:
        mine = [r for r in runs if r["kind"] == kind]
        return {"runs": len(mine), "requests": sum(r["requests"] for r in mine),
                "cpu_s_per_1000_median": round(statistics.median(r["cpu_s_per_1000"] for r in mine), 4),
                "cpu_s_per_1000_pooled": round(1000 * sum(r["cpu_s"] for r in mine) / sum(r["requests"] for r in mine), 4),
                "requests_per_cpu_s_median": round(statistics.median(r["requests_per_cpu_s"] for r in mine), 1),
                "requests_per_cpu_s_range": [min(r["requests_per_cpu_s"] for r in mine),
                                             max(r["requests_per_cpu_s"] for r in mine)],
                "failures": sum(r["failures"] for r in mine)}

    bare_side, harness_side = side("bare"), side("harness")
    whole = [dict(r, requests_per_cpu_s=r["requests"] / (r["cpu_s"] + r["orchestrator_cpu_s_during_load"]))
             if r["kind"] == "harness" and r.get("orchestrator_cpu_s_during_load") is not None else r for r in runs]
    whole_ratios = (ratios_to_neighbours(whole, "kind", "harness", value="requests_per_cpu_s")
                    if all(r["kind"] == "bare" or r.get("orchestrator_cpu_s_during_load") is not None for r in runs)
                    else None)
    fast_doc = LOCUST_DOCUMENTED["fast_http_user_rps_per_core"]
    detail = {
        "what": "CPU s of the process running the users per 1,000 requests, bare Locust ÷ harness (each harness "
                "run against the mean of its two bare neighbours, as requests per CPU second); window test_start.."
                "test_stop, measured by the locustfile in both",
        "runs": runs, "ratios_to_neighbours": ratios,
        "pooled_ratio": round(bare_side["cpu_s_per_1000_pooled"] / harness_side["cpu_s_per_1000_pooled"], 3),
        "bare": bare_side, "harness": harness_side,
        "harness_extra_cpu_us_per_request": round(1000 * (harness_side["cpu_s_per_1000_pooled"]
                                                         - bare_side["cpu_s_per_1000_pooled"]), 1),
        "whole_harness_ratios": whole_ratios,
        "whole_harness_ratio_median": round(float(statistics.median(whole_ratios)), 3) if whole_ratios else None,
        "locust_documented": LOCUST_DOCUMENTED,
        "bare_share_of_documented_fast_http_user": round(bare_side["requests_per_cpu_s_median"] / fast_doc, 3),
        "harness_share_of_documented_fast_http_user": round(harness_side["requests_per_cpu_s_median"] / fast_doc, 3),
        "users": USERS, "spawn_rate": SPAWN_RATE, "duration_s": DURATION_S, "order": ORDER, "target": HOST,
        "target_cpus": TARGET_CPUS, "load_cpus": LOAD_CPUS,
    }
    return Row(NAME, value, ">=", GOAL, "ratio", detail, samples=ratios)


def target_cpuset() -> str | None:
    """The CPU set of the running static-nginx container (``docker inspect``), to record in detail."""
    ids = subprocess.run(["docker", "ps", "-q", "--filter", "ancestor=harness/static-nginx:0.1"], capture_output=True,
                         text=True, timeout=30).stdout.split()
    if not ids:
        return None
    return subprocess.run(["docker", "inspect", "-f", "{{.HostConfig.CpusetCpus}}", ids[0]], capture_output=True,
                          text=True, timeout=30).stdout.strip() or None


def run(work: Path) -> list[Row]:
    """The benchmark, with the static target already up (bench/run.py brings COMPOSE up)."""
    wait_for_target()
    cpuset = target_cpuset()
    warm = bare(work / "driver-cpu-warmup", WARMUP_S)
    log(f"driver cpu: warm-up {warm['requests_per_cpu_s']} requests per CPU-s; target pinned to CPUs {cpuset}")
    runs: list[dict] = []
    for i, kind in enumerate(ORDER):
        runs.append(bare(work / f"driver-cpu-bare-{i}") if kind == "B" else harness(work / f"driver-cpu-harness-{i}"))
        r = runs[-1]
        log(f"driver cpu: {r['kind']}: {r['requests']} requests, {r['cpu_s']} CPU-s: {r['cpu_s_per_1000']} CPU-s per "
            f"1,000, {r['requests_per_cpu_s']} requests per CPU-s (core {r['core_busy']} busy)")
    row = summarise(runs)
    row.detail["target_cpuset"] = cpuset
    row.detail["warmup"] = warm
    log(f"driver cpu: harness ÷ bare neighbours (requests per CPU-s) {row.samples}: median {row.value}; bare "
        f"{row.detail['bare']['requests_per_cpu_s_median']}, harness {row.detail['harness']['requests_per_cpu_s_median']} "
        f"requests per CPU-s (Locust documents ~{LOCUST_DOCUMENTED['fast_http_user_rps_per_core']} on an M1)")
    return [row]
