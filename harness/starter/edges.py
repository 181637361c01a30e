"""Find a compose project's edges: who dials whom, on which port. Pure functions, no Docker.

Everything here reads a *resolved* compose config, the JSON of ``docker compose config --format
json`` (ports as ``{"target": 8080, ...}`` mappings, ``environment`` and ``depends_on`` as
mappings), and returns frozen dataclasses that :mod:`harness.starter.writer` renders.

Where the facts come from:

- **entry point**: a service that publishes a port (``ports``), preferring an HTTP-looking one;
  else a service nobody dials that exposes a port (``expose``, its health check, or a well-known
  default for its image).
- **edges** (client -> server): host names and ports in the clients' environment values
  (``DATABASE_URL=postgres://u:p@db:5432/x``, ``REDIS_HOST=redis`` with ``REDIS_PORT``,
  ``UPSTREAM=http://api:8000``), then ``depends_on``. A server's port, when the client does not
  say it: its ``expose``/``ports`` targets, the port its own health check dials, or its image's
  default.
- **hand-wired proxies**: when the compose file runs Toxiproxy itself, a client whose variable
  ``CATALOG_URL=http://toxiproxy:18080`` names the Toxiproxy service is read as a proxy
  ``catalog`` listening on ``18080`` in front of the service ``catalog``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urlsplit

HTTP_PORTS = (80, 8080, 8000, 3000, 5000, 8081, 8888, 9000, 443, 8443)
"""Ports that look like HTTP, most likely first (an entry point on one of them is preferred)."""

IMAGE_PORTS = (
    ("toxiproxy", 8474),
    ("postgres", 5432),
    ("postgis", 5432),
    ("timescale", 5432),
    ("mysql", 3306),
    ("mariadb", 3306),
    ("redis", 6379),
    ("valkey", 6379),
    ("keydb", 6379),
    ("memcached", 11211),
    ("mongo", 27017),
    ("rabbitmq", 5672),
    ("zookeeper", 2181),
    ("kafka", 9092),
    ("nats", 4222),
    ("elasticsearch", 9200),
    ("opensearch", 9200),
    ("cassandra", 9042),
    ("etcd", 2379),
    ("consul", 8500),
    ("minio", 9000),
    ("haproxy", 80),
    ("traefik", 80),
    ("envoy", 10000),
    ("nginx", 80),
    ("httpd", 80),
    ("caddy", 80),
    ("httpbin", 8000),
    ("gunicorn", 8000),
    ("uvicorn", 8000),
    ("django", 8000),
    ("grafana", 3000),
    ("prometheus", 9090),
    ("jaeger", 16686),
    ("node", 3000),
    ("tomcat", 8080),
    ("jetty", 8080),
    ("wordpress", 80),
)
"""``(substring of the image's repository name, port)``: the port a well-known image listens on
when the compose file does not say it, first match wins."""

LOOPBACK = ("127.0.0.1", "localhost", "0.0.0.0", "::1", "[::1]")

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s,;'\"]+")
_TOKEN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)(?::(\d{1,5}))?$")
_HOST_KEY = re.compile(r"^(?P<prefix>.*?)_?(HOST|HOSTNAME|ADDR|ADDRESS|SERVER|SERVICE)$", re.IGNORECASE)
_KEY_PREFIX = re.compile(r"^(?P<prefix>[A-Za-z0-9_]+?)_?(URL|URI|DSN|HOST|HOSTNAME|ADDR|ADDRESS|ENDPOINT|UPSTREAM|"
                         r"SERVER|SERVICE|PORT)?$", re.IGNORECASE)
_DEV_TCP = re.compile(r"/dev/tcp/[^/\s]+/(\d{1,5})")
_LOCAL_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\])(?::(\d{1,5}))?(/[^\s'\"\\)]*)?")
_PORT_FLAG = re.compile(r"(?:^|\s)(?:-p|--port)[\s=](\d{1,5})\b")
_GET_PATH = re.compile(r"\bGET\s+(/[^\s'\"\\]*)")


@dataclass(frozen=True)
class HostRef:
    """A host name (and maybe a port) found in one environment value.

    Attributes:
        host: the name as written (lower-cased), e.g. ``db``.
        port: the port written next to it (1..65535), or None.
    """

    host: str
    port: int | None = None


@dataclass(frozen=True)
class Edge:
    """One dependency: ``client`` dials ``host:port``, which belongs to service ``server``.

    Attributes:
        client: the compose service that dials.
        server: the compose service that answers (owns ``host``).
        host: the name dialled: ``server`` itself or one of its network aliases.
        port: the port dialled (1..65535).
        source: where it was found, e.g. ``environment DATABASE_URL`` or ``depends_on``.
    """

    client: str
    server: str
    host: str
    port: int
    source: str

    @property
    def upstream(self) -> str:
        """``host:port``, a proxy's ``upstream``."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class HandWired:
    """A proxy the compose file's own Toxiproxy serves: clients dial ``toxiproxy:listen_port``,
    which forwards to ``upstream``.

    Attributes:
        name: the proxy's name (the service it fronts), e.g. ``catalog``.
        listen_port: the port clients dial on the Toxiproxy service (1..65535).
        upstream: ``host:port`` of the real service.
        server: the service behind it.
        source: where it was found (``api environment CATALOG_URL``).
    """

    name: str
    listen_port: int
    upstream: str
    server: str
    source: str


@dataclass(frozen=True)
class Skipped:
    """An edge left out of the scenario, with the reason (rendered as a comment).

    Attributes:
        what: the edge, e.g. ``api -> catalog:8080``.
        reason: why it is not a proxy, and what to do about it.
    """

    what: str
    reason: str


@dataclass(frozen=True)
class EntryPoint:
    """Where the load goes in.

    Attributes:
        service: the compose service.
        port: its container port (1..65535).
        published: True when the compose file publishes it (else the harness publishes it on
            loopback for the run).
    """

    service: str
    port: int
    published: bool

    @property
    def host(self) -> str:
        """The scenario's ``load.host``: ``http(s)://<service>:<port>``."""
        scheme = "https" if self.port in (443, 8443) else "http"
        return f"{scheme}://{self.service}:{self.port}"


@dataclass(frozen=True)
class Sketch:
    """What a starter scenario needs to know about a compose project.

    Attributes:
        project: the project name in the resolved config (``name``; compose puts the ``-p``
            name there when one is given), or ``""``.
        services: every service name, sorted.
        entry: the entry point, or None when no service has a port anyone could name.
        health_path: the HTTP path the entry service's own health check requests, or None.
        edges: the edge proxies, deduplicated, in the order found.
        hand_wired: proxies of the compose file's own Toxiproxy, when it runs one.
        toxiproxy: the compose file's own Toxiproxy service, or None.
        replicas: service -> ``deploy.replicas`` (1 when unset).
        skipped: edges found but left out, each with its reason.
    """

    project: str
    services: tuple[str, ...]
    entry: EntryPoint | None
    health_path: str | None
    edges: tuple[Edge, ...]
    hand_wired: tuple[HandWired, ...] = ()
    toxiproxy: str | None = None
    replicas: dict[str, int] = field(default_factory=dict)
    skipped: tuple[Skipped, ...] = ()


# -- reading one service ------------------------------------------------------------------------


def _services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: dict(body or {}) for name, body in (config.get("services") or {}).items()}


