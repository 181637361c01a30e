"""``driver_cpu_per_request_ratio``: CPU per request of bare Locust ÷ the harness's load, at Locust's own limit.

What the driver costs is CPU: a load generator that spends more CPU per request sends fewer
requests from the same core. So both sides run the same user class flat out against a target
that does not bottleneck, and the row compares the CPU seconds their load processes spend per
request:

- target: Debian's nginx (harness/static-nginx:0.1, images/static-nginx) with one worker process
  answering ``200 ok`` from memory, no access log, on the host's loopback (127.0.0.1:18490,
  bench/scenarios/compose/static-nginx.yml: host networking, so no docker-proxy and no veth
  pair on the path), pinned to CPU 0 (compose ``cpuset``). It costs a few tens of µs per
  request against the load's ~300 µs, so it idles part of its core and never sets the pace;
- user class: bench/scenarios/locustfiles/static_cpu.py, one FastHttpUser asking ``GET /`` with
  no think time; USERS users (enough that the process, not the round trip, is the limit);
- bare: ``locust -f static_cpu.py --headless -u USERS -r SPAWN_RATE -t DURATION_S --host
  http://127.0.0.1:18490 --only-summary``, as a user runs it (no CSV writer);
- harness: ``harness run bench/scenarios/driver_cpu.yaml`` (DURATION_S of load): the whole run
  (orchestrator, the single-process load child with its record hook and stream, its own idle
  project, compose/idle.yml); the users run in the load child (harness/load/worker_local.py).

Both (the whole ``harness run``, the whole bare ``locust``) are pinned to CPU 1 (``taskset -c
1``): the loads never share a core with the target.

**The same measurement on both sides.** The locustfile's listeners on Locust's ``test_start``
and ``test_stop`` events, and a greenlet between them, take snapshots every 0.25 s of
``time.process_time()`` (user + system CPU seconds of the process running the users) and
Locust's request count, and write them to the file named by ``BENCH_CPU_OUT``. Bare ``locust
--headless`` and the harness's load child both run the users in a Locust ``LocalRunner``, which
fires ``test_start`` as it starts spawning and ``test_stop`` once its users have stopped, so
the snapshots cover exactly the load, without the interpreter's start-up, imports and exit.
CPU per request is in CPU seconds per 1,000 requests (numerically ms per request).

**Paired, at the same time, on the same core** (PAIRS pairs, after an uncounted bare warm-up
run). The first design of this benchmark ran the two in turns (bare, harness, ... bare, 8
harness runs each against the mean of its two bare neighbours: bench.common.ratios_to_neighbours)
and could not resolve 3 %: on this shared 2-core VM the same process's CPU per request jumped
between about 0.30 and 0.40 ms from one 10 s run to the next (bimodal: the host's state, not
the load), so the 8 ratios spread over 0.83-1.08 and their 90 % bound was 0.88
(docs/benchmarks.md). A drift that is steady over three runs cancels against the neighbours; a
jump does not. So each pair now runs both loads at once, on the same core: the benchmark starts
``harness run`` and, as soon as its journal says ``stack.healthy``, bare ``locust``; the two
processes share CPU 1 (the scheduler gives each about half), and whatever the machine does
(its speed, other people's processes on that core, the host's jumps) it does to both. Each
pair's figures are taken over the same stretch of time: from LEAD_S after the later of the two
loads' first snapshot to TAIL_S before the earlier one's last (no ramp, no drain), each
process's CPU and requests between its snapshots at those bounds. Both processes are CPU-bound
for the whole stretch (always runnable: the core is the limit), which is "Locust's own limit"
for a core shared by two.

The pair's ratio is bare's CPU per request ÷ the harness's; the row is the median of the PAIRS
ratios, and the ratios are its ``samples``: bench/confidence.py gives their spread and the
sign-test lower bound of the median at 90 % (the 3rd smallest of 10, 94.5 %), and the row holds
only when that bound is ≥ 0.97.

Beside the row (``detail``): each pair's CPU s per 1,000 requests, requests, failures and
requests per CPU second (the absolute requests/s per core) of both sides; their medians next to
Locust's own documented figure (LOCUST_DOCUMENTED: "around 16000 requests per second using
FastHttpUser" on a 2021 M1 MacBook Pro with Python 3.11, as docs/scale-out.md cites it); the
warm-up run's rate (bare Locust alone on its core); and the orchestrator's CPU over each pair's
stretch (sampled from /proc every 0.2 s: reader thread, journal, progress). The orchestrator is
not in the row (it is another process, not the one running the users) but it is the harness's
too, so ``whole_harness_ratios`` counts it in.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import LOCUSTFILES, SCENARIOS, HarnessRun, Row, harness_run, locust_binary, log, pinned

NAME = "driver_cpu_per_request_ratio"
GOAL = 0.97
COMPOSE = SCENARIOS / "compose" / "static-nginx.yml"
LOCUSTFILE = LOCUSTFILES / "static_cpu.py"
SCENARIO = SCENARIOS / "driver_cpu.yaml"
HOST = "http://127.0.0.1:18490"
USERS = 32
"""Users of each process: enough that the process, not the round trip to nginx, is the limit."""
SPAWN_RATE = 100
DURATION_S = 12.0
"""Seconds of load on each side (bench/scenarios/driver_cpu.yaml says the same for the harness).
Bare ``locust -t`` loads about a second less than ``-t`` (its timer is armed on gevent's stale
loop clock) and starts within a second or two of the harness's load, so the two overlap ~8-10 s."""
PAIRS = 10
"""Pairs (samples of the median): with 10 the sign-test bound at 90 % is the 3rd smallest ratio."""
LEAD_S = 1.0
TAIL_S = 0.5
"""A pair's stretch starts LEAD_S after the later load's start and ends TAIL_S before the earlier
load's end: both loads are running at full tilt throughout (no ramp, no drain)."""
MIN_STRETCH_S = 4.0
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
    """The locustfile's measurement: ``snapshots`` ``[[epoch s, CPU s, requests, failures], ...]``
    and the totals ``cpu_s``, ``wall_s``, ``requests``, ``failures`` from ``test_start`` to ``test_stop``.

    Raises:
        RuntimeError: the file is missing (the events did not fire) or counts no request.
    """
    if not path.exists():
        raise RuntimeError(f"no CPU measurement in {path}: test_start/test_stop did not fire")
    window = json.loads(path.read_text())
    if not window.get("requests") or not window.get("cpu_s"):
        raise RuntimeError(f"the load measured in {path} sent no request or used no CPU: {window}")
    return window


