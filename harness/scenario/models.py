"""Scenario format, version 1: typed, frozen pydantic models.

A scenario names a target stack, the Toxiproxy proxies on its edges, the load, the faults on a
timeline and the expectations to judge. Every model forbids unknown keys, so a typo is an error
with a suggestion, never a silently ignored setting. Times are seconds from the load's start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.scenario.checks import check_spec_types
from harness.scenario.checks.threshold import METRICS, Metric, Threshold  # noqa: F401  (re-exported for users)
from harness.scenario.faults import FaultSpec, fault_spec_types
from harness.scenario.matrix import MatrixTag

SCHEMA_VERSION = 1

WINDOW_KINDS = ("baseline", "fault", "recovery", "run")
"""Window selectors: ``baseline`` (before the first fault), ``fault`` (every fault window),
``recovery`` (every recovery window), ``run`` (the whole load), or one window by name:
``fault:<fault name>`` / ``recovery:<fault name>``."""

_NAME = r"^[A-Za-z0-9_.-]+$"


class CrossCheckError(ValueError):
    """Scenario-level problems found after the fields validated, each ``(dotted.path, message)``,
    so the loader can point each one at its own line."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in problems))
        self.problems = problems


class Model(BaseModel):
    """Base of every scenario model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Scrape(Model):
    """Scrape a service's Prometheus endpoint on every container during the load, so checks can
    see inside it (retries, breaker state, fallbacks). The host reaches the containers' IPs."""

    service: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    path: str = Field(default="/metrics", pattern=r"^/")
    every_s: float = Field(default=1.0, ge=0.2, le=60)


class Target(Model):
    """The system under test: a compose stack.

    Fields:
        compose: compose file, relative to the scenario file.
        profile: behaviour profile, exported to compose as ``HARNESS_PROFILE`` (our sample stack
            reads it as ``SHOP_PROFILE``; ``naive`` or ``resilient``). No rebuild needed.
        env: extra variables for compose interpolation.
        healthy_timeout_s: how long to wait for every container to be running and healthy.
        toxiproxy_service: the compose service running Toxiproxy.
        toxiproxy_port: its API port inside the container (8474 upstream default).
        toxiproxy_image: the image of the Toxiproxy the harness inserts for edge proxies
            (``proxies`` without ``listen``); the official release by default.
        scrape: Prometheus endpoints to sample during the load.
        allow_toxiproxy_faults: the Toxiproxy service is the harness's own instrument and no
            fault may target it unless this is true.
        publish_all_interfaces: ports are published on 127.0.0.1 only, whatever the compose
            file says, unless this is true. With a remote Docker engine they are published on
            its 0.0.0.0 (or ``HARNESS_PUBLISH_IP``) instead, since its loopback is out of
            reach (docs/remote-engine.md).
    """

    compose: str = "docker-compose.yml"
    profile: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    env: dict[str, str] = Field(default_factory=dict)
    healthy_timeout_s: float = Field(default=120, gt=0, le=3600)
    toxiproxy_service: str = "toxiproxy"
    toxiproxy_port: int = Field(default=8474, ge=1, le=65535)
    toxiproxy_image: str = Field(default="ghcr.io/shopify/toxiproxy:2.12.0", pattern=r"^\S+$")
    scrape: list[Scrape] = Field(default_factory=list)
    allow_toxiproxy_faults: bool = False
    publish_all_interfaces: bool = False

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        for key in env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
        return env


