"""Property-based fuzzing of the scenario loader (3 x 700 examples): whatever the bytes, the loader
either returns a scenario or raises ScenarioError with file:line:col lines. Never any other
exception."""

import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.scenario import load_scenario

VALID = (Path(__file__).parent.parent.parent / "scenarios" / "quickstart.yaml").read_text()
SETTINGS = settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
keys = st.sampled_from(["name", "load", "faults", "kind", "at_s", "duration_s", "proxy", "latency_ms", "users",
                        "host", "requests", "path", "expectations", "window", "metric", "<", "target", "x"])
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


def check(tmp_path, data: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems
        for line in exc.problems:
            assert re.match(r"^.+:\d+:\d+: ", line), line


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(tmp_path, data):
    check(tmp_path, data)


@SETTINGS
@given(documents)
def test_random_yaml_documents(tmp_path, doc):
    check(tmp_path, yaml.safe_dump(doc).encode())


@SETTINGS
@given(st.integers(0, len(VALID) - 1), st.integers(0, 40), st.text(max_size=12))
def test_mutated_valid_scenario(tmp_path, at, cut, insert):
    check(tmp_path, (VALID[:at] + insert + VALID[at + cut:]).encode())
