"""``harness init``: read a compose file through compose, write a starter scenario next to it.

The only part of :mod:`harness.starter` with side effects: it calls ``docker compose config``
(no engine needed, only the compose binary) and writes one file, whole or not at all.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import write_atomic
from harness.errors import EnvironmentFailure, ExitCode, HarnessError, ScenarioError
from harness.starter.edges import Sketch, sketch
from harness.starter.writer import render_scenario, scenario_name

DEFAULT_OUT = "harness-scenario.yaml"


class StarterError(HarnessError):
    """``harness init`` cannot go on: a missing or rejected compose file, an ``--out`` that
    exists (without ``--force``) or cannot be written. The message is one line naming the file;
    exit 2, nothing written."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class InitResult:
    """What ``harness init`` wrote.

    Attributes:
        path: the scenario file.
        sketch: what was found in the compose project.
        notes: problems the run's preflight would report on this stack (``container_name``...),
            one line each; the file was written anyway.
    """

    path: Path
    sketch: Sketch
    notes: tuple[str, ...] = ()


def read_compose(compose_file: Path) -> dict[str, Any]:
    """The compose file as compose resolves it (``config --format json``), the way a run reads
    it (:func:`harness.environment.stack.resolve_compose`); changes nothing.

    Raises:
        StarterError: the file does not exist, or compose rejects it (exit 2).
        EnvironmentFailure: compose v2 is not installed (exit 3).
    """
    from harness.environment.compose import compose_command
    from harness.environment.stack import resolve_compose
    from harness.scenario.models import Target

    file = compose_file.resolve()
    if not file.is_file():
        raise StarterError(f"{compose_file}: no such compose file")
    compose_command()  # compose missing is an environment error, not the file's
    try:
        return resolve_compose(Target(compose=str(file)), file.parent, project="harness-init")
    except EnvironmentFailure as exc:
        raise StarterError(f"{compose_file}: compose rejects it: {exc}") from None


def project_name(compose_file: Path) -> str:
    """The compose file's own top-level ``name:`` (``config`` reports the ``-p`` name
    instead), else the name of its directory, as compose names a project by default."""
    try:
        text = compose_file.read_text(encoding="utf-8", errors="replace")[:1_000_000]
    except OSError:
        text = ""
    match = re.search(r"^name:[ \t]*['\"]?([A-Za-z0-9_.-]+)['\"]?[ \t]*(?:#.*)?$", text, re.MULTILINE)
    return match[1] if match else compose_file.resolve().parent.name


def check_out(out: Path, force: bool) -> None:
    """Refuse an ``--out`` that exists (unless ``force``), is a directory, or whose directory
    does not exist.

    Raises:
        StarterError: one line naming the file.
    """
    if out.is_dir():
        raise StarterError(f"{out}: is a directory; give a file name, e.g. --out {out / DEFAULT_OUT}")
    if out.exists() and not force:
        raise StarterError(f"{out}: already exists; pass --force to overwrite it")
    if not out.resolve().parent.is_dir():
        raise StarterError(f"{out}: directory {out.resolve().parent} does not exist")


def compose_path_from(out: Path, compose_file: Path) -> str:
    """``compose_file`` relative to ``out``'s directory (what ``target.compose`` holds), in
    POSIX form; absolute when no relative path exists (another drive)."""
    base = out.resolve().parent
    try:
        return Path(os.path.relpath(compose_file.resolve(), base)).as_posix()
    except ValueError:
        return compose_file.resolve().as_posix()


def _write_checked(out: Path, text: str, config: dict[str, Any]) -> tuple[str, ...]:
    """Write ``text`` to a temporary file next to ``out``, validate it there (so relative paths
    resolve as they will), then rename it to ``out``; return the preflight notes.

    Raises:
        HarnessError: the text does not validate (a bug of ours); ``out`` is left as it was.
    """
    notes: list[str] = []

    def check(tmp: Path) -> None:
        try:
            notes.extend(note.replace(str(tmp), str(out)) for note in _self_check(tmp, config))
        except ScenarioError as exc:
            raise HarnessError("the starter scenario did not validate (a bug of harness init): "
                               + " | ".join(exc.problems)) from None

    write_atomic(out, text, check=check, mode=0o644)
    return tuple(notes)


def _self_check(path: Path, config: dict[str, Any]) -> tuple[str, ...]:
    """Validate the written file as ``harness validate`` does; return what the run's preflight
    would say about the stack (``harness.environment.own_stack``), one line each.

    Raises:
        ScenarioError: the rendered file does not validate (a bug of ours; the caller removes it).
    """
    from harness.environment.own_stack import stack_problems
    from harness.scenario import load_scenario

    loaded = load_scenario(path)
    return tuple(loaded.problem(field, message) for field, message in stack_problems(config, loaded.scenario))


def init_scenario(compose_file: Path, out: Path, force: bool = False) -> InitResult:
    """Read ``compose_file``, find its edges and write a starter scenario to ``out``.

    Args:
        compose_file: the user's compose file (never changed).
        out: the scenario file to write.
        force: overwrite ``out`` if it exists.

    Returns:
        The path written, what was found, and preflight notes.

    Raises:
        StarterError: missing or rejected compose file, or an unusable ``out`` (exit 2);
            nothing is written.
        EnvironmentFailure: compose v2 is not installed (exit 3).
    """
    check_out(out, force)
    config = read_compose(compose_file)
    found = sketch(config)
    name = scenario_name(project_name(compose_file), "stack")
    text = render_scenario(found, compose_path_from(out, compose_file), name)
    notes = _write_checked(out, text, config)
    return InitResult(out, found, notes)