class Proxy(Model):
    """A Toxiproxy proxy created for the run, forwarding to ``upstream`` (``host:port``).

    Two kinds:
        * an **edge** (no ``listen``): ``upstream`` is the address the stack's clients already
          dial (a compose service name or network alias). The harness adds its own Toxiproxy to
          its copy of the compose project and moves that host name to it, so traffic to
          ``host:port`` goes through the proxy with no change to the app (docs/own-stack.md).
        * a **hand-wired** proxy (``listen`` given, ``0.0.0.0:PORT``): the compose file runs
          Toxiproxy itself (``target.toxiproxy_service``) and the app dials ``listen``.
    """

    name: str = Field(pattern=_NAME)
    listen: str | None = Field(default=None, pattern=r"^[^\s:]+:\d{1,5}$")
    upstream: str = Field(pattern=r"^[^\s:]+:\d{1,5}$")

    @property
    def is_edge(self) -> bool:
        """True when the harness inserts Toxiproxy on this edge (no ``listen`` given)."""
        return self.listen is None

    @property
    def upstream_host(self) -> str:
        """The host part of ``upstream``."""
        return self.upstream.rsplit(":", 1)[0]

    @property
    def upstream_port(self) -> int:
        """The port part of ``upstream``."""
        return int(self.upstream.rsplit(":", 1)[1])

    @property
    def listen_address(self) -> str:
        """Where Toxiproxy listens: ``listen``, or for an edge ``0.0.0.0:<upstream port>``
        (Toxiproxy answers on the moved host name at the port clients already dial)."""
        return self.listen or f"0.0.0.0:{self.upstream_port}"


class RequestSpec(Model):
    """One entry of the weighted request mix.

    ``path`` may hold ``{int:LOW:HIGH}`` placeholders, replaced per request by a seeded random
    integer in ``LOW..HIGH``. ``name`` groups requests in the report (default ``METHOD path``).
    ``headers`` may carry secrets as ``${env:NAME}`` (redacted from every report and log).
    ``ack_id`` + ``read_back`` mark a write whose acknowledged ids are read back after the
    load (``no_data_loss``): e.g. ``ack_id: id``, ``read_back: /orders/{id}``.
    """

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    path: str = Field(pattern=r"^/")
    headers: dict[str, str] = Field(default_factory=dict)
    ack_id: str | None = Field(default=None, description="JSON field of a 2xx answer holding the written id")
    read_back: str | None = Field(default=None, pattern=r"^/.*\{id\}", description="path to read an id back")
    name: str | None = None
    weight: int = Field(default=1, ge=1, le=1000)
    json_body: Any = Field(default=None, alias="json")

    @model_validator(mode="after")
    def _ack_pair(self) -> "RequestSpec":
        if (self.ack_id is None) != (self.read_back is None):
            raise ValueError("ack_id and read_back go together")
        return self

    @property
    def label(self) -> str:
        """The name this request is reported under."""
        return self.name or f"{self.method} {self.path}"


class Workers(Model):
    """Who runs the users: ``local`` Locust worker processes started on this machine and
    ``remote`` ones that join from other hosts (``harness worker --master HOST:PORT``, see
    docs/scale-out.md). Both 0: one process runs the load. With remote workers, the run waits up
    to ``join_timeout_s`` seconds for all of them (then ends in an error naming how many came)
    before the load starts; each worker's clock offset to the master is measured and corrected
    (:mod:`harness.load.clock`). A scenario may write ``workers: N`` for ``{local: N}``."""

    local: int = Field(default=0, ge=0, le=64)
    remote: int = Field(default=0, ge=0, le=256)
    join_timeout_s: float = Field(default=120, gt=0, le=3600)

    @property
    def total(self) -> int:
        """Local plus remote workers: 0 when one process runs the load."""
        return self.local + self.remote


