"""The scenario's proxies in the run's Toxiproxy, and the watch on the traffic through them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.environment.proxy_watch import ProxyWatch, local_pid
from harness.errors import EnvironmentFailure
from harness.toxiproxy import ProxyConfig, ToxiproxyClient

if TYPE_CHECKING:
    from harness.environment import Stack
    from harness.environment.ledger import Ledger
    from harness.journal import Journal
    from harness.scenario.models import Scenario


def create_proxies(toxiproxy: ToxiproxyClient, scenario: Scenario, stack: Stack, journal: Journal,
                   ledger: Ledger) -> None:
    """Create the scenario's proxies in the run's Toxiproxy. An edge's proxy forwards to the real
    service's private name (edges.py) and already exists when the inserted Toxiproxy started
    from its ``-config`` file; it is then left as it is (replacing it would drop the connections
    clients opened at start-up)."""
    upstreams = stack.edge_plan.upstreams if stack.edge_plan else {}
    existing = toxiproxy.proxies()
    for proxy in scenario.proxies:
        upstream = upstreams.get(proxy.name, proxy.upstream)
        ledger.record("inside_run", what=f"proxy {proxy.name} in the run's Toxiproxy")
        have = existing.get(proxy.name) or {}
        if not (have.get("upstream") == upstream and have.get("listen") == proxy.listen_address):
            toxiproxy.create_proxy(ProxyConfig(proxy.name, proxy.listen_address, upstream))
        journal.record("proxy.create", proxy=proxy.name, listen=proxy.listen_address, upstream=upstream,
                       dialled=proxy.upstream, edge=proxy.is_edge)


def watch_proxies(stack: Stack, scenario: Scenario, journal: Journal) -> ProxyWatch:
    """Start watching the traffic through the scenario's proxies (see
    :mod:`harness.environment.proxy_watch`), journalling ``proxy.watch`` first.

    Raises:
        EnvironmentFailure: the Toxiproxy service has no container, or the engine failed.
    """
    names = stack.containers.containers_of(scenario.target.toxiproxy_service)
    if not names:
        raise EnvironmentFailure(f"service {scenario.target.toxiproxy_service!r} has no container to watch")
    container = stack.containers.inspect(names[0])
    pid = local_pid(stack.docker, container)
    proxies = {p.name: p.listen_address for p in scenario.proxies}
    journal.record("proxy.watch", container=container.name, proxies=proxies, pid=pid)
    watch = ProxyWatch(container, proxies, journal, pid)
    watch.start()
    return watch
