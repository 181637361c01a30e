"""``report.json``: the versioned source of truth every other report is rendered from.

Version 1 contract: ``schema_version``, ``run_id``, ``seed``, ``scenario`` (name, sha256),
``status`` (passed | failed | inconclusive | measured | error | aborted | interrupted), ``started_at`` / ``ended_at``
(ISO-8601 UTC), ``timeline`` (one entry per inject and revert), ``windows`` (baseline, each
fault, each recovery, with their metrics), ``fault_effects`` (per fault occurrence: whether it
acted, and the evidence), ``expectations`` (name, held, observed, threshold, window, explanation,
inconclusive, evidence), ``container_logs`` (the saved container logs, linked by relative path),
``notes`` (an operator's notes, ``harness gameday``; absent from older reports: empty).
More fields are additive.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harness.analysis.containers import ServiceTelemetry
from harness.analysis.fault_effect import FaultEffect
from harness.analysis.metrics import WindowMetrics as Metrics
from harness.analysis.recovery import FaultSummary
from harness.analysis.series import RequestSeries, ServiceSeries
from harness.checks import ExpectationResult

REPORT_SCHEMA_VERSION = 1

Status = Literal["passed", "failed", "inconclusive", "measured", "error", "aborted", "interrupted"]
"""How a run ended (the rules: :func:`harness.report.status.decide_status`): ``passed`` every
expectation held on evidence; ``failed`` one did not; ``inconclusive`` nothing failed but some
verdict lacked its evidence (a fault that never took effect, a pattern signal that could not be
read, too few requests, a baseline that broke the steady state); ``measured`` a measurement run
(``mode: measure``) that judged nothing; ``error`` the harness or the environment failed, or
request records were lost; ``aborted`` an abort condition tripped; ``interrupted`` SIGINT/SIGTERM.
The ``error`` field says why for every status but ``passed``."""


class WindowReport(BaseModel):
    """One window: ``start_s``/``end_s`` are seconds from the load's start."""

    name: str
    kind: Literal["baseline", "fault", "recovery"]
    fault: str | None = None
    start_s: float
    end_s: float
    metrics: Metrics
    by_request: dict[str, Metrics] = Field(default_factory=dict)
    diagnosis: str | None = None
    containers: dict[str, ServiceTelemetry] = Field(default_factory=dict)


class TimelineEntry(BaseModel):
    """A fault inject or revert: when (UTC and seconds from load start) and what it touched."""

    at: str
    offset_s: float
    action: Literal["inject", "revert", "inject_failed", "revert_failed"]
    fault: str
    kind: str
    touched: list[str]
    error: str | None = None


class Note(BaseModel):
    """An operator's note (``harness gameday``'s ``note TEXT``, the journal's ``note`` event):
    when (UTC and seconds from the load's start, negative before it) and its ``text``."""

    at: str
    offset_s: float
    text: str


class Series(BaseModel):
    """Per-second series for plots: ``requests`` (throughput, errors by class, latency
    percentiles) and ``containers`` (CPU and memory per service)."""

    requests: RequestSeries = Field(default_factory=RequestSeries)
    containers: dict[str, ServiceSeries] = Field(default_factory=dict)


class SteadyStateReport(BaseModel):
    """The steady-state hypothesis: its ``limits`` (stated or derived from the baseline), and
    its verdicts on the baseline (``at_start``) and the last window (``at_end``)."""

    derived: bool
    limits: list[str]
    at_start: list[ExpectationResult] = Field(default_factory=list)
    at_end: list[ExpectationResult] = Field(default_factory=list)


class MatrixInfo(BaseModel):
    """The scenario's cell in the resiliency matrix, as its ``matrix:`` said
    (:class:`harness.scenario.matrix.MatrixTag`): the ``dependency`` (row), the ``failure_mode``
    (column) and the ``key`` expectation (None: the default). Read tolerantly (plain strings), so
    a report of a newer vocabulary still loads."""

    dependency: str
    failure_mode: str
    key: str | None = None


class ScenarioInfo(BaseModel):
    """The scenario that ran: its name, file path, sha256 of the file, and ``--set`` overrides;
    ``matrix``: its resiliency-matrix tag (None when untagged, and in reports written before
    the tag existed)."""

    name: str
    path: str
    sha256: str
    overrides: list[str] = Field(default_factory=list)
    profile: str | None = None
    matrix: MatrixInfo | None = None


