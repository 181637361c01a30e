"""``run_overhead_ratio``: what a whole ``harness run`` adds around its load, against Docker alone.

Both sides bring the sample shop (docker-compose.yml, warm images) up healthy and down again:

- harness: the wall time of ``harness run bench/scenarios/run_overhead.yaml`` (Python start,
  compose up, Toxiproxy proxies, health wait, the Locust child's start, 10 s of load, teardown,
  analysis and every report) minus the scenario's 10 s;
- Docker alone: ``docker compose up -d --wait`` + ``docker compose down -v --remove-orphans -t 3``
  (the flags the harness uses) on the same stack. The shop's api only turns healthy once
  Toxiproxy has its proxies, which the harness creates through the API; for compose alone,
  Toxiproxy starts with the same proxies from a ``-config`` file instead. The project is
  labelled with a run id like any run's, and swept if anything is left.

Measured in turns, compose first and last (``C H C H ... H C``, fifteen harness runs): each
harness run's overhead is divided by the mean of the two compose-alone runs just before and
after it (:func:`bench.common.ratios_to_neighbours`), which cancels a drift of the machine's
speed over the three runs (other engineers' benchmarks share it). The row is the median of
those ratios, and its samples are the ratios: with fifteen, the sign test's 90 % upper bound of
the median is the fifth largest (bench/confidence.py). The harness's side is broken down
from its journal; the load average at each run is kept beside it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import (OUR_RUN_IDS, SCENARIOS, SHOP_COMPOSE, SHOP_PROXIES, Row, harness_run, leftovers, loadavg,
                          log, ratios_to_neighbours)

LOAD_S = 10.0
HARNESS_RUNS = 15
"""Harness runs, each between two compose-alone runs: fifteen make the 90 % bound the fifth
largest ratio (eleven made it the third, seven the second: one ratio of a run the machine
slowed by a tenth then decided the row, docs/benchmarks.md). About 6 min."""
ORDER = "C" + "HC" * HARNESS_RUNS
GOAL = 1.15


def _compose_alone(work: Path) -> dict:
    """Time ``up -d --wait`` and ``down`` of the shop, labelled as a run project."""
    from harness.environment.compose import compose_command
    from harness.environment.containers import docker_client
    from harness.environment.labels import label_config
    from harness.environment.project import loopback_ports
    from harness.environment.stack import Stack, sweep
    from harness.journal import Journal
    from harness.run import new_run_id
    from harness.scenario.models import Target

    run_id = new_run_id()
    OUR_RUN_IDS.append(run_id)
    run_dir = work / f"compose-{run_id}"
    run_dir.mkdir(parents=True)
    target = Target(compose=SHOP_COMPOSE.name, profile="resilient")
    config = Stack(target, SHOP_COMPOSE.parent, run_id, run_dir, Journal(run_dir)).resolve()
    proxies = run_dir / "toxiproxy.json"
    proxies.write_text(json.dumps([{"name": n, "listen": listen, "upstream": up, "enabled": True}
                                   for n, listen, up in SHOP_PROXIES]))
    toxiproxy = config["services"]["toxiproxy"]
    toxiproxy["command"] = ["-host=0.0.0.0", "-config=/etc/toxiproxy.json"]
    toxiproxy["volumes"] = [*(toxiproxy.get("volumes") or []),
                            {"type": "bind", "source": str(proxies), "target": "/etc/toxiproxy.json", "read_only": True}]
    project = f"harness-{run_id}"
    config["name"] = project
    fd, name = tempfile.mkstemp(prefix=f"{project}-", suffix=".compose.json")
    with os.fdopen(fd, "w") as f:
        json.dump(label_config(loopback_ports(config), run_id), f)
    base = [*compose_command(), "-p", project, "-f", name]
    env = {**os.environ, "HARNESS_PROFILE": "resilient"}
    try:
        started = time.perf_counter()
        up = subprocess.run([*base, "up", "-d", "--wait"], capture_output=True, text=True, timeout=300, env=env)
        up_s = time.perf_counter() - started
        if up.returncode != 0:
            raise RuntimeError(f"compose up --wait failed: {up.stderr[-1500:]}")
        started = time.perf_counter()
        down = subprocess.run([*base, "down", "-v", "--remove-orphans", "-t", "3"], capture_output=True, text=True,
                              timeout=300, env=env)
        down_s = time.perf_counter() - started
        if down.returncode != 0:
            raise RuntimeError(f"compose down failed: {down.stderr[-1500:]}")
    finally:
        Path(name).unlink(missing_ok=True)
        if leftovers(run_id):
            sweep(docker_client(), run_id)
    return {"up_wait_s": round(up_s, 2), "down_s": round(down_s, 2), "total_s": round(up_s + down_s, 2),
            "run_id": run_id}


def _breakdown(result) -> dict:
    """Seconds between the journal's milestones of a harness run (process start to exit)."""
    events = {}
    for e in result.journal():
        events.setdefault(e["event"], e["t"])
    ended = result.started_at + result.wall_s
    marks = [("python start, imports, scenario", result.started_at, events.get("run.start")),
             ("compose up (until proxies)", events.get("stack.up"), events.get("proxy.create")),
             ("proxies + health wait", events.get("proxy.create"), events.get("stack.healthy")),
             ("locust child start", events.get("stack.healthy"), events.get("load.start")),
             ("load", events.get("load.start"), events.get("load.stop")),
             ("teardown (monitor, load, compose down)", events.get("load.stop"), events.get("stack.down")),
             ("of which until logs saved", events.get("load.stop"), events.get("logs.saved")),
             ("analysis + reports, exit", events.get("run.end"), ended)]
    return {label: round(b - a, 2) for label, a, b in marks if a is not None and b is not None}


