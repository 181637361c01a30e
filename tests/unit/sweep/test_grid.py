"""--vary and --search parsing, the grid's cells, each cell's validated scenario, and when cells
may share one stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.sweep.grid import can_share_stack, grid, load_cell, parse_search, parse_vary, value_text

QUICKSTART = Path(__file__).resolve().parents[3] / "scenarios" / "quickstart.yaml"


def test_vary_values_are_yaml_scalars_in_the_order_given():
    axis = parse_vary("faults.0.latency_ms=250, 1000,4000")
    assert axis.path == "faults.0.latency_ms"
    assert axis.values == (250, 1000, 4000) and axis.texts == ("250", "1000", "4000")
    assert parse_vary("target.profile=naive,resilient").values == ("naive", "resilient")
    assert parse_vary("load.rate_rps=0.5,2").values == (0.5, 2)


@pytest.mark.parametrize("text, says", [
    ("faults.0.latency_ms", "expected PATH=V1,V2"),
    ("=1,2", "expected PATH=V1,V2"),
    ("load.users=", "expected PATH=V1,V2"),
    ("load.users=5,,20", "empty value"),
    ("load.users=5,5", "given twice"),
    ("load.users=[1]", "scalars"),
])
def test_a_malformed_vary_is_one_line_naming_the_flag(text, says):
    with pytest.raises(ScenarioError) as caught:
        parse_vary(text)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("--vary ") and says in caught.value.problems[0]


def test_search_range_and_whether_it_is_whole_numbers():
    s = parse_search("faults.0.latency_ms=250..4000")
    assert (s.path, s.lo, s.hi, s.integer) == ("faults.0.latency_ms", 250.0, 4000.0, True)
    assert parse_search("load.rate_rps=0.5..8").integer is False
    for bad in ("x=1..", "x=a..b", "x=5..5", "x=9..2", "x=1-5", "x=nan..3"):
        with pytest.raises(ScenarioError, match="--search"):
            parse_search(bad)


def test_grid_is_the_cross_product_first_axis_slowest():
    cells = grid([parse_vary("a=1,2,3"), parse_vary("b=x,y")])
    assert cells == [{"a": "1", "b": "x"}, {"a": "1", "b": "y"}, {"a": "2", "b": "x"},
                     {"a": "2", "b": "y"}, {"a": "3", "b": "x"}, {"a": "3", "b": "y"}]
    with pytest.raises(ScenarioError, match="given twice"):
        grid([parse_vary("a=1"), parse_vary("a=2")])


def test_value_text_keeps_integers_whole():
    assert value_text(957.6, True) == "958"
    assert value_text(0.25, False) == "0.25"


def test_a_cells_scenario_has_the_overrides_then_its_values():
    loaded = load_cell(QUICKSTART, ["load.duration_s=70"], {"faults.0.latency_ms": "250", "load.users": "5"})
    assert loaded.scenario.faults[0].latency_ms == 250
    assert loaded.scenario.load.users == 5 and loaded.scenario.load.duration_s == 70


def test_a_value_a_field_refuses_names_the_cell_and_the_field():
    with pytest.raises(ScenarioError) as caught:
        load_cell(QUICKSTART, [], {"faults.0.latency_ms": "-5"})
    line = caught.value.problems[0]
    assert line.startswith("cell faults.0.latency_ms=-5: ") and "quickstart.yaml:" in line
    assert "faults.0.latency_ms" in line.split(": ", 1)[1]


def test_cells_share_a_stack_only_when_the_stack_is_the_same():
    load_and_faults = [load_cell(QUICKSTART, [], {"faults.0.latency_ms": v, "load.users": u})
                       for v in ("250", "900") for u in ("5", "20")]
    assert can_share_stack(load_and_faults)
    profiles = [load_cell(QUICKSTART, [], {"target.profile": p}) for p in ("naive", "resilient")]
    assert not can_share_stack(profiles)
    proxies = [load_cell(QUICKSTART, [], {"proxies.0.listen": f"0.0.0.0:{p}"}) for p in (18080, 18081)]
    assert not can_share_stack(proxies)
    hosts = [load_cell(QUICKSTART, [], {"load.host": h}) for h in ("http://lb:8080", "http://api:8080")]
    assert not can_share_stack(hosts)