def _port(text: Any) -> int | None:
    """``text`` as a TCP port (1..65535), or None. Accepts ``"5432"``, ``"5432/tcp"``, ``5432``."""
    match = re.match(r"^\s*(\d{1,5})(?:/tcp)?\s*$", str(text))
    if not match:
        return None
    port = int(match[1])
    return port if 1 <= port <= 65535 else None


def image_port(image: str | None) -> int | None:
    """The well-known port of an image (``postgres:16`` -> 5432, ``harness/httpbin:0.1`` ->
    8000), matched on its repository name without registry or tag; None when unknown."""
    if not image:
        return None
    repo = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return next((port for needle, port in IMAGE_PORTS if needle in repo), None)


def published_ports(service: dict[str, Any]) -> list[int]:
    """Container ports a service publishes (``ports[].target``), in file order."""
    out = []
    for entry in service.get("ports") or []:
        raw = entry.get("target") if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1]
        port = _port(raw)
        if port and port not in out:
            out.append(port)
    return out


def exposed_ports(service: dict[str, Any]) -> list[int]:
    """Container ports a service exposes (``expose``), in file order; ranges are skipped."""
    return [p for p in (_port(e) for e in service.get("expose") or []) if p]


def _health_text(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return " ".join(test) if isinstance(test, list) else str(test)


def health_port(service: dict[str, Any]) -> int | None:
    """The local port a service's health check dials (``http://127.0.0.1:8080/health``,
    ``/dev/tcp/127.0.0.1/8080``, ``redis-cli -p 6379``), or None."""
    text = _health_text(service)
    for pattern in (_LOCAL_URL, _DEV_TCP, _PORT_FLAG):
        match = pattern.search(text)
        if match:
            return _port(match.group(1)) if match.group(1) else 80
    return None


def health_path(service: dict[str, Any]) -> str | None:
    """The HTTP path a service's health check requests (``/health``, ``/nginx-health``), or
    None when it requests none (or only ``/``)."""
    text = _health_text(service)
    for pattern, group in ((_LOCAL_URL, 2), (_GET_PATH, 1)):
        match = pattern.search(text)
        if match and match.group(group) and match.group(group) != "/":
            return match.group(group)
    return None


def service_port(service: dict[str, Any]) -> int | None:
    """The port a service listens on, when nobody said it: its first ``expose``, else its first
    published container port, else its health check's port, else its image's default; None."""
    for ports in (exposed_ports(service), published_ports(service)):
        if ports:
            return ports[0]
    return health_port(service) or image_port(service.get("image"))


def is_toxiproxy(service: dict[str, Any]) -> bool:
    """True when the service runs Toxiproxy (its image's name says so)."""
    return "toxiproxy" in str(service.get("image") or "").lower()


def replicas(service: dict[str, Any]) -> int:
    """``deploy.replicas`` (1 when unset, at least 1)."""
    deploy = service.get("deploy") or {}
    try:
        return max(1, int(deploy.get("replicas") or 1))
    except (TypeError, ValueError):
        return 1


# -- host names --------------------------------------------------------------------------------


def dialable_names(config: dict[str, Any]) -> dict[str, str]:
    """Every name a client can dial -> the service answering to it: service names and the
    network aliases of each service (lower-cased; Docker's DNS ignores case)."""
    names: dict[str, str] = {}
    for name, body in _services(config).items():
        names.setdefault(name.lower(), name)
        networks = body.get("networks")
        if isinstance(networks, dict):
            for cfg in networks.values():
                for alias in (cfg or {}).get("aliases") or []:
                    names.setdefault(str(alias).lower(), name)
    return names


def _url_ref(url: str) -> HostRef | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    return HostRef(parts.hostname.lower(), port) if parts.hostname else None


def host_refs(value: str, names: Iterable[str]) -> list[HostRef]:
    """Host names (with their ports, when written) that ``value`` mentions among ``names``.

    Reads URLs (``postgres://u:p@db:5432/x`` -> ``db:5432``, ``http://api:8000/v1``), bare
    ``host:port`` and bare host names (``redis``), also in lists (``kafka-1:9092,kafka-2:9092``).
    A name that is no service (``example.com``, ``127.0.0.1``) yields nothing.

    Args:
        value: an environment value.
        names: the dialable names (lower-case), see :func:`dialable_names`.
    """
    known = set(names)
    refs: list[HostRef] = []
    for url in _URL.findall(value):
        ref = _url_ref(url)
        if ref and ref.host in known:
            refs.append(ref)
    rest = _URL.sub(" ", value)
    for token in re.split(r"[\s,;=|]+", rest):
        match = _TOKEN.match(token.strip())
        if match and match[1].lower() in known:
            refs.append(HostRef(match[1].lower(), _port(match[2]) if match[2] else None))
    return list(dict.fromkeys(refs))


def _env(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, None) for item in raw)
    return {str(k): str(v) for k, v in raw.items() if v is not None}


