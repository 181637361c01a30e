"""Shared pieces of the benchmarks: result rows, labelled stacks, ``harness run`` and bare
``locust`` as subprocesses, the machine's description and its load while the benchmarks run.

Everything started in Docker carries the ``harness.run-id`` label: stacks come up through
:class:`harness.environment.Stack` (as the integration tests do) or through ``harness run``,
and each is checked to have left nothing behind.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SCENARIOS = BENCH_DIR / "scenarios"
LOCUSTFILES = SCENARIOS / "locustfiles"
TOXIPROXY_COMPOSE = SCENARIOS / "compose" / "toxiproxy.yml"
STATIC_COMPOSE = SCENARIOS / "compose" / "static.yml"
SHOP_COMPOSE = REPO / "docker-compose.yml"
SHOP_PROXIES = (("catalog", "0.0.0.0:18080", "catalog:8080"), ("redis", "0.0.0.0:16379", "redis:6379"))
"""The sample shop's proxies, as scenarios/quickstart.yaml declares them."""
RUN_LABEL = "harness.run-id"
OUR_RUN_IDS: list[str] = []
"""Run ids of every stack and run the benchmarks started (checked for leftovers at the end)."""


def log(message: str) -> None:
    """One progress line on stderr, with the time."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Row:
    """One benchmark figure and its goal (``value`` ``op`` ``goal``); ``detail`` holds the
    figures it was computed from (written to bench/details.json, not to results.json)."""

    name: str
    value: float | None
    op: str
    goal: float
    unit: str
    detail: dict = field(default_factory=dict)
    samples: list[float] | None = None
    """The repetitions ``value`` is a statistic of (None: a row that has not been given any)."""
    statistic: str = "median"
    """What ``value`` is of ``samples``: ``median`` or a percentile ``pNN`` (bench/confidence.py)."""

    @property
    def sureness(self):  # -> bench.confidence.Sureness | None
        """Spread and the bound at CONFIDENCE of the row's statistic (None without samples)."""
        from bench.confidence import sureness

        return sureness(self.samples, self.statistic, self.op) if self.samples else None

    @property
    def holds(self) -> bool:
        """The goal holds for the statistic's bound at CONFIDENCE (bench/confidence.py); a row
        without samples, or with too few for a bound, does not hold."""
        sure = self.sureness
        if self.value is None or sure is None or sure.bound is None:
            return False
        return sure.bound >= self.goal if self.op == ">=" else sure.bound <= self.goal

    def result(self) -> dict:
        """The row as results.json keeps it: value, goal, unit, holds and how sure it is."""
        sure = self.sureness
        return {"value": self.value, "goal": f"{self.op} {self.goal:g}", "unit": self.unit, "holds": self.holds,
                **(sure.as_dict() if sure else {"statistic": None, "n": 0, "spread": None, "bound": None,
                                                "confidence": 0.0})}


# -- Docker objects of our runs --------------------------------------------------------------

def leftovers(run_id: str) -> list[str]:
    """Containers, networks and volumes still labelled with ``run_id`` (empty when clean)."""
    out = []
    for kind in (["ps", "-aq"], ["network", "ls", "-q"], ["volume", "ls", "-q"]):
        proc = subprocess.run(["docker", *kind, "--filter", f"label={RUN_LABEL}={run_id}"], capture_output=True,
                              text=True, timeout=30)
        out += proc.stdout.split()
    return out


def labelled_containers() -> set[str]:
    """Ids of every container carrying the run label (ours and other people's runs)."""
    proc = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}"], capture_output=True, text=True,
                          timeout=30)
    return set(proc.stdout.split())


@dataclass
class StackHandle:
    """A stack the benchmark brought up (labelled with ``run_id``)."""

    stack: object
    run_id: str
    toxiproxy: object | None

    def url(self, service: str, port: int) -> str:
        """``http://127.0.0.1:<published port>`` of a service's container port."""
        return f"http://127.0.0.1:{self.stack.containers.published_port(service, port)}"  # type: ignore[attr-defined]


