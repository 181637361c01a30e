"""What a sweep varies: ``--vary PATH=V1,V2,...`` axes and their cross product (the cells), a
``--search PATH=LO..HI`` range, and each cell's scenario, validated before anything starts.

A cell is the scenario with the sweep's ``--set`` overrides and then one ``PATH=VALUE`` per axis
(the same mechanism as ``harness run --set``: a value is a YAML scalar, so ``250`` is an
integer, ``0.5`` a float, ``naive`` a string). Every cell is loaded and validated up front, so a
value a field refuses is a usage error (exit 2) naming the cell, and nothing has started.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ScenarioError
from harness.scenario import LoadedScenario, load_scenario
from harness.scenario.safe_yaml import parse_value

SHARED_FIELDS = ("target", "proxies")
"""Scenario sections that must be the same in every cell for the cells to share one stack (with
``load.host``): what the stack *is*, as against what a run does to it."""


@dataclass(frozen=True)
class Axis:
    """One varied parameter: the dotted scenario ``path`` and its ``values`` as typed (YAML
    scalars) with their ``texts`` as given on the command line."""

    path: str
    values: tuple[object, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class SearchRange:
    """``--search PATH=LO..HI``: the numeric range ``[lo, hi]`` of ``path``; ``integer`` when both
    ends were written as integers (the steps are then whole numbers)."""

    path: str
    lo: float
    hi: float
    integer: bool


def _split(text: str, flag: str, shape: str) -> tuple[str, str]:
    path, sep, rest = text.partition("=")
    path = path.strip()
    if not sep or not path or not rest.strip():
        raise ScenarioError([f"{flag} {text}: expected {shape}"])
    return path, rest


def parse_vary(text: str) -> Axis:
    """``PATH=V1,V2,...`` (at least one value; values are YAML scalars, so a value cannot
    contain a comma).

    Raises:
        ScenarioError: malformed, an empty value, a value repeated, or a value that is not a
            scalar (one line naming the flag).
    """
    path, rest = _split(text, "--vary", "PATH=V1,V2,... (e.g. faults.0.latency_ms=250,1000)")
    texts = tuple(part.strip() for part in rest.split(","))
    if any(not t for t in texts):
        raise ScenarioError([f"--vary {text}: an empty value between commas"])
    if len(set(texts)) != len(texts):
        raise ScenarioError([f"--vary {text}: a value is given twice"])
    values = tuple(parse_value(t, f"--vary {path}") for t in texts)
    if any(isinstance(v, (dict, list)) for v in values):
        raise ScenarioError([f"--vary {text}: values must be scalars (numbers, words, true/false)"])
    return Axis(path, values, texts)


def parse_search(text: str) -> SearchRange:
    """``PATH=LO..HI`` with numbers ``LO < HI``.

    Raises:
        ScenarioError: malformed, not numbers, or ``LO >= HI`` (one line naming the flag).
    """
    path, rest = _split(text, "--search", "PATH=LO..HI (e.g. faults.0.latency_ms=250..4000)")
    lo_text, sep, hi_text = rest.partition("..")
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        lo = hi = math.nan
    if not sep or not (math.isfinite(lo) and math.isfinite(hi)):
        raise ScenarioError([f"--search {text}: expected two numbers, LO..HI"])
    if lo >= hi:
        raise ScenarioError([f"--search {text}: LO must be below HI"])
    integer = all(t.strip().lstrip("+-").isdigit() for t in (lo_text, hi_text))
    return SearchRange(path, lo, hi, integer)


def grid(axes: list[Axis]) -> list[dict[str, str]]:
    """The cells of a grid: every combination of the axes' values, the first axis varying
    slowest, as ``{path: value text}`` in axis order.

    Raises:
        ScenarioError: two axes vary the same path.
    """
    paths = [a.path for a in axes]
    if len(set(paths)) != len(paths):
        raise ScenarioError([f"--vary {p}: given twice (one --vary per path)" for p in sorted(set(paths))
                             if paths.count(p) > 1])
    return [dict(zip(paths, combo)) for combo in itertools.product(*(a.texts for a in axes))]


def value_text(value: float, integer: bool) -> str:
    """How a searched ``value`` is written in an override: a whole number for an integer
    parameter, else the shortest float text."""
    return str(int(round(value))) if integer else repr(float(value))


def load_cell(path: Path, overrides: list[str], values: dict[str, str]) -> LoadedScenario:
    """The scenario of one cell: ``overrides`` (``--set``), then ``PATH=VALUE`` per varied path.

    Raises:
        ScenarioError: the cell's scenario is invalid; each problem line is prefixed with the
            cell's values, so the user sees which value a field refused.
    """
    cell = [f"{p}={v}" for p, v in values.items()]
    try:
        return load_scenario(path, [*overrides, *cell])
    except ScenarioError as exc:
        label = " ".join(cell)
        raise ScenarioError([f"cell {label}: {line}" for line in exc.problems]) from None


def can_share_stack(cells: list[LoadedScenario]) -> bool:
    """Whether the cells may run on one stack: they agree on :data:`SHARED_FIELDS` and on
    ``load.host`` (so only load, faults, expectations and their settings vary)."""
    def stack_part(loaded: LoadedScenario) -> object:
        s = loaded.scenario
        return ([getattr(s, f).model_dump(mode="json") if hasattr(getattr(s, f), "model_dump")
                 else [p.model_dump(mode="json") for p in getattr(s, f)] for f in SHARED_FIELDS], s.load.host)

    first = stack_part(cells[0]) if cells else None
    return all(stack_part(c) == first for c in cells[1:])
