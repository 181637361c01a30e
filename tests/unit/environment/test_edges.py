"""The run's copy of a user's compose project: Toxiproxy inserted on the edges, names moved,
references followed, the user's config otherwise untouched (harness.environment.edges,
project, own_stack). Pure functions on hand-made resolved configs; no Docker."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from harness.environment.edges import CONFIG_TARGET, edge_problems, insert_toxiproxy, owner_of
from harness.environment.labels import INSERTED_LABEL, RUN_LABEL, SERVICE_KEY_LABEL
from harness.environment.own_stack import load_target, stack_problems
from harness.environment.project import CopyOptions, edges_of, make_copy, publish_port
from harness.scenario.models import Proxy


def user_config() -> dict:
    """A resolved compose config as ``compose config --format json`` gives it."""
    return {
        "name": "shop",
        "services": {
            "web": {"image": "nginx", "networks": {"front": None, "back": None},
                    "ports": [{"mode": "ingress", "target": 8080, "published": "8080", "protocol": "tcp"}],
                    "depends_on": {"api": {"condition": "service_healthy", "required": True}}},
            "api": {"image": "api", "deploy": {"replicas": 3}, "networks": {"back": None, "data": None},
                    "depends_on": {"db": {"condition": "service_started", "required": True}},
                    "healthcheck": {"test": ["CMD", "true"]}},
            "db": {"image": "postgres", "networks": {"data": {"aliases": ["pg.internal", "db-primary"]}}},
            "worker": {"image": "api", "network_mode": "service:api", "volumes_from": ["api:ro"],
                       "links": ["db"]},
            "job": {"image": "api", "depends_on": ["api"]},
        },
        "networks": {"front": {"name": "shop_front"}, "back": {"name": "shop_back"}, "data": {"name": "shop_data"}},
    }


def insert(config: dict, *proxies: Proxy):
    return insert_toxiproxy(config, proxies, service="toxiproxy", image="toxiproxy:test", api_port=8474,
                            config_file=Path("/run/toxiproxy-edges.json"))


def test_a_dialled_service_name_moves_to_toxiproxy_on_every_network_of_the_service():
    config = user_config()
    plan = insert(config, Proxy(name="api", upstream="api:8080"))
    services = config["services"]
    assert "api" not in services and plan.renamed == {"api": "api-upstream"}
    assert services["api-upstream"]["deploy"] == {"replicas": 3}  # replicas kept
    assert services["api-upstream"]["labels"][SERVICE_KEY_LABEL] == "api"  # the scenario's name still finds it
    assert services["toxiproxy"]["networks"] == {"back": {"aliases": ["api"]}, "data": {"aliases": ["api"]}}
    assert plan.upstreams == {"api": "api-upstream:8080"}
    assert plan.proxies == [{"name": "api", "listen": "0.0.0.0:8080", "upstream": "api-upstream:8080", "enabled": True}]


def test_references_to_a_renamed_service_follow_it():
    config = user_config()
    insert(config, Proxy(name="api", upstream="api:8080"))
    services = config["services"]
    assert services["web"]["depends_on"]["api-upstream"] == {"condition": "service_healthy", "required": True}
    assert "api" not in services["web"]["depends_on"]
    assert services["worker"]["network_mode"] == "service:api-upstream"
    assert services["worker"]["volumes_from"] == ["api-upstream:ro"]
    assert "api-upstream" in services["job"]["depends_on"]


def test_clients_of_a_moved_service_also_wait_for_toxiproxy():
    config = user_config()
    insert(config, Proxy(name="api", upstream="api:8080"))
    for client in ("web", "job"):
        assert config["services"][client]["depends_on"]["toxiproxy"]["condition"] == "service_started"
    assert "toxiproxy" not in (config["services"]["db"].get("depends_on") or {})


def test_a_dialled_alias_moves_off_its_service_which_keeps_its_name_and_other_aliases():
    config = user_config()
    plan = insert(config, Proxy(name="pg", upstream="pg.internal:5432"))
    db = config["services"]["db"]
    assert db["networks"]["data"]["aliases"] == ["db-primary"]
    assert plan.renamed == {} and plan.moved == {"pg.internal": "db"}
    assert plan.upstreams == {"pg": "db:5432"}
    assert config["services"]["toxiproxy"]["networks"] == {"data": {"aliases": ["pg.internal"]}}


def test_a_legacy_link_to_a_moved_name_points_at_toxiproxy():
    config = user_config()
    insert(config, Proxy(name="db", upstream="db:5432"))
    assert config["services"]["worker"]["links"] == ["toxiproxy:db"]


def test_the_inserted_toxiproxy_starts_with_its_proxies_and_publishes_its_api_on_loopback():
    config = user_config()
    insert(config, Proxy(name="api", upstream="api:8080"), Proxy(name="db", upstream="db:5432"))
    proxy = config["services"]["toxiproxy"]
    assert proxy["command"] == ["-host=0.0.0.0", "-port=8474", f"-config={CONFIG_TARGET}"]
    assert proxy["ports"] == [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 8474, "protocol": "tcp"}]
    assert proxy["volumes"][0]["source"] == "/run/toxiproxy-edges.json" and proxy["volumes"][0]["read_only"]
    assert proxy["labels"][INSERTED_LABEL] == "true"
    assert proxy["sysctls"] == {"net.ipv4.tcp_syn_retries": "1"}
    assert proxy["networks"]["data"]["aliases"] == ["api", "db"]


def test_an_unknown_host_raises_and_edge_problems_names_it_first():
    config = user_config()
    problems = edge_problems(config, [Proxy(name="x", upstream="nowhere:1")], "toxiproxy")
    assert problems and problems[0][0] == 0 and "'nowhere'" in problems[0][1] and "api, db" in problems[0][1]
    with pytest.raises(KeyError):
        insert(config, Proxy(name="x", upstream="nowhere:1"))


def test_edge_problems_for_host_networking_and_an_existing_toxiproxy():
    config = user_config()
    config["services"]["db"]["network_mode"] = "host"
    problems = edge_problems(config, [Proxy(name="db", upstream="db:5432")], "toxiproxy")
    assert "network_mode 'host'" in problems[0][1]
    config["services"]["toxiproxy"] = {"image": "toxiproxy"}
    problems = edge_problems(config, [Proxy(name="api", upstream="api:8080")], "toxiproxy")
    assert "already has a service 'toxiproxy'" in problems[0][1]


def test_hand_wired_proxies_are_not_edges():
    config = user_config()
    wired = Proxy(name="api", listen="0.0.0.0:18080", upstream="api:8080")
    assert edge_problems(config, [wired], "toxiproxy") == [] and edges_of([wired]) == ()


def test_owner_of_tells_a_name_from_an_alias():
    config = user_config()
    assert owner_of(config, "api") == ("api", "name")
    assert owner_of(config, "db-primary") == ("db", "alias")
    assert owner_of(config, "nope") is None


def test_make_copy_changes_only_the_copy_and_labels_everything():
    original = user_config()
    config = copy.deepcopy(original)
    options = CopyOptions(project="harness-r1", run_id="r1", edges=(Proxy(name="api", upstream="api:8080"),),
                          edges_config=Path("/run/e.json"), publish=("web", 8080))
    out, plan = make_copy(config, options)
    assert original == user_config()  # what the caller passed in as the user's is a separate dict
    assert out["name"] == "harness-r1" and plan is not None
    assert all(body["labels"][RUN_LABEL] == "r1" for body in out["services"].values())
    assert out["services"]["web"]["ports"][0]["host_ip"] == "127.0.0.1"  # published on loopback only


def test_publish_port_adds_the_load_hosts_port_only_when_missing():
    config = {"services": {"web": {"ports": [{"target": 8080}]}, "api": {}}}
    assert publish_port(config, "web", 8080) is False
    assert publish_port(config, "api", 9000) is True
    assert config["services"]["api"]["ports"] == [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 9000,
                                                  "protocol": "tcp"}]
    assert publish_port(config, "missing", 1) is False


def test_load_target_reads_service_and_port_from_the_load_host():
    services = user_config()["services"]
    assert load_target("http://web:8080", services) == ("web", 8080)
    assert load_target("https://web", services) == ("web", 443)
    assert load_target("http://127.0.0.1:8080", services) is None


class FakeScenario:
    def __init__(self, proxies=(), host="http://web:8080"):
        self.proxies = list(proxies)
        self.load = type("L", (), {"host": host})()
        self.target = type("T", (), {"toxiproxy_service": "toxiproxy"})()


def test_stack_problems_name_container_name_edges_and_host_networking():
    config = user_config()
    config["services"]["db"]["container_name"] = "pg"
    config["services"]["web"]["network_mode"] = "host"
    problems = dict(stack_problems(config, FakeScenario([Proxy(name="x", upstream="ghost:1")])))
    assert "container_name 'pg'" in problems["target.compose"]
    assert "'ghost'" in problems["proxies.0.upstream"]
    assert "network_mode host" in problems["load.host"]
    assert stack_problems(user_config(), FakeScenario([Proxy(name="api", upstream="api:8080")])) == []