def companion_port(env: dict[str, str], key: str) -> int | None:
    """The port variable next to a host variable: ``REDIS_HOST`` -> ``REDIS_PORT``
    (``DB_HOSTNAME`` -> ``DB_PORT``, ``HOST`` -> ``PORT``); None when there is none."""
    match = _HOST_KEY.match(key)
    if not match:
        return None
    prefix = match["prefix"].rstrip("_")
    for candidate in ((f"{prefix}_PORT", f"{prefix}PORT") if prefix else ("PORT",)):
        for k, v in env.items():
            if k.upper() == candidate.upper():
                return _port(v)
    return None


def key_subject(key: str) -> str:
    """What an environment variable is about: ``CATALOG_URL`` -> ``catalog``,
    ``REDIS_HOST`` -> ``redis``, ``DATABASE_URL`` -> ``database`` (lower-case)."""
    match = _KEY_PREFIX.match(key)
    return (match["prefix"] if match else key).lower()


# -- edges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """An unresolved edge: the port may still be unknown."""

    client: str
    server: str
    host: str
    port: int | None
    source: str
    key: str = ""


def env_refs(config: dict[str, Any]) -> list[_Ref]:
    """Edges named in environment values, in file order (ports may be None)."""
    names = dialable_names(config)
    refs = []
    for client, body in _services(config).items():
        env = _env(body)
        for key, value in env.items():
            for ref in host_refs(value, names):
                server = names[ref.host]
                if server == client:
                    continue
                host = server if ref.host == server.lower() else ref.host
                port = ref.port or companion_port(env, key)
                refs.append(_Ref(client, server, host, port, f"{client} environment {key}", key))
    return refs