@contextmanager
def stack(compose: Path, work: Path, proxies: tuple[tuple[str, str, str], ...] = (), profile: str | None = None,
          toxiproxy_is_target: bool = False) -> Iterator[StackHandle]:
    """Bring up ``compose`` as a labelled run project (``harness-<run id>``), create ``proxies``
    (``(name, listen, upstream)``) through Toxiproxy's API, wait until healthy; always bring it
    down at the end and check that nothing labelled with its run id is left."""
    from harness.environment import Stack
    from harness.journal import Journal
    from harness.run import new_run_id
    from harness.scenario.models import Target
    from harness.toxiproxy import ProxyConfig, ToxiproxyClient

    run_id = new_run_id()
    OUR_RUN_IDS.append(run_id)
    run_dir = work / f"stack-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    target = Target(compose=compose.name, profile=profile, allow_toxiproxy_faults=toxiproxy_is_target,
                    healthy_timeout_s=120)
    handle = None
    the_stack = Stack(target, compose.parent, run_id, run_dir, Journal(run_dir))
    try:
        the_stack.up()
        client = None
        if proxies or toxiproxy_is_target:
            client = ToxiproxyClient(f"http://127.0.0.1:{the_stack.containers.published_port('toxiproxy', 8474)}")
            client.wait_ready(60)
            for name, listen, upstream in proxies:
                client.create_proxy(ProxyConfig(name, listen, upstream))
        the_stack.wait_healthy(120)
        handle = StackHandle(the_stack, run_id, client)
        yield handle
    finally:
        the_stack.down()
        left = leftovers(run_id)
        if left:
            raise RuntimeError(f"stack {run_id} left {left} behind")


# -- harness run and bare locust ---------------------------------------------------------------

@dataclass
class HarnessRun:
    """One ``harness run``: exit code, wall time (s), report.json, the run directory."""

    returncode: int
    wall_s: float
    report: dict
    run_dir: Path
    stderr: str
    started_at: float
    """Epoch seconds when the process was started."""
    cpu_s: float
    """CPU seconds of the harness process and every process it waited for."""
    own_cpu: list[tuple[float, float]] = field(default_factory=list)
    """Samples (epoch s, CPU s) of the harness process itself (the orchestrator), every 0.2 s."""

    def orchestrator_cpu_s(self, t0: float, t1: float) -> float | None:
        """CPU seconds the orchestrator process itself used between two sampled times."""
        inside = [c for t, c in self.own_cpu if t0 <= t <= t1]
        return round(inside[-1] - inside[0], 3) if len(inside) >= 2 else None

    def journal(self) -> list[dict]:
        return [json.loads(line) for line in (self.run_dir / "journal.jsonl").read_text().splitlines() if line.strip()]

    def event(self, name: str) -> dict:
        return next(e for e in self.journal() if e["event"] == name)

    def window(self, name: str) -> dict:
        return next(w for w in self.report["windows"] if w["name"] == name)


def pinned(cpus: str | None) -> list[str]:
    """The argv prefix that runs a command on ``cpus`` only (``taskset -c``), or nothing."""
    return ["taskset", "-c", cpus] if cpus else []


