"""``dns``: one name stops resolving for some client services; every other name still resolves.

Mechanism: every container of a compose network resolves names through Docker's embedded DNS
server at ``127.0.0.11:53`` inside its own network namespace (Docker redirects that address to a
random port of its resolver with NAT rules in the namespace). We add one iptables rule to each
client container's namespace (the host's ``iptables`` through ``nsenter -t PID -n``, or a helper
container on a remote engine: ``_iptables``) that drops
the UDP DNS packets whose question is ``hostname``: the rule uses the ``string`` match
(``xt_string``, Boyer-Moore, case-insensitive) on the name in DNS wire format (length-prefixed
labels, e.g. ``|09|toxiproxy``), anchored at the start of the question section (offset 40 = IPv4
header 20 + UDP header 8 + DNS header 12), so it matches ``hostname`` and the names a resolver
builds from it with a search domain (``toxiproxy.example.``), for both A and AAAA queries, and no
other name (``x.toxiproxy`` or ``toxiproxy2`` still resolve). Each rule carries the comment
``harness:<run-id>:<fault name>``; revert deletes exactly those.

What the client sees, by ``mode``:

- ``timeout`` (the DNS server does not answer for that name): the *answers* are dropped on the
  way in (``INPUT``, source ``127.0.0.11`` port 53). The query is sent and answered, the answer
  never arrives: glibc's ``getaddrinfo`` (Python ``socket``, aiohttp's default resolver,
  redis-py, ``getent``) waits ``timeout`` x ``attempts`` from resolv.conf (Docker writes none, so
  glibc's 5 s x 2 = ~10 s) and then fails with ``EAI_AGAIN`` ("Temporary failure in name
  resolution", Python ``socket.gaierror`` -3). Go's resolver (Toxiproxy) waits likewise; HAProxy
  waits ``timeout resolve`` per try, ``resolve_retries`` times.
- ``error`` (resolution fails at once): the *queries* are dropped on the way out (``OUTPUT``,
  destination ``127.0.0.11``; the port is already rewritten by Docker's NAT there, so no port
  match). A drop in ``OUTPUT`` makes the client's own ``sendto`` fail with ``EPERM``, so
  ``getaddrinfo`` fails within milliseconds with the same ``EAI_AGAIN``.

Neither mode can forge an answer: a client never sees NXDOMAIN ("Name or service not known",
``EAI_NONAME``); that would need a fake DNS server.

Connections already open when the fault starts are not affected at all: a resolution happens
only when a client opens a new connection, and only when its own cache has no entry. Caches in
the sample stack: glibc has none (no nscd in the images); aiohttp (api -> catalog) caches each
resolution for 10 s (``ttl_dns_cache``) and above all reuses pooled keep-alive connections, which
never resolve again; redis-py (api -> Redis) resolves only when its pool opens a connection, but
a young pool still grows with concurrency and a connection is replaced after every timeout, so
under load some commands need the name (api unable to resolve ``toxiproxy`` for 25 s under the
10-user load: 0 to 18 % of orders failed, run to run, and when /health's Redis ping was among
them the lb took that replica out); Go
(Toxiproxy -> upstream) resolves at every dial (one per proxied client connection); HAProxy
(lb -> api) re-resolves every ``hold valid`` (1 s) whatever its connections do, keeps the last
answer for ``hold timeout`` / ``hold other`` (5 s) after resolution starts failing, and then puts
the servers in maintenance (503 for every request). So the same fault is invisible to a client
with warm pools for a long time, hits a client that churns connections at once, and takes an
HAProxy backend down after ~7 s.

Limits: only queries to Docker's embedded DNS (``127.0.0.11``), i.e. containers on a
user-defined network (what compose always creates); DNS over TCP (used only for truncated
answers) is not blocked; IPv4 only; an IPv4 header with options would shift the question past
offset 40 (Docker's traffic has none). Needs the kernel's ``xt_string`` match (inject fails with
an EnvironmentFailure saying so otherwise), root on the host, and the host's ``iptables``. Client
containers are resolved at inject: a container that starts later resolves normally. Toxiproxy as
a client (its upstream names) needs ``target.allow_toxiproxy_faults: true``; inject checks every
client against the stack's guard before the first rule goes in.

Effect evidence (how analysis knows the fault acted): the packet counters of the fault's own
rules, read right before revert (``effect_counters()``: ``matched_packets``, ``matched_bytes``,
``rules_in_place``). Every counted packet is a query (``error``) or an answer (``timeout``) for
``hostname`` that was dropped: a resolution the fault broke. Clients that resolved nothing during
the fault (warm pools, caches: see above) count 0, and the window stays inconclusive, which is
what happened: the fault changed nothing for them.
"""