class LoadWorker(BaseModel):
    """One Locust worker of a distributed load: ``index`` (Locust's), ``hostname``, ``remote``
    (joined with ``harness worker``, not started by the master), ``records`` it sent, its clock
    against the master's (``clock_offset_ms``: master minus worker, added to its timestamps;
    ``rtt_ms``: the best probe's round trip, twice the offset's uncertainty; ``clock_drift_ms``:
    how far the offset moved during the run, :mod:`harness.load.clock`) and ``lost_at_s``
    (seconds from the load's start) when the master stopped hearing it mid-run (its requests
    after its last batch are not recorded), else None."""

    index: int
    hostname: str | None = None
    remote: bool = False
    records: int = 0
    clock_offset_ms: float | None = None
    rtt_ms: float | None = None
    clock_drift_ms: float | None = None
    lost_at_s: float | None = None

    @classmethod
    def from_event(cls, worker: dict, t0: float | None) -> "LoadWorker":
        """From one entry of the load child's ``stopped.workers``; ``t0``: the load's start (epoch s)."""
        lost_t = worker.get("lost_t")
        return cls(**{k: worker.get(k) for k in ("index", "hostname", "clock_offset_ms", "rtt_ms", "clock_drift_ms")},
                   remote=bool(worker.get("remote")), records=int(worker.get("records") or 0),
                   lost_at_s=round(lost_t - t0, 3) if lost_t is not None and t0 is not None else None)


class LoadSummary(BaseModel):
    """Request counts: ``recorded`` by us, ``locust_requests`` by Locust's own stats (equal
    unless records were lost), and the load's duration in seconds.

    Also the load ``model``: ``closed`` (Locust users with think time) or ``open`` (a fixed
    arrival rate ``rate_rps``; our latencies run from each request's *intended* send time, so a
    stall shows instead of hiding), the ``client`` (``requests`` or ``fast``), and Locust's own
    percentiles over the whole load (``locust_p50_ms``, ``locust_p95_ms``, ``locust_p99_ms``):
    rounded into Locust's buckets and, in the open model, measured from the actual send. Set
    them beside ``totals`` (ours: exact nearest-rank percentiles of every record, see
    :mod:`harness.analysis.percentile`) to see both views. ``unsent``: open-model
    arrivals still queued when the load ended (never sent). ``worker_records``: records each
    Locust worker sent, by worker index (empty when one process ran the load); ``workers``: each
    worker's host, clock offset and loss (:class:`LoadWorker`). ``records``:
    records the load child wrote, and ``garbage_lines``: lines of its stream that were neither
    records nor events; when ``recorded``, ``records`` and ``locust_requests`` differ, or a line
    was garbled, the run's status is ``error``.
    """

    recorded: int
    locust_requests: int | None
    locust_failures: int | None
    duration_s: float | None
    host: str | None = None
    model: Literal["closed", "open"] | None = None
    rate_rps: float | None = None
    client: str | None = None
    locust_p50_ms: float | None = None
    locust_p95_ms: float | None = None
    locust_p99_ms: float | None = None
    unsent: int | None = None
    worker_records: dict[str, int] = Field(default_factory=dict)
    workers: list[LoadWorker] = Field(default_factory=list)
    records: int | None = None
    garbage_lines: int | None = None

    @staticmethod
    def stop_fields(stop: dict, t0: float | None = None) -> dict:
        """The fields this summary takes from the journal's ``load.stop`` record; ``t0``: the
        load's start (epoch s), for the workers' ``lost_at_s``."""
        keys = ("locust_requests", "locust_failures", "model", "rate_rps", "client", "locust_p50_ms",
                "locust_p95_ms", "locust_p99_ms", "unsent", "records", "garbage_lines")
        fields = {key: stop.get(key) for key in keys}
        fields["worker_records"] = {str(w["index"]): int(w["records"]) for w in stop.get("workers") or []}
        fields["workers"] = [LoadWorker.from_event(w, t0) for w in stop.get("workers") or []]
        return fields


class ContainerLog(BaseModel):
    """A container's log saved in the run directory before the stack came down
    (:mod:`harness.environment.logs`): ``path`` relative to the run directory (``logs/<name>.log``,
    the link the reports make), ``size_bytes`` of the file, ``truncated`` when only its end was
    kept (the file's first line says how much)."""

    container: str
    path: str = Field(pattern=r"^logs/[A-Za-z0-9_.-]+\.log$")
    size_bytes: int = Field(ge=0)
    truncated: bool = False


class Report(BaseModel):
    """The whole run report (see the module docstring). ``container_logs``: the containers'
    logs saved into ``logs/`` (empty when the stack never started); ``container_logs_failed``:
    containers whose logs could not be saved (the journal's ``logs.error`` says why)."""

    schema_version: int = REPORT_SCHEMA_VERSION
    run_id: str
    seed: int
    scenario: ScenarioInfo
    status: Status
    error: str | None = None
    started_at: str
    ended_at: str
    environment: dict[str, str | dict[str, str]] = Field(default_factory=dict)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    windows: list[WindowReport] = Field(default_factory=list)
    totals: Metrics | None = None
    load: LoadSummary | None = None
    steady_state: SteadyStateReport | None = None
    faults: list[FaultSummary] = Field(default_factory=list)
    fault_effects: list[FaultEffect] = Field(default_factory=list)
    expectations: list[ExpectationResult] = Field(default_factory=list)
    series: Series = Field(default_factory=Series)
    container_logs: list[ContainerLog] = Field(default_factory=list)
    container_logs_failed: list[str] = Field(default_factory=list)