class Load(Model):
    """The load Locust drives, in a child process.

    Fields:
        host: base URL. If its host is a compose service (``http://lb:8080``), the harness
            substitutes the loopback address that service's port is published on.
        users: concurrent Locust users (closed model); with ``rate_rps``, the most requests
            in flight at once.
        spawn_rate: users started per second.
        duration_s: load duration in seconds; faults must end within it.
        think_time_s: each user waits uniformly in ``[min, max]`` seconds between requests
            (closed model only).
        rate_rps: open model: requests are *scheduled* at this fixed arrival rate whatever the
            target does, and latency is measured from each request's intended send time, so a
            stall is not hidden (coordinated omission). Unset: closed model.
        request_timeout_s: client timeout; a request slower than this counts as a ``timeout``.
            It applies to a locustfile's users too, unless the locustfile sets its own: an
            ``HttpUser``'s requests that pass no ``timeout=`` get it, a ``FastHttpUser``'s
            ``network_timeout`` / ``connection_timeout`` become it (Locust's defaults: none and
            60 s); a user class with its own client is not covered.
        client: ``requests`` (Locust's HttpUser) or ``fast`` (FastHttpUser, geventhttpclient:
            several times cheaper per request, for high rates).
        workers: 0 runs Locust in one process; N >= 1 starts a Locust master plus N worker
            processes on this machine, and their records are merged; ``{local: N, remote: M}``
            also waits for M workers on other hosts (:class:`Workers`).
        master_bind: ``host:port`` the master listens on so that remote workers
            (``harness worker --master HOST:PORT``) can join; required with remote workers.
        requests: the weighted mix; or ``locustfile``: a path relative to the scenario.
    """

    host: str = Field(pattern=r"^https?://[^/\s]+")
    users: int = Field(default=10, ge=1, le=100_000)
    spawn_rate: float = Field(default=10, gt=0, le=100_000)
    duration_s: float = Field(gt=0, le=86_400)
    think_time_s: tuple[float, float] = (0.05, 0.15)
    rate_rps: float | None = Field(default=None, gt=0, le=1_000_000)
    request_timeout_s: float = Field(default=10, gt=0, le=3600)
    client: Literal["requests", "fast"] = "requests"
    workers: Workers = Field(default_factory=lambda: Workers())
    master_bind: str | None = Field(default=None, pattern=r"^[^\s:]+:\d{1,5}$")

    @field_validator("workers", mode="before")
    @classmethod
    def _workers_count(cls, value: Any) -> Any:
        """``workers: N`` is short for ``workers: {local: N}``."""
        return {"local": value} if isinstance(value, int) and not isinstance(value, bool) else value
    requests: list[RequestSpec] = Field(default_factory=list)
    locustfile: str | None = None

    @model_validator(mode="after")
    def _mix_or_locustfile(self) -> "Load":
        if bool(self.requests) == bool(self.locustfile):
            raise ValueError("give either a request mix (requests) or a locustfile, exactly one")
        if self.rate_rps is not None and self.locustfile:
            raise ValueError("rate_rps (open model) drives the request mix; a locustfile runs the closed model")
        low, high = self.think_time_s
        if not 0 <= low <= high:
            raise ValueError("think_time_s must be [min, max] with 0 <= min <= max")
        if self.workers.remote and not self.master_bind:
            raise ValueError("workers.remote needs master_bind: the host:port remote workers dial "
                             "(e.g. 0.0.0.0:5557, then harness worker --master THIS-HOST:5557 on each)")
        return self


_ABORT_TEXT = re.compile(
    r"^\s*(?P<metric>[a-z0-9_]+)\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+0-9.eE]+)\s*for\s+(?P<for_s>[0-9.]+)\s*s\s*$"
)


class AbortCondition(Model):
    """A live guard: when ``metric op value`` holds for ``for_s`` consecutive seconds, every fault
    is reverted and the run ends ``aborted`` (exit 4). Written ``"error_rate > 0.5 for 10 s"``
    or as a mapping. Metrics: ``error_rate`` and ``rps`` per whole second of load."""

    metric: Literal["error_rate", "rps"]
    operator: Literal["<", "<=", ">", ">="]
    value: float
    for_s: int = Field(default=5, ge=1, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            match = _ABORT_TEXT.match(data)
            if not match:
                raise ValueError(f"cannot read abort condition {data!r}; write it like 'error_rate > 0.5 for 10 s'")
            return {"metric": match["metric"], "operator": match["op"], "value": match["value"],
                    "for_s": int(float(match["for_s"]))}
        return data

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.value:g} for {self.for_s} s"


class AnalysisSettings(Model):
    """How windows and recovery are measured.

    Fields:
        recovery_grace_s: the recovery window starts this long after a revert (the transition
            itself is excluded from recovery verdicts).
        recovered_after_s: time to recover ends once this many consecutive seconds are within
            the steady state.
    """

    recovery_grace_s: float = Field(default=0, ge=0, le=3600)
    recovered_after_s: float = Field(default=3, gt=0, le=3600)


def _expectation_tag(data: Any) -> str:
    if isinstance(data, dict):
        return str(data.get("check", "threshold"))
    if isinstance(data, BaseModel):
        return str(getattr(data, "check", "threshold"))
    return "threshold"