def depends_refs(config: dict[str, Any]) -> list[_Ref]:
    """Edges from ``depends_on`` (the dependant dials the dependency by its service name)."""
    services = _services(config)
    refs = []
    for client, body in services.items():
        deps = body.get("depends_on") or {}
        for server in deps:
            if server in services and server != client:
                refs.append(_Ref(client, server, server, None, f"{client} depends_on"))
    return refs


def _port_for(ref: _Ref, known: list[_Ref], services: dict[str, dict[str, Any]]) -> int | None:
    """A port for ``ref``: its own, else one the same client names for that server, else the
    server's own port (:func:`service_port`)."""
    if ref.port:
        return ref.port
    same = [r.port for r in known if r.port and r.client == ref.client and r.server == ref.server]
    return same[0] if same else service_port(services[ref.server])


def _raw_edges(config: dict[str, Any]) -> tuple[list[Edge], list[Skipped]]:
    """Every edge with a port, env-named ones first; a ``depends_on`` pair whose client already
    names the server in its environment adds nothing."""
    services = _services(config)
    env = env_refs(config)
    named = {(r.client, r.server) for r in env}
    deps = [r for r in depends_refs(config) if (r.client, r.server) not in named]
    edges, skipped = [], []
    for ref in env + deps:
        port = _port_for(ref, env, services)
        if port is None:
            skipped.append(Skipped(f"{ref.client} -> {ref.host}", f"no port found ({ref.source}); add one: "
                                   f"{{name: {ref.server}, upstream: \"{ref.host}:PORT\"}}"))
            continue
        edges.append(Edge(ref.client, ref.server, ref.host, port, ref.source))
    return edges, skipped


