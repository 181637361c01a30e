"""Run every benchmark; write bench/results.json and bench/details.json; print the table.

    python -m bench.run                      # all of them (what `make bench` runs)
    python -m bench.run --only latency,onset # some; their rows are updated in results.json

Benchmarks print ratios and figures; they are not timed tests and never fail on speed. The exit
code is 1 only when a benchmark could not run at all (its row then has no value).

``results.json``: ``{name: {value, goal, unit, holds, statistic, n, spread, bound, confidence}}``
(bench/confidence.py: a row holds when its goal holds for its bound). ``details.json``: the machine, its
load while the benchmarks ran, and the figures behind each row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from bench import common
from bench.common import BENCH_DIR, REPO, Row, log
from bench.goals import ROWS

ORDER = ("hostile", "analysis", "stream", "workers", "remote", "latency", "onset", "driver_cpu", "run", "sweep")
"""Run order: the hostile-input and analysis benchmarks first (no Docker, CPU-bound: least
disturbed by our own stacks)."""


def _run_one(name: str, work: Path, stacks: ExitStack, shared: dict) -> list[Row]:
    def toxi():
        if "toxi" not in shared:
            log("bringing up the shared Toxiproxy stack")
            shared["toxi"] = stacks.enter_context(common.stack(common.TOXIPROXY_COMPOSE, work, toxiproxy_is_target=True,
                                                               proxies=(("api", "0.0.0.0:18474", "127.0.0.1:8474"),)))
        return shared["toxi"]

    if name == "hostile":
        from bench import hostile_input
        return hostile_input.run(work)
    if name == "analysis":
        from bench import analysis_5m
        return analysis_5m.run(work)
    if name == "stream":
        from bench import record_stream
        return record_stream.run(work)
    if name == "workers":
        from bench import workers_scaling
        log("bringing up the static target for the workers benchmark")
        with common.stack(common.STATIC_COMPOSE, work) as static:
            return workers_scaling.run(work, static)
    if name == "remote":
        from bench import remote_workers
        log("bringing up the static target for the remote workers benchmark")
        with common.stack(common.STATIC_COMPOSE, work):
            return remote_workers.run(work)
    if name == "latency":
        from bench import latency_accuracy
        return latency_accuracy.run(work, toxi())
    if name == "onset":
        from bench import fault_onset
        return fault_onset.run(work)
    if name == "driver_cpu":
        from bench import driver_cpu
        log("bringing up the static nginx target for the driver CPU benchmark")
        with common.stack(driver_cpu.COMPOSE, work):
            return driver_cpu.run(work)
    if name == "run":
        from bench import run_overhead
        return run_overhead.run(work)
    if name == "sweep":
        from bench import sweep_shared
        return sweep_shared.run(work)
    raise ValueError(name)


def _figure(value) -> str:
    """A row's number for the table: thousands separated, trailing zeros dropped."""
    return "error" if value is None else f"{value:,.3f}".rstrip("0").rstrip(".")


def table(rows: dict[str, dict]) -> str:
    """The printed table: each row's value, the spread of its samples, the bound its goal is
    judged on and at which confidence (bench/confidence.py), the goal and whether it holds."""
    lines = [f"{'benchmark':<32} {'value':>10} {'spread':>21} {'bound':>10} {'conf':>5} {'goal':>10} {'unit':<10} holds",
             f"{'-' * 32} {'-' * 10} {'-' * 21} {'-' * 10} {'-' * 5} {'-' * 10} {'-' * 10} -----"]
    for name in ROWS:
        r = rows.get(name)
        if r is None:
            continue
        spread = r.get("spread")
        spread_text = f"{_figure(spread[0])}..{_figure(spread[1])} (n={r.get('n')})" if spread else "–"
        bound = "–" if r.get("bound") is None else _figure(r["bound"])
        conf = f"{100 * r['confidence']:.0f}%" if r.get("confidence") else "–"
        lines.append(f"{name:<32} {_figure(r['value']):>10} {spread_text:>21} {bound:>10} {conf:>5} {r['goal']:>10} "
                     f"{r['unit']:<10} {'yes' if r['holds'] else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help=f"comma-separated benchmarks among: {', '.join(ORDER)}")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument("--work", type=Path, default=None, help="scratch directory (default build/bench/<time>)")
    args = parser.parse_args(argv)
    only = [o.strip() for o in args.only.split(",") if o.strip()] or list(ORDER)
    unknown = sorted(set(only) - set(ORDER))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose among {', '.join(ORDER)}")
    started = time.time()
    work = (args.work or REPO / "build" / "bench" / time.strftime("%Y%m%dT%H%M%S")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    log(f"benchmarks {', '.join(o for o in ORDER if o in only)}; scratch in {work}")
    results_path: Path = args.results
    details_path = results_path.with_name("details.json")
    results = json.loads(results_path.read_text()) if results_path.exists() and len(only) < len(ORDER) else {}
    details = json.loads(details_path.read_text()) if details_path.exists() and len(only) < len(ORDER) else {}
    details.setdefault("rows", {})
    failures = 0
    timings = {}
    machine = common.machine()
    with common.LoadSampler() as sampler, ExitStack() as stacks:
        shared: dict = {}
        for name in ORDER:
            if name not in only:
                continue
            t = time.perf_counter()
            try:
                rows = _run_one(name, work, stacks, shared)
            except Exception as exc:  # a benchmark that cannot run: its rows have no value
                failures += 1
                log(f"{name}: FAILED: {type(exc).__name__}: {exc}")
                traceback.print_exc()
                rows = [Row(row, None, op, goal, unit, {"error": f"{type(exc).__name__}: {exc}"})
                        for row, (bench, op, goal, unit) in ROWS.items() if bench == name]
            timings[name] = round(time.perf_counter() - t, 1)
            for row in rows:
                results[row.name] = row.result()
                details["rows"][row.name] = {**row.result(), "detail": row.detail}
                sure = row.sureness
                said = (f"; {sure.statistic} of {sure.n}, spread {sure.spread}, bound {sure.bound} at "
                        f"{100 * sure.confidence:.0f} %" if sure else "; no samples")
                log(f"{row.name}: {row.value} {row.unit}{said} (goal {row.op} {row.goal:g}): "
                    f"{'holds' if row.holds else 'does NOT hold'}")
    leaked = {run_id: left for run_id in common.OUR_RUN_IDS if (left := common.leftovers(run_id))}
    results = {name: results[name] for name in ROWS if name in results}
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    details.update({
        "ran_at": datetime.fromtimestamp(started, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(time.time() - started, 1),
        "benchmarks": {k: v for k, v in timings.items()},
        "machine": machine,
        "load_during_run": sampler.summary(),
        "left_behind": leaked,
    })
    details_path.write_text(json.dumps(details, indent=2) + "\n")
    print(table(results))
    print(f"\n{results_path.relative_to(REPO) if results_path.is_relative_to(REPO) else results_path} written in "
          f"{time.time() - started:.0f} s on {machine['nproc']} cores ({machine['cpu_model']}); load average "
          f"{details['load_during_run']['load1_min']}..{details['load_during_run']['load1_max']} during the run; "
          f"details in {details_path.name}")
    if leaked:
        print(f"error: Docker objects left behind: {leaked}", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