def _expectation_union() -> Any:
    members = tuple(Annotated[t, Tag(t.model_fields["check"].default)] for t in check_spec_types())
    union = Union[members] if len(members) > 1 else members[0]  # type: ignore[valid-type]
    return Annotated[union, Discriminator(_expectation_tag)]


Expectation = _expectation_union()
"""One expectation: the registered check specs (:mod:`harness.scenario.checks`), discriminated
by ``check`` (default ``threshold``)."""


def _fault_union() -> Any:
    members = tuple(fault_spec_types())
    union = Union[members] if len(members) > 1 else members[0]  # type: ignore[valid-type]
    return Annotated[union, Field(discriminator="kind")]


FaultEntry = _fault_union()
"""One fault: the registered spec types (:mod:`harness.scenario.faults`), discriminated by ``kind``."""


class Scenario(Model):
    """A whole scenario file (format version 1).

    ``mode``: ``judge`` (default) judges ``expectations``, of which there must be at least one
    (a run that judges nothing cannot pass); ``measure`` is a measurement: the run reports its
    windows and ends ``measured`` (exit 0) whatever its expectations say.

    ``steady_state``: thresholds that say what normal is; checked on the baseline (if they fail
    there, the run is inconclusive: exit 5) and on the last window (failing there fails the run);
    also the yardstick of time to detect/recover (derived from the baseline when absent; their
    ``window`` is ignored). ``abort_when``: live guards (exit 4). ``analysis``: window settings.

    Validation beyond field types: fault names are unique; every proxy a fault uses is declared;
    faults end before the load does (they may overlap; this and the ``within_s`` rule below
    are not checked with the validation context ``{"schedule": False}``, a game day's, which
    ignores the faults' schedule); expectation windows name existing
    windows; a judged scenario has expectations; a ``within_s`` (failover, health_check) is
    shorter than every fault it judges (else the check could never fail); a ``matrix.key``
    names one of the expectations.
    """

    version: Literal[1] = SCHEMA_VERSION
    name: str = Field(pattern=_NAME, max_length=100)
    description: str = ""
    mode: Literal["judge", "measure"] = "judge"
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    target: Target = Field(default_factory=Target)
    proxies: list[Proxy] = Field(default_factory=list)
    load: Load
    faults: list[FaultEntry] = Field(default_factory=list)  # type: ignore[valid-type]
    steady_state: list[Threshold] = Field(default_factory=list)
    abort_when: list[AbortCondition] = Field(default_factory=list)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    expectations: list[Expectation] = Field(default_factory=list)  # type: ignore[valid-type]
    matrix: MatrixTag | None = None
    source_path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> "Scenario":
        # context {"schedule": False} (harness gameday: faults last from inject to revert):
        # the faults' schedule is not checked against the load's duration
        scheduled = not (info.context and info.context.get("schedule") is False)
        named = [
            f if f.name else f.model_copy(update={"name": f"{f.kind}-{i + 1}"}) for i, f in enumerate(self.faults)
        ]
        object.__setattr__(self, "faults", named)
        problems: list[tuple[str, str]] = []
        proxies = {p.name for p in self.proxies}
        if len(proxies) != len(self.proxies):
            problems.append(("proxies", "proxy names must be unique"))
        problems.extend(self._edge_conflicts())
        names = [f.name for f in named]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            second = [i for i, n in enumerate(names) if n == dup][1]
            problems.append((f"faults.{second}.name", f"fault name {dup!r} is used twice"))
        for i, fault in enumerate(named):
            for ref in fault.proxy_refs():
                if ref not in proxies:
                    known = ", ".join(sorted(proxies)) or "none declared"
                    problems.append((f"faults.{i}.proxy", f"unknown proxy {ref!r} (proxies: {known})"))
            end = fault.end_s
            if scheduled and end > self.load.duration_s:
                problems.append(
                    (f"faults.{i}.duration_s", f"fault ends at {end:g} s, after the load ends at {self.load.duration_s:g} s")
                )
        windows = set(WINDOW_KINDS) | {f"fault:{n}" for n in names} | {f"recovery:{n}" for n in names}
        if self.load.locustfile and self.source_path is not None:
            # relative to the scenario's directory, and may be anywhere (../locust/x.py): the run
            # passes it on resolved (harness.run), so it loads whatever the working directory
            locustfile = (self.base_dir.resolve() / self.load.locustfile).resolve()
            if not locustfile.is_file():
                problems.append(("load.locustfile", f"no such file: {locustfile}"))
        if self.mode == "judge" and not self.expectations:
            problems.append(("expectations", "a scenario judges at least one expectation (a run that judges nothing "
                             "cannot pass); add expectations, or set mode: measure for a measurement run"))
        problems.extend(self._unfalsifiable(named) if scheduled else [])
        problems.extend(self._matrix_key())
        labels = {r.label for r in self.load.requests}
        for i, exp in enumerate(self.expectations):
            if exp.window not in windows:
                problems.append(
                    (f"expectations.{i}.window", f"unknown window {exp.window!r} (one of: {', '.join(sorted(windows))})")
                )
            elif getattr(exp, "fault_windows_only", False) and not exp.window.startswith("fault"):
                problems.append((f"expectations.{i}.window", f"{exp.check} judges fault windows only: use fault or "
                                 "fault:<name>"))
            if exp.request is not None and self.load.requests and exp.request not in labels:
                problems.append((f"expectations.{i}.request", f"no request named {exp.request!r} in load.requests"))
        if problems:
            raise CrossCheckError(problems)
        return self

    def _edge_conflicts(self) -> list[tuple[str, str]]:
        """Edges one inserted Toxiproxy cannot serve: every moved host name resolves to the same
        container, so two edges on one port but different hosts would listen twice, and an edge
        on Toxiproxy's API port would shadow the API."""
        problems: list[tuple[str, str]] = []
        seen: dict[int, Proxy] = {}
        for i, proxy in enumerate(self.proxies):
            if not proxy.is_edge:
                continue
            port, first = proxy.upstream_port, seen.get(proxy.upstream_port)
            if port == self.target.toxiproxy_port:
                problems.append((f"proxies.{i}.upstream", f"port {port} is Toxiproxy's API port (target.toxiproxy_port); "
                                 "set target.toxiproxy_port to another port"))
            elif first is not None and first.upstream_host != proxy.upstream_host:
                problems.append((f"proxies.{i}.upstream", f"edges {first.upstream} and {proxy.upstream} share port "
                                 f"{port}; the inserted Toxiproxy can listen on it once (give one of them a listen and "
                                 "hand-wire it)"))
            elif first is not None:
                problems.append((f"proxies.{i}.upstream", f"edge {proxy.upstream} is already proxy {first.name!r}; "
                                 "one edge per host:port (faults on both names would act on one listener)"))
            seen.setdefault(port, proxy)
        return problems

    def _unfalsifiable(self, faults: list[FaultSpec]) -> list[tuple[str, str]]:
        """Expectations with a ``within_s`` at least as long as a fault they judge: symptoms
        that stop "within" the whole fault always do."""
        problems = []
        for i, exp in enumerate(self.expectations):
            within = getattr(exp, "within_s", None)
            if within is None:
                continue
            judged = [f for f in faults if exp.window in ("fault", f"fault:{f.name}")]
            short = [f for f in judged if within >= f.duration_s]
            if short:
                f = short[0]
                problems.append((f"expectations.{i}.within_s", f"within_s {within:g} is not shorter than fault "
                                 f"{f.name}'s duration_s {f.duration_s:g}: the check could never fail"))
        return problems

    def _matrix_key(self) -> list[tuple[str, str]]:
        """A ``matrix.key`` that names no expectation (the cell would have no key number)."""
        if self.matrix is None or self.matrix.key is None:
            return []
        labels = [exp.label for exp in self.expectations]
        if self.matrix.key in labels:
            return []
        known = ", ".join(repr(label) for label in labels) or "none"
        return [("matrix.key", f"no expectation is named {self.matrix.key!r} (expectations: {known})")]

    @property
    def fault_specs(self) -> list[FaultSpec]:
        """The faults, named, in timeline order."""
        return sorted(self.faults, key=lambda f: f.at_s)

    @property
    def base_dir(self) -> Path:
        """Directory relative paths resolve against (the scenario file's directory)."""
        return self.source_path.parent if self.source_path else Path.cwd()