def dedupe(edges: Iterable[Edge], reserved_port: int = 8474) -> tuple[list[Edge], list[Skipped]]:
    """One edge per ``host:port`` (the first found), and at most one host per port: the one
    inserted Toxiproxy answers every moved name on the same container, so it can listen on a
    port once. ``reserved_port`` (Toxiproxy's API port) is left out too.

    Returns:
        ``(kept edges, skipped ones with the reason)``.
    """
    kept: list[Edge] = []
    skipped: list[Skipped] = []
    by_port: dict[int, Edge] = {}
    for edge in edges:
        if any(k.upstream == edge.upstream for k in kept):
            continue
        what = f"{edge.client} -> {edge.upstream}"
        if edge.port == reserved_port:
            skipped.append(Skipped(what, f"port {edge.port} is Toxiproxy's API port; set target.toxiproxy_port to "
                                         "another port to proxy it"))
        elif edge.port in by_port:
            other = by_port[edge.port]
            skipped.append(Skipped(what, f"shares port {edge.port} with {other.upstream}: the inserted Toxiproxy "
                                         "listens on a port once; proxy one of them (swap them here), or hand-wire "
                                         "this one with a listen"))
        else:
            kept.append(edge)
            by_port[edge.port] = edge
    return kept, skipped


def find_edges(config: dict[str, Any]) -> tuple[list[Edge], list[Skipped]]:
    """The edge proxies of a resolved compose config, deduplicated (see :func:`dedupe`), and
    what was left out. Edges to a Toxiproxy service are left out (it is a proxy already), and
    edges to a service on ``network_mode: host`` / ``service:X`` (its name cannot be moved).

    Returns:
        ``(edges, skipped)``; both empty for a stack of one service.
    """
    services = _services(config)
    edges, skipped = _raw_edges(config)
    direct = []
    for edge in edges:
        mode = str(services[edge.server].get("network_mode") or "")
        if is_toxiproxy(services[edge.server]):
            skipped.append(Skipped(f"{edge.client} -> {edge.upstream}", f"{edge.server} runs Toxiproxy already"))
        elif mode not in ("", "bridge", "default"):
            skipped.append(Skipped(f"{edge.client} -> {edge.upstream}", f"{edge.server} uses network_mode {mode}: its "
                                   "name cannot be moved to Toxiproxy; hand-wire a proxy with listen"))
        else:
            direct.append(edge)
    kept, more = dedupe(direct)
    return kept, skipped + more


def hand_wired(config: dict[str, Any], toxiproxy: str) -> list[HandWired]:
    """Proxies the compose file's own Toxiproxy service ``toxiproxy`` must serve: a client's
    ``CATALOG_URL=http://toxiproxy:18080`` (or ``REDIS_HOST=toxiproxy`` + ``REDIS_PORT=16379``)
    where ``catalog`` / ``redis`` is another service gives a proxy listening on that port in
    front of it. One per listen port, in file order."""
    services = _services(config)
    out: dict[int, HandWired] = {}
    for ref in env_refs(config):
        subject = key_subject(ref.key)
        subject = subject if subject in services else subject.replace("_", "-")
        if ref.server != toxiproxy or not ref.port or ref.port in out or subject not in services:
            continue
        port = service_port(services[subject])
        if port is None or is_toxiproxy(services[subject]):
            continue
        out[ref.port] = HandWired(subject, ref.port, f"{subject}:{port}", subject, ref.source)
    return list(out.values())


# -- entry point -------------------------------------------------------------------------------


def _http_rank(port: int) -> int:
    return HTTP_PORTS.index(port) if port in HTTP_PORTS else len(HTTP_PORTS)