def harness_run(scenario: Path, out: Path, *overrides: str, timeout_s: float = 600, cpus: str | None = None) -> HarnessRun:
    """``harness run SCENARIO --out OUT [--set ...]`` in a child process; raises if it left
    anything labelled behind or wrote no report. ``cpu_s`` is the CPU time of the harness and
    every process it waited for (its load child, the Locust workers, compose). ``cpus``
    (``taskset -c`` syntax) pins the harness and every process it starts to those CPUs."""
    args = [a for o in overrides for a in ("--set", o)]
    out.mkdir(parents=True, exist_ok=True)
    started_at = time.time()
    started = time.perf_counter()
    with (out / "bench-harness.out").open("w") as stdout, (out / "bench-harness.err").open("w") as stderr:
        proc = subprocess.Popen([*pinned(cpus), sys.executable, "-m", "harness", "run", str(scenario), "--out", str(out), *args],
                                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=REPO,
                                env={**os.environ, "COLUMNS": "120"})
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        own_cpu: list[tuple[float, float]] = []  # (time, CPU s of the harness process itself, threads included)
        sampler = threading.Thread(target=_sample_process_cpu, args=(proc.pid, own_cpu), daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    err = (out / "bench-harness.err").read_text(errors="replace")
    report_path = out / "report.json"
    if not report_path.exists():
        raise RuntimeError(f"harness run {scenario.name} wrote no report (exit {proc.returncode}): {err[-2000:]}")
    report = json.loads(report_path.read_text())
    OUR_RUN_IDS.append(report["run_id"])
    left = leftovers(report["run_id"])
    if left:
        raise RuntimeError(f"harness run {report['run_id']} left {left} behind")
    return HarnessRun(proc.returncode, wall, report, out, err, started_at, usage.ru_utime + usage.ru_stime, own_cpu)


def _sample_process_cpu(pid: int, samples: list[tuple[float, float]], every_s: float = 0.2) -> None:
    """Append (time, user + system CPU seconds) of process ``pid`` until it is gone."""
    path = Path(f"/proc/{pid}/stat")
    tick = os.sysconf("SC_CLK_TCK")
    while True:
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return
        if fields[0] == "Z":  # exited, not reaped yet
            return
        samples.append((time.time(), (int(fields[11]) + int(fields[12])) / tick))
        time.sleep(every_s)


def locust_binary() -> str:
    """The ``locust`` console script next to this Python (the venv's)."""
    candidate = Path(sys.executable).parent / "locust"
    return str(candidate) if candidate.exists() else "locust"


@dataclass
class BareLocust:
    """One bare ``locust --headless`` run: its own CSV totals, and its process's CPU time."""

    requests: int
    failures: int
    duration_s: float
    locust_rps: float
    """Locust's own requests/s: its count over the time from its first to its last request."""
    wall_s: float
    cpu_s: float
    percentiles_ms: dict[str, float | None]
    rows: list[dict]

    @property
    def measured_s(self) -> float:
        """How long the load really ran by Locust's own account (``-t`` ends it early by
        about the process's start-up time)."""
        return self.requests / self.locust_rps if self.locust_rps else 0.0


def bare_locust(locustfile: Path, host: str, users: int, spawn_rate: float, duration_s: float, out: Path,
                extra: tuple[str, ...] = (), cpus: str | None = None) -> BareLocust:
    """``locust -f LOCUSTFILE --headless -u USERS -r RATE -t DURATION --host HOST --csv OUT/locust``,
    pinned to ``cpus`` (``taskset -c`` syntax) when given."""
    out.mkdir(parents=True, exist_ok=True)
    prefix = out / "locust"
    argv = [*pinned(cpus), locust_binary(), "-f", str(locustfile), "--headless", "-u", str(users), "-r", str(spawn_rate),
            "-t", f"{duration_s:g}s", "--host", host, "--csv", str(prefix), "--only-summary",
            "--exit-code-on-error", "0", "--loglevel", "WARNING", *extra]
    started = time.perf_counter()
    with (out / "locust.log").open("w") as logf:
        proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=out)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"bare locust exited {proc.returncode}: {(out / 'locust.log').read_text()[-2000:]}")
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    total = next(r for r in rows if r["Name"] == "Aggregated")

    def num(key: str) -> float | None:
        value = total.get(key)
        return None if value in (None, "", "N/A") else float(value)

    return BareLocust(
        requests=int(total["Request Count"]), failures=int(total["Failure Count"]), duration_s=duration_s,
        locust_rps=num("Requests/s") or 0.0, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
        percentiles_ms={"p50": num("50%"), "p95": num("95%"), "p99": num("99%"), "median": num("Median Response Time")},
        rows=rows)


def ratios_to_neighbours(runs: list[dict], key: str, measured: object, value: str = "rps") -> list[float]:
    """For each run whose ``key`` is ``measured``, its ``value`` divided by the mean of the runs
    just before and after it (rounded to 3 places). The runs must alternate, starting and ending
    with a reference run (``ABAB...A``): the neighbours' mean cancels a drift of the machine's
    speed that is steady over the three runs, where one neighbour would not
    (docs/benchmarks.md, driver row).

    Raises:
        ValueError: a measured run lacks a reference run on either side.
    """
    out = []
    for i, run in enumerate(runs):
        if run[key] != measured:
            continue
        if i == 0 or i == len(runs) - 1 or measured in (runs[i - 1][key], runs[i + 1][key]):
            raise ValueError(f"run {i} ({measured}) is not between two reference runs")
        out.append(round(run[value] / ((runs[i - 1][value] + runs[i + 1][value]) / 2), 3))
    return out


