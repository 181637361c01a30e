"""Structural fuzzing of the scenario loader: generated YAML *text*, not values inside a valid
document. Anchors and aliases (recursive ones too), deep flow and block nesting, tags, merge
keys, several documents, directives, byte order marks and other encodings, control characters,
and byte-level damage of a real scenario.

The invariant: ``load_scenario`` returns a scenario, or raises ScenarioError whose every
problem is one ``file:line:col: `` line; never any other exception (RecursionError,
MemoryError, ValueError...). The normal run draws a few thousand examples from a fixed seed
(``derandomize``); ``pytest -m fuzz tests/unit`` draws ``HARNESS_FUZZ_EXAMPLES`` (default
20,000) per test with a random seed. A failure found here is shrunk by hypothesis: add the
shrunk file to ``tests/corpus/malformed/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.scenario import load_scenario

VALID = (Path(__file__).parent.parent.parent / "scenarios" / "quickstart.yaml").read_text()

TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!timestamp", "!!seq", "!!map", "!!set",
        "!!omap", "!!pairs", "!!merge", "!!python/object:os.system", "!!python/name:os.system", "!custom",
        "!<tag:yaml.org,2002:str>", "!e!x", "!"]
SCALARS = ["1", "-0", "0x1F", "0o17", "1_000", "9" * 5000, "1e400", ".nan", "-.inf", "2020-13-45", "2020-01-01",
           "2001-12-14t21:59:43.10-05:00", "~", "null", "yes", "No", "''", '""', "'a''b'", '"\\x00\\u2028\\U0010ffff"',
           '"\\q"', "|\n  block\n", ">-\n  folded\n", "name", "load", "faults", "kind", "latency", "${env:HOME}",
           "${env:NOPE_NOT_SET}", "%", "@x", "`x", "*", "&", "!", "<<", "? x", "- x", ": x", "#c", "a: b"]
KEYS = ["name", "load", "faults", "kind", "at_s", "duration_s", "users", "host", "requests", "expectations", "<<",
        "x-a", "target", "proxies", "window", "metric", "<", "1", "~", "? complex", "[a]", "{b: c}"]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x80", "\x85", "\x9f", "\ufeff",
           "\ud800", "\ufffe", "\uffff", "\u2028", "\u2029", "\t", "\r", "\r\n"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be", "latin-1", "cp1252"]

FAST = int(os.environ.get("HARNESS_FUZZ_FAST_EXAMPLES", "600"))
DEEP = int(os.environ.get("HARNESS_FUZZ_EXAMPLES", "20000"))
COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])
NORMAL = settings(max_examples=FAST, derandomize=True, **COMMON)
LONG = settings(max_examples=DEEP, **COMMON)


@st.composite
def yaml_text(draw: st.DrawFn, depth: int = 0, anchors: list[str] | None = None, open_: list[str] | None = None,
              indent: int = 0) -> str:
    """A YAML node as text: scalar, alias, or flow/block collection, with optional anchor and tag.
    ``anchors`` holds the anchors defined so far (aliases pick among them, and among the still
    open ones in ``open_``: a recursive alias)."""
    anchors = [] if anchors is None else anchors
    open_ = [] if open_ is None else open_
    kind = draw(st.sampled_from(["scalar", "alias", "flow_seq", "flow_map", "block_seq", "block_map"]
                                if depth < 6 else ["scalar", "alias"]))
    if kind == "alias":
        pool = anchors + open_ + ["undefined"]
        return "*" + draw(st.sampled_from(pool))
    prefix = ""
    anchor = None
    if draw(st.integers(0, 3)) == 0:
        anchor = f"a{len(anchors) + len(open_)}"
        prefix += f"&{anchor} "
    if draw(st.integers(0, 5)) == 0:
        prefix += draw(st.sampled_from(TAGS)) + " "
    if kind == "scalar":
        return prefix + draw(st.sampled_from(SCALARS) | st.text(max_size=8).map(repr))
    if anchor:
        open_.append(anchor)
    children = draw(st.integers(0, 3))
    pad = " " * (indent + 2)
    items = []
    for _ in range(children):
        value = draw(yaml_text(depth + 1, anchors, open_, indent + 2))
        key = draw(st.sampled_from(KEYS))
        items.append((key, value))
    if anchor:
        open_.remove(anchor)
        anchors.append(anchor)
    if kind == "flow_seq":
        return prefix + "[" + ", ".join(v.replace("\n", " ") for _, v in items) + "]"
    if kind == "flow_map":
        return prefix + "{" + ", ".join(f"{k}: {v}".replace("\n", " ") for k, v in items) + "}"
    if not items:
        return prefix + ("[]" if kind == "block_seq" else "{}")
    if kind == "block_seq":
        return prefix + "".join(f"\n{pad}- {v}" for _, v in items)
    return prefix + "".join(f"\n{pad}{k}: {v}" for k, v in items)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A whole stream: optional directives, one or more documents (each a block mapping with
    scenario-like keys), optional merges of earlier anchors."""
    parts = []
    for _ in range(draw(st.integers(1, 3) if draw(st.booleans()) else st.just(1))):
        anchors: list[str] = []
        lines = []
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["%YAML 1.1", "%YAML 1.2", "%YAML 2.0", "%TAG !e! tag:e.com,2000:",
                                               "%FOO bar"])))
        if lines or draw(st.booleans()):
            lines.append("---")
        for key in draw(st.lists(st.sampled_from(KEYS), max_size=6)):
            lines.append(f"{key}: {draw(yaml_text(1, anchors))}")
        if anchors and draw(st.booleans()):
            lines.append(f"<<: *{draw(st.sampled_from(anchors))}")
        if draw(st.integers(0, 3)) == 0:
            lines.append("...")
        parts.append("\n".join(lines))
    return "\n".join(parts) + "\n"