def between(snapshots: list[list[float]], t0: float, t1: float) -> dict:
    """CPU seconds, requests, failures and seconds between the first snapshot at or after ``t0``
    and the last at or before ``t1`` (snapshots ``[epoch s, CPU s, requests, failures]`` in time order).

    Raises:
        RuntimeError: fewer than two snapshots in ``[t0, t1]``.
    """
    inside = [s for s in snapshots if t0 <= s[0] <= t1]
    if len(inside) < 2:
        raise RuntimeError(f"fewer than two snapshots between {t0:.2f} and {t1:.2f}")
    a, b = inside[0], inside[-1]
    return {"seconds": round(b[0] - a[0], 3), "cpu_s": round(b[1] - a[1], 4), "requests": int(b[2] - a[2]),
            "failures": int(b[3] - a[3])}


def stretch(one: list[list[float]], other: list[list[float]]) -> tuple[float, float]:
    """The stretch of time both loads ran at full tilt: LEAD_S after the later first snapshot to
    TAIL_S before the earlier last one (epoch seconds)."""
    return max(one[0][0], other[0][0]) + LEAD_S, min(one[-1][0], other[-1][0]) - TAIL_S


def per_request(side: dict) -> dict:
    """A side's figures with ``cpu_s_per_1000`` (CPU seconds per 1,000 requests, which is also
    ms per request), ``requests_per_cpu_s`` (requests/s per core: what one core would send at
    this cost) and ``core_share`` (CPU s ÷ seconds: the share of the core it had).

    Raises:
        RuntimeError: no request or no CPU in the stretch.
    """
    if side["requests"] <= 0 or side["cpu_s"] <= 0:
        raise RuntimeError(f"no request or no CPU in the stretch: {side}")
    return {**side, "cpu_s_per_1000": round(1000 * side["cpu_s"] / side["requests"], 4),
            "requests_per_cpu_s": round(side["requests"] / side["cpu_s"], 1),
            "core_share": round(side["cpu_s"] / side["seconds"], 3) if side["seconds"] else None}


