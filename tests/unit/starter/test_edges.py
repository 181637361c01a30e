"""harness.starter.edges: edges, ports and the entry point from hand-made resolved compose configs."""

from harness.starter.edges import (
    Edge,
    EntryPoint,
    companion_port,
    dedupe,
    entry_point,
    find_edges,
    hand_wired,
    health_path,
    health_port,
    host_refs,
    image_port,
    key_subject,
    sketch,
)


def svc(**body):
    return body


def config(**services):
    return {"name": "demo", "services": services}


NAMES = ["db", "redis", "api", "cache-primary"]


# -- host_refs ---------------------------------------------------------------------------------


def test_postgres_url_with_credentials_gives_host_and_port():
    assert [(r.host, r.port) for r in host_refs("postgres://u:p@db:5432/x", NAMES)] == [("db", 5432)]


def test_http_url_without_port_gives_host_and_no_port():
    assert [(r.host, r.port) for r in host_refs("http://api/v1/items", NAMES)] == [("api", None)]


def test_bare_host_name_is_a_reference():
    assert [(r.host, r.port) for r in host_refs("redis", NAMES)] == [("redis", None)]


def test_comma_separated_host_ports_give_each():
    refs = host_refs("db:5432,cache-primary:6380", NAMES)
    assert [(r.host, r.port) for r in refs] == [("db", 5432), ("cache-primary", 6380)]


def test_value_naming_no_service_gives_nothing():
    assert host_refs("https://example.com:443/x", NAMES) == []
    assert host_refs("127.0.0.1:5432", NAMES) == []
    assert host_refs("resilient", NAMES) == []
    assert host_refs("64", NAMES) == []


def test_invalid_url_port_is_ignored_not_raised():
    assert host_refs("http://db:99999/x", NAMES) == []


def test_companion_port_pairs_host_and_port_variables():
    env = {"REDIS_HOST": "redis", "REDIS_PORT": "6380", "DB_HOSTNAME": "db", "DB_PORT": "x"}
    assert companion_port(env, "REDIS_HOST") == 6380
    assert companion_port(env, "DB_HOSTNAME") is None  # not a port
    assert companion_port(env, "REDIS_URL") is None


def test_key_subject_strips_the_address_suffix():
    assert key_subject("CATALOG_URL") == "catalog"
    assert key_subject("REDIS_HOST") == "redis"
    assert key_subject("PAYMENTS_API_URL") == "payments_api"


# -- ports -------------------------------------------------------------------------------------


def test_image_port_ignores_registry_and_tag():
    assert image_port("postgres:16-alpine") == 5432
    assert image_port("registry.local:5000/team/redis:7") == 6379
    assert image_port("ghcr.io/shopify/toxiproxy:2.12.0") == 8474
    assert image_port("harness/httpbin:0.1") == 8000
    assert image_port("acme/billing:1.0") is None


def test_health_check_gives_port_and_path():
    curl = svc(healthcheck={"test": ["CMD", "curl", "-f", "http://localhost:8081/healthz"]})
    tcp = svc(healthcheck={"test": ["CMD", "bash", "-c",
                                    "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /nginx-health HTTP/1.0' >&3"]})
    cli = svc(healthcheck={"test": ["CMD-SHELL", "redis-cli -p 6390 ping"]})
    assert (health_port(curl), health_path(curl)) == (8081, "/healthz")
    assert (health_port(tcp), health_path(tcp)) == (8080, "/nginx-health")
    assert (health_port(cli), health_path(cli)) == (6390, None)
    assert (health_port(svc()), health_path(svc())) == (None, None)


# -- edges -------------------------------------------------------------------------------------


def test_depends_on_edge_takes_the_servers_expose_port():
    cfg = config(web=svc(depends_on={"db": {"condition": "service_started"}}),
                 db=svc(image="acme/store:1", expose=["5433"]))
    edges, skipped = find_edges(cfg)
    assert edges == [Edge("web", "db", "db", 5433, "web depends_on")]
    assert skipped == []


def test_depends_on_edge_falls_back_to_the_image_default_port():
    cfg = config(web=svc(depends_on={"cache": {}}), cache=svc(image="redis:7"))
    assert [e.upstream for e in find_edges(cfg)[0]] == ["cache:6379"]


def test_depends_on_edge_takes_the_port_the_client_environment_names():
    cfg = config(web=svc(depends_on={"db": {}}, environment={"DATABASE_URL": "postgres://u:p@db:6543/x"}),
                 db=svc(image="postgres:16", expose=["5432"]))
    edges, _ = find_edges(cfg)
    assert [(e.upstream, e.source) for e in edges] == [("db:6543", "web environment DATABASE_URL")]


def test_redis_host_without_port_uses_the_redis_port_variable_then_the_image():
    with_port = config(app=svc(environment={"REDIS_HOST": "redis", "REDIS_PORT": "6380"}), redis=svc(image="redis"))
    without = config(app=svc(environment={"REDIS_HOST": "redis"}), redis=svc(image="redis"))
    assert [e.upstream for e in find_edges(with_port)[0]] == ["redis:6380"]
    assert [e.upstream for e in find_edges(without)[0]] == ["redis:6379"]


def test_environment_naming_a_network_alias_keeps_the_alias_as_host():
    cfg = config(app=svc(environment={"UPSTREAM": "http://backend:8000"}),
                 api=svc(image="acme/api", networks={"default": {"aliases": ["backend"]}}))
    edges, _ = find_edges(cfg)
    assert [(e.server, e.host, e.port) for e in edges] == [("api", "backend", 8000)]