# -- the machine -------------------------------------------------------------------------------

def machine() -> dict:
    """What the benchmarks ran on: cores, memory, CPU model, kernel, versions, containers."""
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()

    def version(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "free_h": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "locust": version([locust_binary(), "--version"]),
        "docker": version(["docker", "version", "--format", "{{.Server.Version}}"]),
        "containers_running_at_start": len(subprocess.run(["docker", "ps", "-q"], capture_output=True,
                                                         text=True).stdout.split()),
    }


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class LoadSampler:
    """Samples the 1-minute load average and the number of running containers every
    ``every_s`` seconds in a thread, so the document can say how busy the machine was."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)
        self._busy0 = cpu_busy()

    def _run(self) -> None:
        while True:
            try:
                containers = len(subprocess.run(["docker", "ps", "-q"], capture_output=True, text=True,
                                                timeout=10).stdout.split())
            except (OSError, subprocess.TimeoutExpired):
                containers = -1
            self.samples.append((time.time(), loadavg()[0], containers))
            if self._stop.wait(self.every_s):
                return

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        busy1 = cpu_busy()
        self.busy_pct = round(100 * (busy1[0] - self._busy0[0]) / max(1, busy1[1] - self._busy0[1]), 1)

    def summary(self) -> dict:
        loads = [s[1] for s in self.samples] or [0.0]
        containers = [s[2] for s in self.samples if s[2] >= 0] or [0]
        return {"load1_min": min(loads), "load1_mean": round(sum(loads) / len(loads), 2), "load1_max": max(loads),
                "containers_min": min(containers), "containers_max": max(containers),
                "cpu_busy_pct": getattr(self, "busy_pct", None), "samples": len(self.samples)}


def container_cpu_reader(container_id: str):
    """A function returning the CPU seconds a container has used so far, read from its cgroup
    (v1 ``cpuacct.usage`` or v2 ``cpu.stat``), or None when neither file is there."""
    candidates = [Path(f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage"),
                  Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat"),
                  Path(f"/sys/fs/cgroup/docker/{container_id}/cpu.stat")]
    for path in candidates:
        if path.exists():
            if path.name == "cpuacct.usage":
                return lambda: int(path.read_text()) / 1e9
            return lambda: next(int(line.split()[1]) for line in path.read_text().splitlines()
                                if line.startswith("usage_usec")) / 1e6
    return None


class CpuSampler:
    """Samples, every ``every_s`` in a thread, the machine's busy and total CPU time (all
    cores, seconds) and optionally one container's CPU seconds, so that a stretch of time
    (a load, between its journal's load.start and load.stop) can be accounted for."""

    def __init__(self, container_cpu=None, every_s: float = 0.25) -> None:
        self.container_cpu = container_cpu
        self.every_s = every_s
        self.samples: list[tuple[float, float, float, float | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self.tick_s = 1 / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> None:
        busy, total = cpu_busy()
        self.samples.append((time.time(), busy * self.tick_s, total * self.tick_s,
                             self.container_cpu() if self.container_cpu else None))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.every_s)

    def __enter__(self) -> "CpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def between(self, t0: float, t1: float) -> dict:
        """Busy and total machine CPU seconds, and the container's, between the first sample at
        or after ``t0`` and the last at or before ``t1``."""
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return {}
        a, b = inside[0], inside[-1]
        out = {"seconds": round(b[0] - a[0], 2), "machine_busy_cpu_s": round(b[1] - a[1], 2),
               "machine_cpu_s": round(b[2] - a[2], 2)}
        if a[3] is not None and b[3] is not None:
            out["container_cpu_s"] = round(b[3] - a[3], 3)
        return out


def fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")