def pair_figures(bare_window: dict, harness_window: dict, orchestrator_cpu_s=None) -> dict:
    """One pair from the two windows (:func:`read_window`): both sides over their common
    stretch, and ``ratio`` = bare's CPU per request ÷ the harness's. ``orchestrator_cpu_s`` is
    a function ``(t0, t1) -> CPU s | None`` of the harness's orchestrator over that stretch.

    Raises:
        RuntimeError: the loads overlapped less than MIN_STRETCH_S seconds.
    """
    t0, t1 = stretch(bare_window["snapshots"], harness_window["snapshots"])
    if t1 - t0 < MIN_STRETCH_S:
        raise RuntimeError(f"the two loads ran together for {max(0.0, t1 - t0):.1f} s only (< {MIN_STRETCH_S:g} s)")
    bare_side = per_request(between(bare_window["snapshots"], t0, t1))
    harness_side = per_request(between(harness_window["snapshots"], t0, t1))
    orchestrator = orchestrator_cpu_s(t0, t1) if orchestrator_cpu_s else None
    whole = (round(bare_side["cpu_s_per_1000"] / (1000 * (harness_side["cpu_s"] + orchestrator)
                                                  / harness_side["requests"]), 4)
             if orchestrator is not None else None)
    return {"stretch_s": round(t1 - t0, 2), "bare": bare_side, "harness": harness_side,
            "ratio": round(bare_side["cpu_s_per_1000"] / harness_side["cpu_s_per_1000"], 4),
            "orchestrator_cpu_s": orchestrator, "whole_harness_ratio": whole}


def summarise(pairs: list[dict]) -> Row:
    """The row from the pairs (:func:`pair_figures`): the median of their ratios (bare ÷
    harness CPU per request), with the ratios as its samples."""
    ratios = [p["ratio"] for p in pairs]
    value = round(float(statistics.median(ratios)), 3)

    def side(kind: str) -> dict:
        mine = [p[kind] for p in pairs]
        return {"requests": sum(s["requests"] for s in mine), "failures": sum(s["failures"] for s in mine),
                "cpu_s_per_1000_median": round(statistics.median(s["cpu_s_per_1000"] for s in mine), 4),
                "cpu_s_per_1000_pooled": round(1000 * sum(s["cpu_s"] for s in mine) / sum(s["requests"] for s in mine), 4),
                "requests_per_cpu_s_median": round(statistics.median(s["requests_per_cpu_s"] for s in mine), 1),
                "requests_per_cpu_s_range": [min(s["requests_per_cpu_s"] for s in mine),
                                             max(s["requests_per_cpu_s"] for s in mine)]}

    bare_side, harness_side = side("bare"), side("harness")
    whole = [p["whole_harness_ratio"] for p in pairs]
    fast_doc = LOCUST_DOCUMENTED["fast_http_user_rps_per_core"]
    detail = {
        "what": "CPU s of the process running the users per 1,000 requests, bare Locust ÷ harness, both loads at "
                "once on one core, over the same stretch of each pair; measured by the locustfile in both",
        "pairs": pairs, "ratios": ratios,
        "pooled_ratio": round(bare_side["cpu_s_per_1000_pooled"] / harness_side["cpu_s_per_1000_pooled"], 3),
        "bare": bare_side, "harness": harness_side,
        "harness_extra_cpu_us_per_request": round(1000 * (harness_side["cpu_s_per_1000_pooled"]
                                                         - bare_side["cpu_s_per_1000_pooled"]), 1),
        "whole_harness_ratios": whole if all(w is not None for w in whole) else None,
        "whole_harness_ratio_median": (round(float(statistics.median(whole)), 3)
                                       if whole and all(w is not None for w in whole) else None),
        "locust_documented": LOCUST_DOCUMENTED,
        "bare_share_of_documented_fast_http_user": round(bare_side["requests_per_cpu_s_median"] / fast_doc, 3),
        "harness_share_of_documented_fast_http_user": round(harness_side["requests_per_cpu_s_median"] / fast_doc, 3),
        "users": USERS, "spawn_rate": SPAWN_RATE, "duration_s": DURATION_S, "target": HOST,
        "target_cpus": TARGET_CPUS, "load_cpus": LOAD_CPUS,
    }
    return Row(NAME, value, ">=", GOAL, "ratio", detail, samples=ratios)