def test_value_naming_no_service_makes_no_edge():
    cfg = config(app=svc(environment={"API_URL": "https://example.com", "MODE": "fast"}), db=svc(image="postgres"))
    assert find_edges(cfg) == ([], [])


def test_same_host_port_from_two_clients_is_one_edge():
    cfg = config(a=svc(environment={"DB": "db:5432"}), b=svc(depends_on={"db": {}}), db=svc(image="postgres"))
    edges, _ = find_edges(cfg)
    assert [e.upstream for e in edges] == ["db:5432"]


def test_two_hosts_on_one_port_keep_the_first_and_say_why():
    kept, skipped = dedupe([Edge("a", "x", "x", 8080, "s"), Edge("a", "y", "y", 8080, "s"),
                            Edge("a", "z", "z", 8474, "s")])
    assert [e.upstream for e in kept] == ["x:8080"]
    assert [s.what for s in skipped] == ["a -> y:8080", "a -> z:8474"]
    assert "shares port 8080 with x:8080" in skipped[0].reason
    assert "toxiproxy_port" in skipped[1].reason


def test_edge_without_any_port_is_skipped_with_a_hint():
    cfg = config(web=svc(depends_on={"worker": {}}), worker=svc(image="acme/worker"))
    edges, skipped = find_edges(cfg)
    assert edges == []
    assert skipped[0].what == "web -> worker" and "no port found" in skipped[0].reason


def test_self_reference_is_no_edge():
    cfg = config(db=svc(image="postgres", environment={"PGHOST": "db"}))
    assert find_edges(cfg) == ([], [])


# -- entry point -------------------------------------------------------------------------------


def test_entry_point_prefers_an_http_looking_published_port():
    cfg = config(db=svc(image="postgres", ports=[{"target": 5432}]),
                 web=svc(image="acme/web", ports=[{"target": 9999}, {"target": 3000}]))
    assert entry_point(cfg) == EntryPoint("web", 3000, True)


def test_entry_point_without_published_ports_is_the_service_nobody_dials():
    cfg = config(front=svc(image="nginx:1.27", depends_on={"api": {}}), api=svc(image="acme/api", expose=["8000"]))
    assert entry_point(cfg, servers=["api"]) == EntryPoint("front", 80, False)


def test_entry_point_is_never_toxiproxy_and_none_without_ports():
    assert entry_point(config(t=svc(image="ghcr.io/shopify/toxiproxy:2.12.0", ports=[{"target": 8474}]))) is None
    assert entry_point(config(job=svc(image="acme/batch"))) is None


def test_entry_point_host_is_a_load_host_url():
    assert EntryPoint("web", 8080, True).host == "http://web:8080"
    assert EntryPoint("web", 443, True).host == "https://web:443"


# -- own Toxiproxy -----------------------------------------------------------------------------


def test_file_with_its_own_toxiproxy_gives_hand_wired_proxies():
    cfg = config(
        api=svc(image="acme/api", environment={"CATALOG_URL": "http://toxiproxy:18080", "REDIS_HOST": "toxiproxy",
                                                "REDIS_PORT": "16379"}, depends_on={"toxiproxy": {}}),
        catalog=svc(image="acme/catalog", expose=["8080"]),
        redis=svc(image="redis:7"),
        toxiproxy=svc(image="ghcr.io/shopify/toxiproxy:2.12.0", depends_on={"catalog": {}, "redis": {}}),
    )
    wired = hand_wired(cfg, "toxiproxy")
    assert [(w.name, w.listen_port, w.upstream) for w in wired] == [("catalog", 18080, "catalog:8080"),
                                                                     ("redis", 16379, "redis:6379")]
    found = sketch(cfg)
    assert found.edges == () and found.toxiproxy == "toxiproxy" and len(found.hand_wired) == 2


def test_sketch_of_a_two_tier_stack():
    cfg = config(
        nginx=svc(image="nginx", ports=[{"target": 8080}], depends_on={"app": {}},
                  healthcheck={"test": ["CMD", "curl", "-f", "http://127.0.0.1:8080/ping"]}),
        app=svc(image="acme/app", expose=["8000"], deploy={"replicas": 3},
                environment={"DATABASE_URL": "postgres://u:p@db:5432/x"}),
        db=svc(image="postgres:16"),
    )
    found = sketch(cfg)
    assert found.entry == EntryPoint("nginx", 8080, True)
    assert found.health_path == "/ping"
    assert [e.upstream for e in found.edges] == ["app:8000", "db:5432"]  # nearest the entry first
    assert found.replicas == {"nginx": 1, "app": 3, "db": 1}


def test_order_from_puts_the_entrys_own_edges_first_and_unreached_last():
    from harness.starter.edges import order_from

    edges = [Edge("worker", "queue", "queue", 5672, "s"), Edge("app", "db", "db", 5432, "s"),
             Edge("web", "app", "app", 8000, "s")]
    assert [e.server for e in order_from("web", edges)] == ["app", "db", "queue"]
    assert order_from(None, edges) == edges


def test_edge_to_a_host_networked_service_is_skipped():
    cfg = config(web=svc(depends_on={"db": {}}), db=svc(image="postgres", network_mode="host"))
    edges, skipped = find_edges(cfg)
    assert edges == [] and "network_mode host" in skipped[0].reason
