"""Network fault kinds without Docker: spec validation, the toxics they ask Toxiproxy for, and
revert rules (a fake Toxiproxy client records the calls)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from harness.errors import EnvironmentFailure
from harness.faults import FaultContext, fault_for, fault_kinds
from harness.scenario.models import FaultEntry, Scenario
from harness.toxiproxy.client import ToxicConfig

ENTRY = TypeAdapter(FaultEntry)
ENVELOPE = {"name": "f", "at_s": 1, "duration_s": 2}
KINDS = ["bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "down", "blackhole"]
MINIMAL = {
    "bandwidth": {"rate_kbps": 1},
    "slow_close": {"delay_ms": 100},
    "timeout": {"timeout_ms": 0},
    "reset_peer": {},
    "slicer": {"average_size_bytes": 10},
    "limit_data": {"bytes": 100},
    "down": {},
    "blackhole": {},
}


class FakeToxiproxy:
    """Records calls; ``fail_on`` names a method that raises EnvironmentFailure."""

    def __init__(self, proxies=("catalog",), fail_on: str | None = None):
        self.calls: list[tuple] = []
        self.toxics: dict[tuple[str, str], ToxicConfig] = {}
        self.enabled = {p: True for p in proxies}
        self.fail_on = fail_on

    def _maybe_fail(self, method: str) -> None:
        if self.fail_on == method:
            raise EnvironmentFailure(f"toxiproxy {method} failed: fake")

    def add_toxic(self, proxy: str, toxic: ToxicConfig) -> None:
        self.calls.append(("add_toxic", proxy, toxic.name))
        self._maybe_fail("add_toxic")
        self.toxics[(proxy, toxic.name)] = toxic

    def remove_toxic(self, proxy: str, name: str) -> bool:
        self.calls.append(("remove_toxic", proxy, name))
        return self.toxics.pop((proxy, name), None) is not None

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        self.calls.append(("set_enabled", proxy, enabled))
        self._maybe_fail("set_enabled")
        if proxy not in self.enabled:
            raise EnvironmentFailure(f"toxiproxy POST /proxies/{proxy} answered 404: proxy not found")
        self.enabled[proxy] = enabled

    def drop_connections(self, proxy: str) -> None:
        self.calls.append(("drop_connections", proxy))

    def proxies(self) -> dict[str, dict]:
        return {p: {"enabled": e} for p, e in self.enabled.items()}


def spec(kind: str, **params):
    return ENTRY.validate_python({"kind": kind, **ENVELOPE, "proxy": "catalog", **MINIMAL[kind], **params})


def build(kind: str, toxiproxy: FakeToxiproxy | None = None, **params):
    parsed = spec(kind, **params)
    toxiproxy = toxiproxy or FakeToxiproxy()
    return fault_for(parsed)(parsed, FaultContext(toxiproxy=toxiproxy, containers=None)), toxiproxy


def test_every_network_kind_is_registered_with_summary_and_seed_section():
    assert set(KINDS) <= set(fault_kinds())
    for kind in KINDS:
        parsed = spec(kind)
        assert parsed.summary and parsed.seed_section, kind
        assert parsed.proxy_refs() == ["catalog"]


@pytest.mark.parametrize("kind, params, attributes", [
    ("bandwidth", {"rate_kbps": 0}, {"rate": 0}),
    ("bandwidth", {"rate_kbps": 250}, {"rate": 250}),
    ("slow_close", {"delay_ms": 700}, {"delay": 700}),
    ("timeout", {"timeout_ms": 1500}, {"timeout": 1500}),
    ("reset_peer", {"timeout_ms": 20}, {"timeout": 20}),
    ("slicer", {"average_size_bytes": 64, "size_variation_bytes": 8, "delay_us": 500},
     {"average_size": 64, "size_variation": 8, "delay": 500}),
    ("limit_data", {"bytes": 0}, {"bytes": 0}),
    ("limit_data", {"bytes": 4096}, {"bytes": 4096}),
])
def test_toxic_attributes_are_in_toxiproxy_units(kind, params, attributes):
    fault, toxiproxy = build(kind, toxicity=0.5, **params)
    assert fault.inject() == ["catalog/harness-f-downstream"]
    (toxic,) = toxiproxy.toxics.values()
    assert (toxic.type, toxic.stream, toxic.toxicity, toxic.attributes) == (kind, "downstream", 0.5, attributes)


def test_stream_both_adds_one_toxic_per_direction():
    fault, toxiproxy = build("bandwidth", stream="both")
    assert fault.inject() == ["catalog/harness-f-upstream", "catalog/harness-f-downstream"]
    assert {t.stream for t in toxiproxy.toxics.values()} == {"upstream", "downstream"}


@pytest.mark.parametrize("kind, params, message", [
    ("bandwidth", {"rate_kbps": -1}, "greater than or equal to 0"),
    ("bandwidth", {"rate_kbps": 10_000_001}, "less than or equal"),
    ("bandwidth", {"rate": 10}, "Extra inputs are not permitted"),  # Toxiproxy's name, not ours
    ("slow_close", {"delay_ms": -5}, "greater than or equal to 0"),
    ("timeout", {"timeout_ms": 600_001}, "less than or equal"),
    ("timeout", {"timeout_ms": 1.5}, "integer"),
    ("reset_peer", {"timeout_ms": -1}, "greater than or equal to 0"),
    ("slicer", {"average_size_bytes": 1}, "greater than or equal to 2"),
    ("slicer", {"size_variation_bytes": 0}, "greater than or equal to 1"),
    ("slicer", {"average_size_bytes": 10, "size_variation_bytes": 10}, "must be smaller than average_size_bytes"),
    ("slicer", {"delay_us": -1}, "greater than or equal to 0"),
    ("limit_data", {"bytes": -1}, "greater than or equal to 0"),
    ("bandwidth", {"toxicity": 1.5}, "less than or equal to 1"),
    ("timeout", {"stream": "sideways"}, "upstream"),
])
def test_bad_parameters_are_rejected(kind, params, message):
    with pytest.raises(ValidationError, match=message):
        spec(kind, **params)


@pytest.mark.parametrize("kind", ["bandwidth", "slow_close", "timeout", "limit_data"])
def test_required_parameter_is_required(kind):
    (required,) = MINIMAL[kind]
    with pytest.raises(ValidationError, match=required):
        ENTRY.validate_python({"kind": kind, **ENVELOPE, "proxy": "catalog"})


def test_slicer_and_reset_peer_defaults():
    slicer = spec("slicer")
    assert (slicer.size_variation_bytes, slicer.delay_us) == (1, 0)
    assert spec("reset_peer").timeout_ms == 0


def test_blackhole_is_a_never_closing_timeout_toxic_on_both_streams():
    fault, toxiproxy = build("blackhole", toxicity=0.3)
    assert fault.inject() == ["catalog/harness-f-upstream", "catalog/harness-f-downstream"]
    assert [(t.type, t.stream, t.toxicity, t.attributes) for t in toxiproxy.toxics.values()] == [
        ("timeout", "upstream", 0.3, {"timeout": 0}),
        ("timeout", "downstream", 0.3, {"timeout": 0}),
    ]
    with pytest.raises(ValidationError, match="'both'"):
        spec("blackhole", stream="downstream")


def test_down_takes_only_a_proxy():
    assert spec("down").proxy == "catalog"
    for extra in ({"stream": "both"}, {"toxicity": 0.5}, {"reset_connections": True}):
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            spec("down", **extra)
    with pytest.raises(ValidationError, match="proxy"):
        ENTRY.validate_python({"kind": "down", **ENVELOPE})


def test_scenario_rejects_a_down_on_an_undeclared_proxy():
    base = {
        "name": "demo",
        "proxies": [{"name": "catalog", "listen": "0.0.0.0:18080", "upstream": "catalog:8080"}],
        "load": {"host": "http://lb:8080", "duration_s": 60, "requests": [{"path": "/products/1"}]},
        "mode": "measure",  # no expectations needed: only the proxy reference is judged here
    }
    Scenario.model_validate({**base, "faults": [{"kind": "down", "proxy": "catalog", "at_s": 5, "duration_s": 5}]})
    with pytest.raises(ValidationError, match="unknown proxy 'redis'"):
        Scenario.model_validate({**base, "faults": [{"kind": "down", "proxy": "redis", "at_s": 5, "duration_s": 5}]})


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "down"])
def test_toxic_revert_is_idempotent_and_safe_before_inject(kind):
    fault, toxiproxy = build(kind)
    assert fault.revert() == []
    touched = fault.inject()
    assert fault.revert() == touched
    assert fault.revert() == []
    assert toxiproxy.toxics == {}


def test_toxic_revert_after_a_partial_inject_removes_what_was_added():
    toxiproxy = FakeToxiproxy()
    fault, _ = build("timeout", toxiproxy, stream="both")
    real_add = toxiproxy.add_toxic

    def add_then_fail(proxy, toxic):
        if toxic.stream == "downstream":
            raise EnvironmentFailure("toxiproxy POST failed: fake")
        real_add(proxy, toxic)

    toxiproxy.add_toxic = add_then_fail
    with pytest.raises(EnvironmentFailure):
        fault.inject()
    assert fault.revert() == ["catalog/harness-f-upstream"]
    assert toxiproxy.toxics == {}


def test_reset_connections_drops_open_connections_after_adding_the_toxic():
    fault, toxiproxy = build("reset_peer", reset_connections=True)
    fault.inject()
    assert toxiproxy.calls == [("add_toxic", "catalog", "harness-f-downstream"), ("drop_connections", "catalog")]


def test_down_disables_then_reenables_once():
    fault, toxiproxy = build("down")
    assert fault.revert() == []
    assert toxiproxy.calls == []
    assert fault.inject() == ["catalog"]
    assert toxiproxy.enabled["catalog"] is False
    assert fault.revert() == ["catalog"]
    assert toxiproxy.enabled["catalog"] is True
    assert fault.revert() == []
    assert toxiproxy.calls == [("set_enabled", "catalog", False), ("set_enabled", "catalog", True)]


def test_down_revert_after_a_failed_inject_reenables():
    toxiproxy = FakeToxiproxy(fail_on="set_enabled")
    fault, _ = build("down", toxiproxy)
    with pytest.raises(EnvironmentFailure):
        fault.inject()
    toxiproxy.fail_on = None
    assert fault.revert() == ["catalog"]
    assert toxiproxy.enabled["catalog"] is True


def test_down_revert_failure_keeps_the_fault_held_for_a_retry():
    fault, toxiproxy = build("down")
    fault.inject()
    toxiproxy.fail_on = "set_enabled"
    with pytest.raises(EnvironmentFailure):
        fault.revert()
    toxiproxy.fail_on = None
    assert fault.revert() == ["catalog"]


def test_down_revert_of_a_vanished_proxy_is_a_no_op():
    fault, toxiproxy = build("down")
    fault.inject()
    del toxiproxy.enabled["catalog"]
    assert fault.revert() == []
    assert fault.revert() == []


def test_overlapping_downs_on_one_proxy_reenable_at_the_last_revert():
    toxiproxy = FakeToxiproxy()
    first, _ = build("down", toxiproxy)
    second, _ = build("down", toxiproxy)
    other_run, other_toxiproxy = build("down")  # another run's client: independent
    first.inject()
    second.inject()
    other_run.inject()
    assert first.revert() == []
    assert toxiproxy.enabled["catalog"] is False
    assert other_run.revert() == ["catalog"]
    assert second.revert() == ["catalog"]
    assert toxiproxy.enabled["catalog"] is True and other_toxiproxy.enabled["catalog"] is True