def bare(work: Path, duration_s: float = DURATION_S) -> tuple[dict, float]:
    """One bare ``locust --headless`` run of the locustfile for ``duration_s`` seconds (``-t``),
    pinned to LOAD_CPUS: its window (:func:`read_window`) and the process's wall time (s)."""
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
    return read_window(out), round(time.perf_counter() - started, 2)


def _stack_healthy(run_dir: Path) -> bool:
    """Whether ``run_dir/journal.jsonl`` holds the ``stack.healthy`` event yet (the load starts
    about 0.8 s later; bare ``locust`` takes 1-3 s to import, so both loads begin close together)."""
    try:
        return '"stack.healthy"' in (run_dir / "journal.jsonl").read_text(errors="replace")
    except OSError:
        return False


def pair(work: Path) -> dict:
    """One pair: ``harness run`` (in a thread) and, once its stack is healthy, bare ``locust``,
    both pinned to LOAD_CPUS; their figures over the common stretch (:func:`pair_figures`)."""
    harness_dir, bare_dir = work / "harness", work / "bare"
    harness_dir.mkdir(parents=True, exist_ok=True)
    harness_out = harness_dir / "cpu.json"
    outcome: dict = {}

    def run_harness() -> None:
        try:
            outcome["run"] = harness_run(SCENARIO, harness_dir, cpus=LOAD_CPUS)
        except Exception as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    os.environ[CPU_OUT_ENV] = str(harness_out)  # harness_run passes its environment to the run, the run to its child
    thread = threading.Thread(target=run_harness, name="harness-run", daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 90
        while not _stack_healthy(harness_dir) and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        bare_window, bare_wall = bare(bare_dir) if thread.is_alive() else (None, None)
        thread.join(timeout=DURATION_S + 120)
    finally:
        os.environ.pop(CPU_OUT_ENV, None)
    if "error" in outcome:
        raise outcome["error"]
    result: HarnessRun | None = outcome.get("run")
    if result is None or bare_window is None:
        raise RuntimeError(f"harness run ended before bare locust could start, or did not end: {outcome}")
    if result.returncode != 0:
        raise RuntimeError(f"harness run exited {result.returncode}: {result.report.get('error')}")
    figures = pair_figures(bare_window, read_window(harness_out), result.orchestrator_cpu_s)
    load = result.report["load"]
    figures["harness"].update(recorded=load["recorded"], locust_requests=load["locust_requests"],
                              run_id=result.report["run_id"], run_wall_s=round(result.wall_s, 2))
    figures["bare"]["process_wall_s"] = bare_wall
    return figures


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
    warm, _ = bare(work / "driver-cpu-warmup", WARMUP_S)
    alone = per_request(between(warm["snapshots"], warm["snapshots"][0][0] + LEAD_S, warm["snapshots"][-1][0] - TAIL_S))
    log(f"driver cpu: bare Locust alone (warm-up): {alone['requests_per_cpu_s']} requests per CPU-s, core "
        f"{alone['core_share']} busy; target pinned to CPUs {cpuset}")
    pairs = []
    for i in range(PAIRS):
        pairs.append(pair(work / f"driver-cpu-pair-{i}"))
        p = pairs[-1]
        log(f"driver cpu: pair {i}: over {p['stretch_s']} s, bare {p['bare']['cpu_s_per_1000']} and harness "
            f"{p['harness']['cpu_s_per_1000']} CPU-s per 1,000 requests ({p['bare']['requests_per_cpu_s']} / "
            f"{p['harness']['requests_per_cpu_s']} per CPU-s, core shares {p['bare']['core_share']} / "
            f"{p['harness']['core_share']}): ratio {p['ratio']}")
    row = summarise(pairs)
    row.detail.update(target_cpuset=cpuset, bare_alone_warmup=alone)
    log(f"driver cpu: bare ÷ harness CPU per request {row.samples}: median {row.value}; bare "
        f"{row.detail['bare']['requests_per_cpu_s_median']}, harness {row.detail['harness']['requests_per_cpu_s_median']} "
        f"requests per CPU-s (Locust documents ~{LOCUST_DOCUMENTED['fast_http_user_rps_per_core']} on an M1)")
    return [row]