def entry_point(config: dict[str, Any], servers: Iterable[str] = ()) -> EntryPoint | None:
    """Where the load goes in: the service publishing an HTTP-looking port (80, 8080, 8000,
    3000, 5000...; then any published port), services that nobody dials first; else a service
    nobody dials (not in ``servers``) with a port of its own (:func:`service_port`); Toxiproxy
    services never. None when no service qualifies.

    Args:
        config: the resolved compose config.
        servers: services other services dial (the servers of the edges).
    """
    services = {n: b for n, b in _services(config).items() if not is_toxiproxy(b)}
    dialled = set(servers)
    published = [(_http_rank(p), n in dialled, i, n, p) for i, (n, b) in enumerate(services.items())
                 for p in published_ports(b)]
    if published:
        _, _, _, name, port = min(published)
        return EntryPoint(name, port, True)
    candidates = [(n in dialled, _http_rank(p), i, n, p) for i, (n, b) in enumerate(services.items())
                  if (p := service_port(b))]
    if not candidates:
        return None
    _, _, _, name, port = min(candidates)
    return EntryPoint(name, port, False)


def _beside_hand_wired(config: dict[str, Any], toxiproxy: str, wired: list[HandWired]) -> list[Skipped]:
    """The edges a scenario of hand-wired proxies leaves out: every edge that neither goes
    through the file's Toxiproxy nor ends at a service a hand-wired proxy fronts."""
    covered = {w.server for w in wired}
    raw, skipped = _raw_edges(config)
    reason = (f"{toxiproxy} is the file's own Toxiproxy, used by the hand-wired proxies; an edge (no listen) needs "
              "the harness's own Toxiproxy: hand-wire this one in your file too, or remove the file's Toxiproxy")
    seen: set[str] = set()
    for edge in raw:
        what = f"{edge.client} -> {edge.upstream}"
        if toxiproxy in (edge.client, edge.server) or edge.server in covered or what in seen:
            continue
        seen.add(what)
        skipped.append(Skipped(what, reason))
    return skipped


def order_from(entry: str | None, edges: Iterable[Edge]) -> list[Edge]:
    """``edges`` nearest the entry service first (breadth-first over client -> server hops,
    file order among equals; edges the entry never reaches last), so that the first edge is the
    one the load crosses soonest."""
    edges = list(edges)
    depth: dict[str, int] = {entry: 0} if entry else {}
    frontier = [entry] if entry else []
    while frontier:
        nxt = []
        for edge in edges:
            if edge.client in frontier and edge.server not in depth:
                depth[edge.server] = depth[edge.client] + 1
                nxt.append(edge.server)
        frontier = nxt
    far = len(edges) + 1
    return sorted(edges, key=lambda e: depth.get(e.client, far))


def _toxiproxy_service(config: dict[str, Any]) -> str | None:
    return next((n for n, b in _services(config).items() if is_toxiproxy(b)), None)


def sketch(config: dict[str, Any]) -> Sketch:
    """Everything :mod:`harness.starter.writer` needs about a resolved compose config.

    When the file runs its own Toxiproxy and the clients' environment names proxies on it
    (:func:`hand_wired`), those are the scenario's proxies and the edges are only reported as
    skipped (an edge needs the harness's own Toxiproxy, which the file's would shadow).
    """
    services = _services(config)
    toxiproxy = _toxiproxy_service(config)
    edges, skipped = find_edges(config)
    wired = hand_wired(config, toxiproxy) if toxiproxy else []
    if wired:
        skipped = _beside_hand_wired(config, toxiproxy, wired)
        edges = []
    entry = entry_point(config, [e.server for e in edges] + [w.server for w in wired])
    edges = order_from(entry.service if entry else None, edges)
    return Sketch(
        project=str(config.get("name") or ""),
        services=tuple(sorted(services)),
        entry=entry,
        health_path=health_path(services[entry.service]) if entry else None,
        edges=tuple(edges),
        hand_wired=tuple(wired),
        toxiproxy=toxiproxy,
        replicas={n: replicas(b) for n, b in services.items()},
        skipped=tuple(skipped),
    )
