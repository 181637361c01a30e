"""Checks of a user's compose project against what a run needs, before anything starts.

Each problem is ``(scenario field, message)``; the message says what is wrong and the fix. The
caller turns them into ``file:line:col`` lines (exit 2). Reads the resolved compose config only;
changes nothing and talks to no engine.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from harness.environment.edges import edge_problems


def load_target(host: str, services: dict[str, Any]) -> tuple[str, int] | None:
    """``(service, port)`` when the load host ``http(s)://<service>:<port>`` names a compose
    service (port 80/443 by scheme when absent); None for any other host."""
    parts = urlsplit(host)
    if not parts.hostname or parts.hostname not in services:
        return None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _container_names(services: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for name, body in services.items():
        if body.get("container_name"):
            out.append(("target.compose", f"service {name!r} sets container_name {body['container_name']!r}: two "
                        "runs (or a run next to your own copy of the stack) would collide on that name; remove it "
                        "(the harness names containers harness-<run id>-<service>-N)"))
    return out


def _load_host(host: str, services: dict[str, Any]) -> list[tuple[str, str]]:
    target = load_target(host, services)
    if target is None:
        return []
    mode = str(services[target[0]].get("network_mode") or "")
    if mode == "host":
        return [("load.host", f"service {target[0]!r} uses network_mode host: the harness cannot publish its port on "
                 f"loopback; use load.host: http://127.0.0.1:{target[1]}")]
    return []


def stack_problems(config: dict[str, Any], scenario: Any) -> list[tuple[str, str]]:
    """Everything the resolved compose ``config`` lacks for ``scenario`` (a
    ``harness.scenario.models.Scenario``): ``container_name`` set, edges that cannot be inserted
    (unknown host, host networking, a Toxiproxy already there), a load host that cannot be
    published. Returns ``(field, message)`` pairs; empty when the stack is fit to run."""
    services = config.get("services") or {}
    problems = _container_names(services)
    problems += [(f"proxies.{i}.upstream", message)
                 for i, message in edge_problems(config, scenario.proxies, scenario.target.toxiproxy_service)]
    problems += _load_host(scenario.load.host, services)
    return problems
