"""Toxiproxy inserted on the edges of any compose project, with no change to the app.

An *edge proxy* (``proxies: [{name: db, upstream: "postgres:5432"}]``, no ``listen``) names the
address the stack's clients already dial. In the run's own resolved copy of the compose project
(the user's file is never edited), :func:`insert_toxiproxy`:

1. adds a Toxiproxy service (``target.toxiproxy_service``, the official image) whose API port is
   published on loopback and which starts with the edge proxies already created (``-config``), so
   clients that connect at start-up find the proxy listening;
2. moves the dialled host name to it: on every network the upstream service is on, Toxiproxy
   answers to ``postgres``;
3. gives the real service a private name: when ``postgres`` is the service's own name, the
   service is renamed ``postgres-upstream`` in the copy (compose always makes a service's name a
   DNS alias, so the name itself has to move); when it is a network alias, the alias is removed
   from the service and its service name is the private one. References to a renamed service
   (``depends_on``, ``links``, ``network_mode: service:``, ``volumes_from``) follow it, and every
   client that depended on it also waits for Toxiproxy.

Renaming is invisible to the rest of the harness: every service carries the label
``harness.service`` with the name the scenario uses, and the stack looks containers up by it.

Docker's embedded DNS resolves ``postgres-upstream`` to every replica, and Toxiproxy dials the
upstream per connection, so ``deploy.replicas`` keep their load spreading. Where a name cannot be
moved (host networking, ``network_mode: service:``, a hard-coded IP), :func:`edge_problems` says
so before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

from harness.environment.labels import INSERTED_LABEL, SERVICE_KEY_LABEL, as_dict

CONFIG_TARGET = "/harness/toxiproxy-edges.json"
"""Where the inserted Toxiproxy reads its start-up proxies (``toxiproxy-server -config``)."""

PRIVATE_SUFFIX = "-upstream"

SYN_RETRIES = 1
"""``net.ipv4.tcp_syn_retries`` inside the inserted Toxiproxy (the kernel's default is 6).
Toxiproxy 2.12 dials each upstream connection from its accept loop with no timeout
(``proxy.go``, ``server()``: ``net.Dial`` right after ``Accept``), so one connect to a replica
killed mid-handshake stalls every new connection through the proxy until the kernel gives up:
~127 s with 6 retries, ~3 s with 1. Without the cut, killing one replica behind an inserted
proxy would look like an outage of all of them, an effect of the harness, not of the stack."""


class EdgeProxy(Protocol):
    """What an edge needs from a scenario proxy (``harness.scenario.models.Proxy``)."""

    name: str
    upstream: str

    @property
    def is_edge(self) -> bool: ...

    @property
    def upstream_host(self) -> str: ...

    @property
    def upstream_port(self) -> int: ...

    @property
    def listen_address(self) -> str: ...


@dataclass
class EdgePlan:
    """What :func:`insert_toxiproxy` changed in the copy.

    Attributes:
        service: the inserted Toxiproxy service.
        upstreams: proxy name -> the private ``host:port`` Toxiproxy forwards to.
        renamed: original service name -> its private name in the copy.
        moved: dialled host name -> the service it belonged to (scenario name).
        networks: networks Toxiproxy joined, each with the host names it answers to there.
        proxies: the start-up proxies (Toxiproxy's ``-config`` JSON: name, listen, upstream).
    """

    service: str
    upstreams: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    networks: dict[str, list[str]] = field(default_factory=dict)
    proxies: list[dict[str, Any]] = field(default_factory=list)


def _networks(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's networks as ``{name: config}`` (compose's JSON may give ``null`` configs)."""
    raw = service.get("networks")
    if raw is None:
        return {"default": {}}
    if isinstance(raw, list):
        return {name: {} for name in raw}
    return {name: dict(cfg or {}) for name, cfg in raw.items()}


def owner_of(config: dict[str, Any], host: str) -> tuple[str, str] | None:
    """The service that answers to ``host`` in a resolved compose config, and how:
    ``(service, "name")`` or ``(service, "alias")``; None if no service does."""
    services = config.get("services") or {}
    if host in services:
        return host, "name"
    for name, service in services.items():
        for cfg in _networks(service).values():
            if host in (cfg.get("aliases") or []):
                return name, "alias"
    return None


def edge_problems(config: dict[str, Any], proxies: Iterable[EdgeProxy], toxiproxy_service: str
                  ) -> list[tuple[int, str]]:
    """Why some edges cannot be inserted into this compose project; changes nothing.

    Args:
        config: the resolved compose config (``compose config --format json``).
        proxies: the scenario's proxies, edges and hand-wired ones, in order.
        toxiproxy_service: the name the inserted Toxiproxy will take.

    Returns:
        ``(index of the proxy, message)`` pairs, each message saying what to change.
    """
    services = config.get("services") or {}
    problems: list[tuple[int, str]] = []
    for i, proxy in enumerate(proxies):
        if not proxy.is_edge:
            continue
        if toxiproxy_service in services:
            problems.append((i, f"the compose file already has a service {toxiproxy_service!r}; edges insert their "
                             "own Toxiproxy: give this proxy a listen (hand-wired), or set target.toxiproxy_service "
                             "to an unused name"))
            continue
        owner = owner_of(config, proxy.upstream_host)
        if owner is None:
            problems.append((i, f"no service or network alias {proxy.upstream_host!r} in the compose file (services: "
                             f"{', '.join(sorted(services))}); an edge names the host:port clients dial"))
            continue
        mode = str(services[owner[0]].get("network_mode") or "")
        if mode and mode not in ("bridge", "default"):
            problems.append((i, f"service {owner[0]!r} uses network_mode {mode!r}: its name cannot be moved to "
                             "Toxiproxy (only services on compose networks can); hand-wire this proxy with listen"))
    return problems


def _private_name(config: dict[str, Any], service: str) -> str:
    services = config.get("services") or {}
    name, n = f"{service}{PRIVATE_SUFFIX}", 1
    while name in services:
        n += 1
        name = f"{service}{PRIVATE_SUFFIX}{n}"
    return name


def _rename_references(config: dict[str, Any], old: str, new: str) -> None:
    """Point every reference to service ``old`` at ``new`` (the real service's private name)."""
    for service in (config.get("services") or {}).values():
        deps = service.get("depends_on")
        if isinstance(deps, list):
            service["depends_on"] = [new if d == old else d for d in deps]
        elif isinstance(deps, dict) and old in deps:
            service["depends_on"] = {(new if k == old else k): v for k, v in deps.items()}
        if service.get("network_mode") == f"service:{old}":
            service["network_mode"] = f"service:{new}"
        if service.get("volumes_from"):
            service["volumes_from"] = [new + v[len(old):] if v == old or v.startswith(old + ":") else v
                                       for v in service["volumes_from"]]


def _route_links(config: dict[str, Any], host: str, toxiproxy: str) -> None:
    """A legacy ``links: [host]`` makes ``host`` an alias of the linked container; point it at
    Toxiproxy so that clients using links go through the proxy too."""
    for service in (config.get("services") or {}).values():
        links = service.get("links")
        if links:
            service["links"] = [f"{toxiproxy}:{host}" if link.split(":")[-1] == host else link for link in links]


def _move_host(config: dict[str, Any], host: str, plan: EdgePlan) -> tuple[str, list[str]]:
    """Take ``host`` away from the service answering to it; return the service's private name
    and the networks it is on."""
    services = config["services"]
    service, how = owner_of(config, host)  # type: ignore[misc]
    if how == "alias":
        networks = _networks(services[service])
        for cfg in networks.values():
            cfg["aliases"] = [a for a in (cfg.get("aliases") or []) if a != host] or None
            if cfg["aliases"] is None:
                cfg.pop("aliases")
        services[service]["networks"] = {k: (v or None) for k, v in networks.items()}
        return service, list(networks)
    private = _private_name(config, service)
    body = services.pop(service)
    labels = as_dict(body.get("labels"))
    labels.setdefault(SERVICE_KEY_LABEL, service)
    body["labels"] = labels
    services[private] = body
    _rename_references(config, service, private)
    plan.renamed[service] = private
    return private, list(_networks(body))


def _wait_for_toxiproxy(config: dict[str, Any], clients_of: set[str], toxiproxy: str) -> None:
    """Every service that depended on a moved upstream also waits for Toxiproxy to start."""
    for name, service in (config.get("services") or {}).items():
        if name not in clients_of or name == toxiproxy:
            continue
        deps = service.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        deps.setdefault(toxiproxy, {"condition": "service_started", "required": True})
        service["depends_on"] = deps


def _dependants(config: dict[str, Any], service: str) -> set[str]:
    out = set()
    for name, body in (config.get("services") or {}).items():
        deps = body.get("depends_on") or {}
        if service in deps:
            out.add(name)
    return out


def insert_toxiproxy(config: dict[str, Any], proxies: Iterable[EdgeProxy], *, service: str, image: str,
                     api_port: int, config_file: Path) -> EdgePlan:
    """Add Toxiproxy to a resolved compose config and move each edge's host name to it.

    Args:
        config: the resolved compose config, changed in place (the run's copy).
        proxies: the edge proxies (hand-wired ones must be filtered out by the caller); call
            :func:`edge_problems` first: an unknown host raises here.
        service: the name of the inserted Toxiproxy service.
        image: its image (the official ``ghcr.io/shopify/toxiproxy`` release by default).
        api_port: its API port inside the container, published on 127.0.0.1 (ephemeral port).
        config_file: the host path of the start-up proxies JSON (``plan.proxies``, which the
            caller writes there before ``up``); bind-mounted read-only at :data:`CONFIG_TARGET`.

    Returns:
        The plan: private upstreams per proxy, renamed services, moved names.

    Raises:
        KeyError: an edge's host is not in the config (``edge_problems`` reports it first).
    """
    edges = list(proxies)
    plan = EdgePlan(service=service)
    private: dict[str, tuple[str, list[str]]] = {}
    clients: set[str] = set()
    for proxy in edges:
        host = proxy.upstream_host
        if host not in private:
            owner = owner_of(config, host)
            if owner is None:
                raise KeyError(host)
            clients |= _dependants(config, owner[0])
            private[host] = _move_host(config, host, plan)
            plan.moved[host] = owner[0]
            _route_links(config, host, service)
        name, networks = private[host]
        for net in networks:
            aliases = plan.networks.setdefault(net, [])
            if host not in aliases:
                aliases.append(host)
        plan.upstreams[proxy.name] = f"{name}:{proxy.upstream_port}"
        plan.proxies.append({"name": proxy.name, "listen": proxy.listen_address,
                             "upstream": plan.upstreams[proxy.name], "enabled": True})
    clients = {plan.renamed.get(c, c) for c in clients}
    _wait_for_toxiproxy(config, clients, service)
    config["services"][service] = {
        "image": image,
        "command": ["-host=0.0.0.0", f"-port={api_port}", f"-config={CONFIG_TARGET}"],
        "ports": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": api_port, "protocol": "tcp"}],
        "networks": {net: {"aliases": aliases} for net, aliases in plan.networks.items()},
        "volumes": [{"type": "bind", "source": str(config_file.resolve()), "target": CONFIG_TARGET,
                     "read_only": True}],
        "labels": {SERVICE_KEY_LABEL: service, INSERTED_LABEL: "true"},
        "sysctls": {"net.ipv4.tcp_syn_retries": str(SYN_RETRIES)},
    }
    return plan


__all__ = ["CONFIG_TARGET", "EdgePlan", "INSERTED_LABEL", "SERVICE_KEY_LABEL", "edge_problems", "insert_toxiproxy",
           "owner_of"]
