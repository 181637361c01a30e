"""The tagged scenarios of a directory, and ``--max-age`` durations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ExitCode, HarnessError, ScenarioError
from harness.report.matrix import CellPlace
from harness.scenario import LoadedScenario, load_scenario

SCENARIO_SUFFIXES = (".yaml", ".yml")

_AGE = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|min|h|d|w)\s*$")
_UNIT_S = {"s": 1, "m": 60, "min": 60, "h": 3_600, "d": 86_400, "w": 604_800}


class MatrixUsageError(HarnessError):
    """``harness matrix`` was given something it cannot use (no such directory, no tagged
    scenario in it, a ``--max-age`` it cannot read); nothing was started. Exit 2."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Tagged:
    """A scenario that has a ``matrix:`` tag: the ``loaded`` file and its cell's ``place``."""

    loaded: LoadedScenario
    place: CellPlace


def parse_age(text: str) -> float:
    """Seconds in a duration written ``<number><unit>``, unit ``s``, ``m``/``min``, ``h``, ``d``
    or ``w`` (``90m``, ``24h``, ``7d``, ``1.5d``).

    Raises:
        MatrixUsageError: any other text, or a duration of 0.
    """
    found = _AGE.match(text)
    if not found or float(found["n"]) <= 0:
        raise MatrixUsageError(f"--max-age {text!r}: write a positive duration with a unit, like 24h, 7d or 90m")
    return float(found["n"]) * _UNIT_S[found["unit"]]


def scenario_files(scenario_dir: Path) -> list[Path]:
    """The scenario files under ``scenario_dir`` (``*.yaml``, ``*.yml``, in subdirectories too),
    sorted by path.

    Raises:
        MatrixUsageError: ``scenario_dir`` is not a directory.
    """
    if not scenario_dir.is_dir():
        raise MatrixUsageError(f"{scenario_dir}: not a directory of scenarios")
    return sorted(p for p in scenario_dir.rglob("*") if p.suffix in SCENARIO_SUFFIXES and p.is_file())


def tagged_scenarios(scenario_dir: Path) -> list[Tagged]:
    """Load every scenario under ``scenario_dir`` and keep those with a ``matrix:`` tag, in path
    order. Every file must be a valid scenario, tagged or not (an invalid file might have been
    a cell), so that a matrix never silently misses one.

    Raises:
        MatrixUsageError: not a directory, or no scenario in it has a ``matrix:`` tag.
        ScenarioError: some file is invalid; ``problems`` has every file's lines
            (``file:line:col: field.path: message``).
    """
    tagged, problems = [], []
    for file in scenario_files(scenario_dir):
        try:
            loaded = load_scenario(file)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        tag = loaded.scenario.matrix
        if tag is not None:
            place = CellPlace(tag.dependency, tag.failure_mode, tag.key, loaded.scenario.name, str(file), loaded.sha256)
            tagged.append(Tagged(loaded, place))
    if problems:
        raise ScenarioError(problems)
    if not tagged:
        raise MatrixUsageError(f"{scenario_dir}: no scenario has a matrix: tag "
                               "(e.g. matrix: {dependency: catalog, failure_mode: slow})")
    return tagged