def _ranges(runs: list[dict]) -> dict:
    """``[min, max]`` of each breakdown figure over the harness runs."""
    out: dict[str, list[float]] = {}
    for r in runs:
        for label, seconds in r.get("breakdown_s", {}).items():
            lo, hi = out.get(label, [seconds, seconds])
            out[label] = [min(lo, seconds), max(hi, seconds)]
    return out


def run(work: Path) -> list[Row]:
    """Interleave compose-alone and harness runs (``ORDER``); the row is the median of each harness
    run's overhead over the mean of its two compose neighbours, with those ratios as samples."""
    runs = []
    for i, kind in enumerate(ORDER):
        load1 = loadavg()[0]
        if kind == "C":
            figures = _compose_alone(work)
            runs.append({"kind": "compose", **figures, "cost_s": figures["total_s"], "load1": load1})
            log(f"run overhead: compose up --wait {figures['up_wait_s']} s + down {figures['down_s']} s "
                f"(load {load1:.2f})")
        else:
            result = harness_run(SCENARIOS / "run_overhead.yaml", work / f"run-overhead-{i}")
            if result.returncode != 0:
                raise RuntimeError(f"run_overhead run exited {result.returncode}: {result.report.get('error')}")
            overhead = result.wall_s - LOAD_S
            runs.append({"kind": "harness", "wall_s": round(result.wall_s, 2), "overhead_s": round(overhead, 2),
                         "cost_s": round(overhead, 2), "breakdown_s": _breakdown(result),
                         "run_id": result.report["run_id"], "load1": load1})
            log(f"run overhead: harness run {result.wall_s:.2f} s, {overhead:.2f} s besides the load (load {load1:.2f})")
    ratios = ratios_to_neighbours(runs, "kind", "harness", value="cost_s")
    harness = [r["cost_s"] for r in runs if r["kind"] == "harness"]
    compose = [r["cost_s"] for r in runs if r["kind"] == "compose"]
    detail = {"ratios": ratios, "pooled_ratio": round(statistics.mean(harness) / statistics.mean(compose), 3),
              "harness_overhead_s": {"mean": round(statistics.mean(harness), 2), "min": min(harness), "max": max(harness)},
              "compose_s": {"mean": round(statistics.mean(compose), 2), "min": min(compose), "max": max(compose)},
              "breakdown_ranges_s": _ranges(runs), "runs": runs}
    return [Row("run_overhead_ratio", round(statistics.median(ratios), 3), "<=", GOAL, "ratio", detail,
                samples=ratios)]