def deep_nesting(style: str, depth: int, closed: bool) -> str:
    """``depth`` levels of one nesting style, closed or left open."""
    if style == "flow_seq":
        return "name: x\nload: " + "[" * depth + ("]" * depth if closed else "")
    if style == "flow_map":
        return "name: x\nload: " + "{a: " * depth + "1" + ("}" * depth if closed else "")
    if style == "block_seq":
        return "name: x\nload:\n" + "".join(" " * i + "-\n" for i in range(min(depth, 400)))
    if style == "block_map":
        return "name: x\nload:\n" + "".join(" " * i + f"k{i}:\n" for i in range(min(depth, 400)))
    if style == "aliases":
        lines = [f"x-a0: &a0 {'[' * 50}1{']' * 50}"]
        lines += [f"x-a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, min(depth, 60))]
        return "\n".join(lines) + f"\nname: *a{min(depth, 60) - 1}\n"
    return "name: x\nload: " + "- " * depth + "1"


def check(tmp_path: Path, data: bytes) -> None:
    """Load ``data`` as a scenario file: a scenario, or one located line per problem."""
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems, "ScenarioError without a problem line"
        for line in exc.problems:
            assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: \S", line), line
            assert "\n" not in line and "\r" not in line, line


def _structures(tmp_path: Path, text: str) -> None:
    check(tmp_path, text.encode("utf-8", "surrogatepass"))


def _spliced(tmp_path: Path, line: int, fragment: str, indent: int) -> None:
    lines = VALID.splitlines()
    at = line % (len(lines) + 1)
    lines.insert(at, " " * indent + fragment)
    check(tmp_path, "\n".join(lines).encode("utf-8", "surrogatepass"))


def _encoded(tmp_path: Path, text: str, encoding: str, control: str, at: int) -> None:
    at %= len(text) + 1
    damaged = text[:at] + control + text[at:]
    check(tmp_path, damaged.encode(encoding, "surrogatepass" if encoding.startswith("utf-8") else "replace"))


def _mutated(tmp_path: Path, edits: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(VALID.encode())
    for at, cut, insert in edits:
        at %= len(data) + 1
        data[at:at + cut] = insert
    check(tmp_path, bytes(data))


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=6)), min_size=1, max_size=6)
texts = st.sampled_from([VALID, "name: x\nload: {users: 1}\n", "a: &a [1]\nb: *a\n"])


