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


# -- network namespaces: nsenter here, or a helper container on a remote engine --------------


class FakeHelper:
    def __init__(self, exit_code: int, out: bytes, err: bytes):
        self.exit_code, self.out, self.err = exit_code, out, err
        self.calls: list[str] = []

    def start(self):
        self.calls.append("start")

    def wait(self, timeout):
        self.calls.append(f"wait {timeout}")
        return {"StatusCode": self.exit_code}

    def logs(self, stdout, stderr):
        return self.out if stdout else self.err

    def remove(self, force):
        self.calls.append(f"remove force={force}")


class HelperClient(FakeClient):
    def __init__(self, *containers, exit_code=0, out=b"-P INPUT ACCEPT\n", err=b"", missing_image=False):
        super().__init__(*containers)
        self.created: list[dict] = []
        self.helper = FakeHelper(exit_code, out, err)
        self.missing_image = missing_image
        self.containers.create = self.create

    def create(self, image, **kwargs):
        if self.missing_image:
            raise docker.errors.ImageNotFound(f"No such image: {image}")
        self.created.append({"image": image, **kwargs})
        return self.helper


class Recorder:
    def __init__(self):
        self.events: list[tuple[str, dict]] = []

    def record(self, event, t=None, **fields):
        self.events.append((event, fields))


def remote_containers(client, journal=None) -> RunContainers:
    from harness.environment.engine import Engine

    return RunContainers(client, "harness-r1", "r1", "toxiproxy", engine=Engine("tcp://10.0.0.5:2375", "DOCKER_HOST"),
                         journal=journal)  # type: ignore[arg-type]


def test_a_remote_engine_runs_iptables_in_a_labelled_helper_joined_to_the_namespace():
    api = FakeContainer("shop-api-1", "r1", "api")
    api.id = "c0ffee" * 10
    client, journal = HelperClient(api), Recorder()
    containers = remote_containers(client, journal)
    assert containers.address == "10.0.0.5"
    assert containers.netns_exec("shop-api-1", ["iptables", "-S"], timeout_s=4) == "-P INPUT ACCEPT\n"
    containers.netns_exec("shop-api-1", ["iptables", "-S"])
    (created, _) = client.created
    assert created == {"image": "harness/nettools:0.1", "command": ["iptables", "-S"],
                       "network_mode": f"container:{api.id}", "cap_add": ["NET_ADMIN"],
                       "labels": {RUN_LABEL: "r1", "harness.helper": "netns"}, "stdin_open": False, "tty": False}
    assert client.helper.calls[:3] == ["start", "wait 4", "remove force=True"]  # always removed
    assert journal.events == [("netns.path", {"container": "shop-api-1", "via": "helper",
                                              "image": "harness/nettools:0.1", "engine": "tcp://10.0.0.5:2375"})]


def test_a_helper_that_fails_or_an_image_that_is_missing_is_one_line():
    api = FakeContainer("shop-api-1", "r1", "api")
    api.id = "c0ffee" * 10
    client = HelperClient(api, exit_code=2, err=b"iptables: Bad rule (does a matching rule exist in that chain?).\n")
    with pytest.raises(EnvironmentFailure, match=r"^iptables -D INPUT .*failed: iptables: Bad rule"):
        remote_containers(client).netns_exec("shop-api-1", ["iptables", "-D", "INPUT"])
    assert client.helper.calls[-1] == "remove force=True"
    with pytest.raises(EnvironmentFailure, match=r"harness/nettools:0.1 is not on the engine; build it there"):
        remote_containers(HelperClient(api, missing_image=True)).netns_exec("shop-api-1", ["iptables", "-S"])
    stranger = FakeContainer("postgres", None, "db")
    client = HelperClient(stranger)
    with pytest.raises(EnvironmentFailure, match="refusing to touch postgres"):
        remote_containers(client).netns_exec("postgres", ["iptables", "-S"])
    assert client.created == []  # the guard comes first


def test_a_local_engine_still_enters_the_namespace_with_nsenter(monkeypatch):
    containers = run_containers(FakeContainer("shop-api-1", "r1", "api"))
    calls = []
    monkeypatch.setattr(containers, "nsenter_net", lambda name, argv, timeout_s=10: calls.append((name, argv)) or "ok")
    assert containers.netns_exec("shop-api-1", ["iptables", "-S"]) == "ok"
    assert calls == [("shop-api-1", ["iptables", "-S"])] and containers.address == "127.0.0.1"


class RecordingEngine:
    """An Engine whose ``client`` records what it was asked for."""

    def __init__(self):
        self.asked: list[tuple[float, dict]] = []

    def client(self, timeout, **extra):
        self.asked.append((timeout, extra))
        return SimpleNamespace(timeout=timeout, **extra)


def test_a_new_client_speaks_the_version_already_agreed_with_the_engine():
    """So that making it costs no GET /version round trip (Monitor, Watchdog)."""
    engine = RecordingEngine()
    client = SimpleNamespace(api=SimpleNamespace(api_version="1.50"))
    containers = RunContainers(client, "harness-r1", "r1", "toxiproxy", engine=engine)  # type: ignore[arg-type]
    containers.new_client(10.0, max_pool_size=64)
    assert engine.asked == [(10.0, {"version": "1.50", "max_pool_size": 64})]


def test_a_new_client_negotiates_itself_when_no_version_is_known():
    engine = RecordingEngine()
    containers = RunContainers(FakeClient(), "harness-r1", "r1", "toxiproxy", engine=engine)  # type: ignore[arg-type]
    containers.new_client(3.0)
    assert engine.asked == [(3.0, {})]
