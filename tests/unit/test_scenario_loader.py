"""The loader's messages: file:line:col, field path, suggestion; overrides; hostile YAML."""

import textwrap

import pytest

from harness.errors import ScenarioError
from harness.scenario import apply_override, load_scenario

GOOD = """\
name: demo
expectations: ["error_rate < 0.01 in fault"]
proxies:
  - {name: catalog, listen: "0.0.0.0:18080", upstream: "catalog:8080"}
load:
  host: http://lb:8080
  duration_s: 30
  requests:
    - {path: /products/1}
faults:
  - kind: latency
    proxy: catalog
    latency_ms: 100
    at_s: 5
    duration_s: 10
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(path, overrides=None):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value.problems


def test_good_file_loads_with_hash(tmp_path):
    loaded = load_scenario(write(tmp_path, GOOD))
    assert loaded.scenario.faults[0].latency_ms == 100
    assert len(loaded.sha256) == 64


def test_unknown_fault_kind_and_negative_duration_both_reported_with_lines(tmp_path):
    path = write(tmp_path, GOOD.replace("kind: latency", "kind: lag") + """\
  - kind: kill
    service: api
    at_s: 20
    duration_s: -4
""")
    lines = problems(path)
    assert f"{path}:11:11: faults.0.kind: unknown kind 'lag'" in lines[0]
    assert lines[1].startswith(f"{path}:19:17: faults.1.duration_s:")
    assert "greater than 0" in lines[1]


def test_unknown_key_suggests_nearest(tmp_path):
    lines = problems(write(tmp_path, GOOD.replace("latency_ms: 100", "latncy_ms: 100")))
    assert any(":13:5: faults.0.latncy_ms: unknown key 'latncy_ms'; did you mean 'latency_ms'?" in l for l in lines)
    lines = problems(write(tmp_path, GOOD.replace("duration_s: 30", "duraton_s: 30")))
    assert any("load.duraton_s: unknown key 'duraton_s'; did you mean 'duration_s'?" in l for l in lines)


def test_missing_field_points_at_parent(tmp_path):
    lines = problems(write(tmp_path, GOOD.replace("    latency_ms: 100\n", "")))
    assert lines == [f"{tmp_path / 's.yaml'}:11:5: faults.0.latency_ms: required field is missing"]


def test_yaml_syntax_error_has_position(tmp_path):
    lines = problems(write(tmp_path, "name: [unclosed\nload: {}\n"))
    assert len(lines) == 1 and ":2:" in lines[0] and "yaml:" in lines[0]


def test_empty_file_and_non_mapping(tmp_path):
    assert "empty" in problems(write(tmp_path, ""))[0]
    assert "mapping" in problems(write(tmp_path, "- a\n- b\n"))[0]


def test_duplicate_key_is_an_error(tmp_path):
    lines = problems(write(tmp_path, GOOD + "name: again\n"))
    assert any("duplicate key 'name'" in l and ":16:1:" in l for l in lines)


def test_alias_bomb_fails_fast(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb += f"{cur}: &{cur} [{', '.join('*' + prev for _ in range(10))}]\n"
    assert "alias bomb" in problems(write(tmp_path, bomb))[0]


def test_python_tags_are_refused(tmp_path):
    lines = problems(write(tmp_path, "name: !!python/object/apply:os.system ['true']\n"))
    assert "yaml:" in lines[0]


def test_set_overrides_scalars_and_list_items(tmp_path):
    loaded = load_scenario(write(tmp_path, GOOD), ["target.profile=naive", "faults.0.latency_ms=300", "load.users=3"])
    s = loaded.scenario
    assert (s.target.profile, s.faults[0].latency_ms, s.load.users) == ("naive", 300, 3)
    assert loaded.overrides == ["target.profile=naive", "faults.0.latency_ms=300", "load.users=3"]


def test_set_override_errors_are_clear():
    data = {"faults": [{"a": 1}], "name": "x"}
    with pytest.raises(ScenarioError, match="expected key.path=value"):
        apply_override(data, "nonsense")
    with pytest.raises(ScenarioError, match="has no item 3"):
        apply_override(data, "faults.3.a=1")
    with pytest.raises(ScenarioError, match="is not a mapping"):
        apply_override(data, "name.x=1")


def test_bad_override_value_is_reported_as_a_field_error(tmp_path):
    lines = problems(write(tmp_path, GOOD), ["load.users=-1"])
    assert any("load.users: Input should be greater than or equal to 1" in l for l in lines)


def test_a_scenario_without_expectations_is_refused_unless_it_is_a_measurement(tmp_path):
    bare = GOOD.replace('expectations: ["error_rate < 0.01 in fault"]\n', "")
    lines = problems(write(tmp_path, bare))
    assert lines == [f"{tmp_path / 's.yaml'}:1:1: expectations: a scenario judges at least one expectation (a run "
                     "that judges nothing cannot pass); add expectations, or set mode: measure for a measurement run"]
    empty = problems(write(tmp_path, bare.replace("name: demo\n", "name: demo\nexpectations: []\n")))
    assert len(empty) == 1 and ":2:1: expectations:" in empty[0]  # the key's own line
    assert load_scenario(write(tmp_path, bare + "mode: measure\n")).scenario.mode == "measure"


def test_a_within_s_as_long_as_its_fault_is_refused(tmp_path):
    text = GOOD.replace('expectations: ["error_rate < 0.01 in fault"]',
                        'expectations: [{check: failover, window: "fault:latency-1", within_s: 10}]')
    lines = problems(write(tmp_path, text))
    assert len(lines) == 1 and ":2:" in lines[0] and "expectations.0.within_s: within_s 10 is not shorter than " \
                                                     "fault latency-1's duration_s 10" in lines[0]
    assert load_scenario(write(tmp_path, text.replace("within_s: 10", "within_s: 9.5")))


def test_checks_of_fault_windows_cannot_be_aimed_at_recovery_and_a_toxic_must_be_able_to_act(tmp_path):
    text = GOOD.replace('expectations: ["error_rate < 0.01 in fault"]',
                        'expectations: [{check: circuit_breaker, window: recovery, fail_fast_ms: 100}]')
    lines = problems(write(tmp_path, text))
    assert len(lines) == 1 and "expectations.0.window: circuit_breaker judges fault windows only" in lines[0]
    lines = problems(write(tmp_path, GOOD.replace("    latency_ms: 100\n", "    latency_ms: 100\n    toxicity: 0\n")))
    assert len(lines) == 1 and "faults.0.toxicity" in lines[0] and "greater than 0" in lines[0]