@NORMAL
@given(documents())
def test_generated_structures(tmp_path, text):
    _structures(tmp_path, text)


@NORMAL
@given(st.integers(0, 200), yaml_text(), st.integers(0, 6))
def test_structures_spliced_into_a_real_scenario(tmp_path, line, fragment, indent):
    _spliced(tmp_path, line, fragment, indent)


@NORMAL
@given(texts, st.sampled_from(ENCODINGS), st.sampled_from(CONTROL), st.integers(0, 10_000))
def test_encodings_boms_and_control_characters(tmp_path, text, encoding, control, at):
    _encoded(tmp_path, text, encoding, control, at)


@NORMAL
@given(edits)
def test_byte_level_damage_of_a_real_scenario(tmp_path, edit_list):
    _mutated(tmp_path, edit_list)


@settings(max_examples=max(FAST // 6, 20), derandomize=True, **COMMON)
@given(st.sampled_from(["flow_seq", "flow_map", "block_seq", "block_map", "aliases", "dash"]),
       st.integers(1, 30_000), st.booleans())
def test_deep_nesting_of_every_style(tmp_path, style, depth, closed):
    check(tmp_path, deep_nesting(style, depth, closed).encode())


@pytest.mark.fuzz
@LONG
@given(documents())
def test_fuzz_generated_structures(tmp_path, text):
    _structures(tmp_path, text)


@pytest.mark.fuzz
@LONG
@given(st.integers(0, 200), yaml_text(), st.integers(0, 6))
def test_fuzz_structures_spliced_into_a_real_scenario(tmp_path, line, fragment, indent):
    _spliced(tmp_path, line, fragment, indent)


@pytest.mark.fuzz
@LONG
@given(texts, st.sampled_from(ENCODINGS), st.sampled_from(CONTROL), st.integers(0, 10_000))
def test_fuzz_encodings_boms_and_control_characters(tmp_path, text, encoding, control, at):
    _encoded(tmp_path, text, encoding, control, at)


@pytest.mark.fuzz
@LONG
@given(edits)
def test_fuzz_byte_level_damage_of_a_real_scenario(tmp_path, edit_list):
    _mutated(tmp_path, edit_list)


def _loader_says(text: str) -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            load_scenario(path)
        except ScenarioError as exc:
            return " | ".join(exc.problems)
    return "ok"


def test_the_generators_reach_what_they_claim():
    """The strategies do produce recursive aliases, merges, undefined aliases, several documents
    and unconstructible scalars, and the loader names each (a generator that never produced them
    would pass the properties above vacuously)."""
    from hypothesis import Phase, find
    from hypothesis.errors import NoSuchExample

    wanted = {"recursive alias", "undefined alias", "another document", "cannot read", "duplicate key",
              "a merge key the loader takes"}
    seen: set[str] = set()

    def everything_seen(text: str) -> bool:
        says = _loader_says(text)
        seen.update(w for w in wanted if w in says)
        if "<<: *" in text and "merge" not in says:
            seen.add("a merge key the loader takes")
        return seen >= wanted

    # One pass over the generated documents, until each case has come up once (no shrinking).
    reach = settings(max_examples=FAST * 4, derandomize=True, database=None, phases=[Phase.generate], **COMMON)
    try:
        find(documents(), everything_seen, settings=reach)
    except NoSuchExample:
        pass
    assert seen == wanted, f"never generated: {sorted(wanted - seen)}"