from __future__ import annotations

from harness.errors import EnvironmentFailure
from harness.faults._iptables import NetnsRules, Rule, container_ips, netns_effect, rule_comment
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.scenario.faults.dns import DnsSpec, dns_wire

DOCKER_DNS_IP = "127.0.0.11"
"""Docker's embedded DNS server inside every container on a user-defined network."""


QUESTION_OFFSET = 40
"""Offset of the DNS question's first byte from the start of the IPv4 packet (what
``-m string --from`` counts from): IPv4 header 20 + UDP header 8 + DNS header 12."""




def hex_string(data: bytes) -> str:
    """iptables ``--hex-string`` notation of ``data``: ``|0974...|`` (no characters a shell or
    iptables would interpret)."""
    return f"|{data.hex()}|"


def dns_rules(spec: DnsSpec) -> list[Rule]:
    """The one rule each client container of ``spec`` gets (see the module docstring for the
    matches)."""
    wire = dns_wire(spec.hostname)
    string = ("-m", "string", "--algo", "bm", "--icase", "--from", str(QUESTION_OFFSET),
              "--to", str(QUESTION_OFFSET + len(wire)), "--hex-string", hex_string(wire))
    if spec.mode == "timeout":
        matches = ("-s", f"{DOCKER_DNS_IP}/32", "-p", "udp", "--sport", "53", *string)
        return [Rule("INPUT", matches, ("-j", "DROP"))]
    return [Rule("OUTPUT", ("-d", f"{DOCKER_DNS_IP}/32", "-p", "udp", *string), ("-j", "DROP"))]


@register
class DnsFault(Fault):
    """Drops DNS traffic for ``hostname`` in each client container; revert deletes the rules."""

    spec_type = DnsSpec
    spec: DnsSpec

    def __init__(self, spec: DnsSpec, ctx) -> None:
        super().__init__(spec, ctx)
        self._rules = NetnsRules(ctx.containers, rule_comment(ctx.containers.run_id, spec.name))

    def inject(self) -> list[str]:
        """Make ``hostname`` fail to resolve in every running container of ``for_services``;
        return their names (sorted).

        Raises:
            EnvironmentFailure: a client service has no running container, or iptables failed
                (e.g. no ``xt_string`` in the kernel); rules already added are removed by revert.
        """
        clients = sorted(container_ips(self.ctx.containers, self.spec.for_services, f"dns {self.spec.name}"))
        rules = dns_rules(self.spec)
        self._rules.claim(clients)
        for name in clients:
            try:
                self._rules.add(name, rules)
            except EnvironmentFailure as exc:
                if "load match `string'" in str(exc):  # iptables: "Couldn't load match `string'"
                    raise EnvironmentFailure(
                        f"dns {self.spec.name}: iptables' string match (kernel xt_string) is unavailable: {exc}"
                    ) from None
                raise
        return clients

    def effect_counters(self) -> dict[str, float]:
        """``matched_packets`` / ``matched_bytes``: DNS packets for ``hostname`` dropped since
        inject, and ``rules_in_place`` (see :func:`netns_effect`); ``{}`` if unreadable. Never raises."""
        return netns_effect(self._rules, f"dns {self.spec.name}")

    def revert(self) -> list[str]:
        """Delete the rules; return the containers cleaned ([] before inject and on a second call)."""
        return self._rules.remove_all()
