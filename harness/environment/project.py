"""The run's own copy of the user's compose project: what the harness changes, and nothing else.

The user's compose file is never written. ``compose config --format json`` resolves it, and the
copy made from that JSON (kept, redacted, as ``compose.resolved.json`` in the run directory) is
what compose brings up. The copy differs from the user's project in exactly these ways:

- the project name is ``harness-<run id>``, so runs never collide;
- every service, network and volume carries ``harness.run-id`` (and services ``harness.service``);
- published ports are bound to 127.0.0.1 (unless ``target.publish_all_interfaces``); with a
  remote engine (engine.py), whose loopback this machine cannot reach, on 0.0.0.0 of the engine's
  host or ``HARNESS_PUBLISH_IP`` instead, the file's own loopback bindings included;
- the load host's port is published (on that address) when the file does not publish it;
- edge proxies insert a Toxiproxy service and move the dialled host names to it (edges.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from harness.environment.edges import EdgePlan, EdgeProxy, insert_toxiproxy
from harness.environment.engine import LOOPBACK_IP
from harness.environment.labels import label_config


LOOPBACK_IPS = (LOOPBACK_IP, "::1", "localhost")
"""Host addresses of a port bound to loopback (unreachable from another machine)."""

WILDCARDS = (None, "", "0.0.0.0", "::")
"""Host addresses of a port published on every interface."""


@dataclass(frozen=True)
class CopyOptions:
    """How to make the copy.

    Attributes:
        project: the compose project name of the run.
        run_id: the run id written into every label.
        loopback_only: bind ports published on every interface (or none named) to
            ``publish_ip``; False leaves them as the file says.
        publish_ip: the address published ports are bound to: 127.0.0.1 for a local engine,
            ``Engine.publish_ip`` (0.0.0.0 or ``HARNESS_PUBLISH_IP``) for a remote one, where
            ports the file binds to loopback are moved to it as well (whatever ``loopback_only``).
        edges: the scenario's edge proxies (hand-wired ones excluded).
        toxiproxy_service / toxiproxy_image / toxiproxy_port: the inserted Toxiproxy.
        edges_config: host path of the inserted Toxiproxy's start-up proxies JSON.
        publish: ``(service, container port)`` the load host needs published, or None.
    """

    project: str
    run_id: str
    loopback_only: bool = True
    publish_ip: str = LOOPBACK_IP
    edges: tuple[EdgeProxy, ...] = ()
    toxiproxy_service: str = "toxiproxy"
    toxiproxy_image: str = "ghcr.io/shopify/toxiproxy:2.12.0"
    toxiproxy_port: int = 8474
    edges_config: Path = Path("toxiproxy-edges.json")
    publish: tuple[str, int] | None = None


def loopback_ports(config: dict[str, Any], ip: str = LOOPBACK_IP, narrow: bool = True) -> dict[str, Any]:
    """Bind the published ports of a resolved compose config to ``ip``: with ``narrow``, those
    published on every interface (the file names no address, or all of them), so a chaos run does
    not expose a half-broken stack to the network; and when ``ip`` is not a loopback address (a
    remote engine), also those bound to loopback, which this machine could not reach. Returns
    the same dict, changed in place."""
    remote = ip not in LOOPBACK_IPS
    for service in config.get("services", {}).values():
        for port in service.get("ports") or []:
            if not isinstance(port, dict):
                continue
            host_ip = port.get("host_ip")
            if (narrow and host_ip in WILDCARDS) or (remote and host_ip in LOOPBACK_IPS):
                port["host_ip"] = ip
    return config


def publish_port(config: dict[str, Any], service: str, port: int, ip: str = LOOPBACK_IP) -> bool:
    """Publish ``service``'s container ``port``/tcp on an ephemeral port of ``ip`` (loopback by
    default) unless the file already publishes it. Returns True when a port was added. A service missing from the
    config is left alone (the preflight names it)."""
    body = (config.get("services") or {}).get(service)
    if body is None:
        return False
    ports = body.setdefault("ports", [])
    if any(isinstance(p, dict) and int(p.get("target") or 0) == port for p in ports):
        return False
    ports.append({"mode": "ingress", "host_ip": ip, "target": port, "protocol": "tcp"})
    return True


def make_copy(resolved: dict[str, Any], options: CopyOptions) -> tuple[dict[str, Any], EdgePlan | None]:
    """The run's copy of a resolved compose config (changed in place and returned), with the
    edge plan when edges were inserted.

    Raises:
        KeyError: an edge names a host no service answers to (the preflight reports it first).
    """
    config = resolved
    config["name"] = options.project
    plan = None
    if options.edges:
        plan = insert_toxiproxy(config, options.edges, service=options.toxiproxy_service,
                                image=options.toxiproxy_image, api_port=options.toxiproxy_port,
                                config_file=options.edges_config)
    if options.publish is not None:
        service = plan.renamed.get(options.publish[0], options.publish[0]) if plan else options.publish[0]
        publish_port(config, service, options.publish[1], options.publish_ip)
    if options.loopback_only or options.publish_ip not in LOOPBACK_IPS:
        loopback_ports(config, options.publish_ip, narrow=options.loopback_only)
    return label_config(config, options.run_id), plan


def edges_of(proxies: Iterable[Any]) -> tuple[Any, ...]:
    """The edge proxies (no ``listen``) among a scenario's proxies."""
    return tuple(p for p in proxies if p.is_edge)
