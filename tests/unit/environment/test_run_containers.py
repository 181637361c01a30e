"""harness.environment.containers.RunContainers: every action narrowed to the run's own containers
(the blast-radius guard), Docker errors turned into one EnvironmentFailure. Fakes at the edge: a
Docker SDK client with a few containers."""

from __future__ import annotations

from types import SimpleNamespace

import docker.errors
import pytest

from harness.environment.containers import SERVICE_LABEL, RunContainers
from harness.environment.labels import PROJECT_LABEL, RUN_LABEL
from harness.errors import EnvironmentFailure
from harness.faults import ContainerActions


class FakeContainer:
    def __init__(self, name: str, run_id: str | None, service: str, status: str = "running", pid: int = 4242):
        self.name = name
        self.status = status
        self.labels = {SERVICE_LABEL: service, PROJECT_LABEL: f"harness-{run_id}"}
        if run_id is not None:
            self.labels[RUN_LABEL] = run_id
        self.attrs = {"State": {"Pid": pid if status == "running" else 0}, "Image": f"sha256:{service}",
                      "NetworkSettings": {"Networks": {"a": {"IPAddress": "172.18.0.5"}, "b": {"IPAddress": ""}}}}
        self.signals: list[str] = []
        self.started = 0

    def kill(self, signal: str) -> None:
        self.signals.append(signal)

    def start(self) -> None:
        self.started += 1
        self.status = "running"


class FakeClient:
    def __init__(self, *containers: FakeContainer, fail: bool = False):
        self.by_name = {c.name: c for c in containers}
        self.fail = fail
        self.containers = SimpleNamespace(get=self.get, list=self.list)

    def get(self, name: str) -> FakeContainer:
        if self.fail:
            raise docker.errors.APIError("engine hung up")
        if name not in self.by_name:
            raise docker.errors.NotFound(f"no such container: {name}")
        return self.by_name[name]

    def list(self, all: bool, filters: dict) -> list[FakeContainer]:
        wanted = dict(label.split("=", 1) for label in filters["label"])
        return [c for c in self.by_name.values()
                if all or c.status == "running"
                if all_labels_match(c, wanted)]


def all_labels_match(container: FakeContainer, wanted: dict[str, str]) -> bool:
    return all(container.labels.get(k) == v for k, v in wanted.items())


def run_containers(*containers: FakeContainer, allow_toxiproxy: bool = False, fail: bool = False) -> RunContainers:
    return RunContainers(FakeClient(*containers, fail=fail), "harness-r1", "r1", "toxiproxy", allow_toxiproxy)  # type: ignore[arg-type]


def test_a_container_of_another_run_or_of_no_run_is_never_touched():
    other = FakeContainer("other-api-1", "r2", "api")
    stranger = FakeContainer("postgres", None, "db")
    containers = run_containers(other, stranger)
    for name in ("other-api-1", "postgres"):
        with pytest.raises(EnvironmentFailure, match=f"refusing to touch {name}: it does not carry {RUN_LABEL}=r1"):
            containers.kill(name, "SIGKILL")
    assert other.signals == [] and stranger.signals == []


def test_the_harness_toxiproxy_is_refused_unless_the_scenario_allows_it():
    proxy = FakeContainer("harness-r1-toxiproxy-1", "r1", "toxiproxy")
    with pytest.raises(EnvironmentFailure, match="allow_toxiproxy_faults"):
        run_containers(proxy).kill(proxy.name, "SIGKILL")
    assert proxy.signals == []
    assert run_containers(proxy).inspect(proxy.name) is proxy  # reading it is fine
    run_containers(proxy, allow_toxiproxy=True).kill(proxy.name, "SIGKILL")
    assert proxy.signals == ["SIGKILL"]


def test_actions_on_the_runs_own_containers():
    api = FakeContainer("harness-r1-api-1", "r1", "api")
    stopped = FakeContainer("harness-r1-api-2", "r1", "api", status="exited")
    containers = run_containers(api, stopped, FakeContainer("x-api-1", "r2", "api"))
    assert containers.running_containers("api") == ["harness-r1-api-1"]
    assert containers.containers_of("api") == ["harness-r1-api-1", "harness-r1-api-2"]
    assert containers.services() == ["api"]
    assert containers.ips(api.name) == ["172.18.0.5"]
    assert containers.pid(api.name) == 4242
    with pytest.raises(EnvironmentFailure, match="not running"):
        containers.pid(stopped.name)
    assert containers.start(api.name) is False and api.started == 0
    assert containers.start(stopped.name) is True and stopped.started == 1
    assert containers.image_ids() == {"api": "sha256:api"}


def test_engine_errors_become_one_environment_failure():
    with pytest.raises(EnvironmentFailure, match="docker: inspect harness-r1-api-1 failed: .*engine hung up"):
        run_containers(FakeContainer("harness-r1-api-1", "r1", "api"), fail=True).kill("harness-r1-api-1", "SIGKILL")


def test_run_containers_is_what_faults_act_through():
    """The run passes RunContainers where faults expect ContainerActions: every member the
    protocol names exists on it."""
    wanted = {name for name in vars(ContainerActions) if not name.startswith("_")} | set(
        ContainerActions.__annotations__)
    missing = [name for name in sorted(wanted) if not hasattr(run_containers(), name)]
    assert missing == []
