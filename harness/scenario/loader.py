"""Load a scenario file: safe YAML with positions (:mod:`harness.scenario.safe_yaml`, which
also bounds size, nesting, nodes and aliases), ``--set`` overrides, ``${env:NAME}`` references,
pydantic validation, and one ``file:line:col: field.path: message`` line per error.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.errors import ScenarioError
from harness.scenario.models import CrossCheckError, Scenario
from harness.scenario.safe_yaml import Mark, Path_, Walker, parse_value, parse_yaml, read_text



@dataclass
class LoadedScenario:
    """A validated scenario plus what reports need about its file.

    ``sha256`` is the hash of the file's bytes; ``overrides`` the ``--set`` pairs applied;
    ``positions`` maps each value's path to its line and column, for later errors;
    ``secrets`` holds the values substituted for ``${env:NAME}`` references (to redact).
    """

    scenario: Scenario
    path: Path
    sha256: str
    overrides: list[str]
    positions: dict[Path_, Mark] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)

    def problem(self, dotted: str, message: str) -> str:
        """An error line ``file:line:col: dotted.path: message`` for a value of this scenario."""
        path = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
        mark = Mark(1, 1)
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                mark = self.positions[path[:end]]
                break
        return f"{self.path}:{mark.line}:{mark.col}: {dotted}: {message}"


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


EXTENSION_PREFIX = "x-"
"""Top-level keys starting with ``x-`` are ignored, as in compose files: a home for anchors that
other keys merge or alias (``x-defaults: &defaults {...}`` then ``<<: *defaults``)."""

ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${env:NAME}`` in any string value is replaced by the environment variable NAME at load
time; the value is a secret: it is redacted from every report and log."""


def expand_env_refs(data: Any, walker: Walker, source: str) -> set[str]:
    """Replace ``${env:NAME}`` references in every string of ``data`` in place; return the
    substituted values.

    Raises:
        ScenarioError: a referenced variable is not set (one line per reference).
    """
    secrets: set[str] = set()
    problems: list[str] = []

    def visit(node: Any, path: Path_) -> Any:
        if isinstance(node, dict):
            for key in list(node):
                node[key] = visit(node[key], path + (key,))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                node[i] = visit(item, path + (i,))
        elif isinstance(node, str) and "${env:" in node:
            def substitute(match: re.Match[str]) -> str:
                value = os.environ.get(match[1])
                if value is None:
                    problems.append(walker.line(_locate(walker, path), _dotted(path),
                                                f"environment variable {match[1]} is not set"))
                    return ""
                if value:
                    secrets.add(value)
                return value
            return ENV_REF.sub(substitute, node)
        return node

    visit(data, ())
    if problems:
        raise ScenarioError(problems)
    return secrets


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``key.path=value`` override to ``data`` in place. The value is read as a YAML
    scalar or flow collection (``5``, ``true``, ``naive``, ``[1, 2]``); list items are addressed
    by index (``faults.0.latency_ms=300``).

    Raises:
        ScenarioError: malformed assignment, or a path through something that is not a mapping
            or list.
    """
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ScenarioError([f"--set {assignment}: expected key.path=value"])
    value = parse_value(raw, f"--set {key.strip()}") if raw.strip() else ""
    parts = key.strip().split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError([f"--set {assignment}: {'.'.join(parts[:i])} has no item {part}"])
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ScenarioError([f"--set {assignment}: {'.'.join(parts[:i])} is not a mapping"])


def _resolve(loc: Path_, data: Any) -> tuple[Path_, type[BaseModel] | None]:
    """Follow a pydantic error location through the models and the data.

    Returns ``loc`` without union tags (pydantic inserts the discriminator value, e.g.
    ``('faults', 0, 'latency', 'latency_ms')``) and the model class owning its last key (for
    "did you mean" suggestions), or None where the walk loses track.
    """
    ann: Any = Scenario
    node = data
    clean: list[str | int] = []
    owner: type[BaseModel] | None = None
    for part in loc:
        while typing.get_origin(ann) is typing.Annotated:
            ann = typing.get_args(ann)[0]
        if _is_union(ann) and len(_optional(ann)) == 1:  # an optional model (`matrix: MatrixTag | None`)
            ann = _optional(ann)[0]
        if _is_union(ann):
            members = _union_members(ann)
            if isinstance(part, str) and part in members:
                ann = members[part]
                continue
            tag = node.get("kind", node.get("check", "threshold")) if isinstance(node, dict) else None
            ann = members.get(tag)
        if isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(part, str):
            if _field_by_name(ann, part) is None and part in _union_members(typing.Union[ann, None]):
                continue  # a one-member tagged union still puts its tag in the location
        if isinstance(part, int):
            clean.append(part)
            node = node[part] if isinstance(node, list) and part < len(node) else None
            ann = typing.get_args(ann)[0] if typing.get_origin(ann) is list else None
            continue
        clean.append(part)
        node = node.get(part) if isinstance(node, dict) else None
        owner = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        field = _field_by_name(owner, part) if owner else None
        ann = field.annotation if field else None
    return tuple(clean), owner


def _is_union(model: Any) -> bool:
    import types

    return typing.get_origin(model) in (typing.Union, types.UnionType)


def _optional(model: Any) -> list[Any]:
    """The members of a union other than ``None``."""
    return [member for member in typing.get_args(model) if member is not type(None)]


def _union_members(model: Any) -> dict[str, type[BaseModel]]:
    out: dict[str, type[BaseModel]] = {}
    for member in typing.get_args(model):
        while typing.get_origin(member) is typing.Annotated:
            member = typing.get_args(member)[0]
        if isinstance(member, type) and issubclass(member, BaseModel):
            for tag_field in ("kind", "check"):
                f = member.model_fields.get(tag_field)
                if f is not None and isinstance(f.default, str):
                    out[f.default] = member
    return out


def _field_by_name(model: type[BaseModel], key: str):
    for name, info in model.model_fields.items():
        if key == name or key == info.alias:
            return info
    return None


def _suggest(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return ""
    names = [f.alias or n for n, f in model.model_fields.items() if n != "source_path"]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid keys: {', '.join(sorted(names))}"


def _locate(walker: Walker, path: Path_, prefer_key: bool = False) -> Mark:
    if prefer_key and path in walker.key_positions:
        return walker.key_positions[path]
    for end in range(len(path), -1, -1):
        sub = path[:end]
        if sub in walker.positions:
            return walker.positions[sub]
    return Mark(1, 1)


def _format_errors(exc: ValidationError, data: Any, walker: Walker) -> list[str]:
    lines: list[str] = []
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        loc, owner = _resolve(tuple(err["loc"]), data)
        if isinstance(ctx_error, CrossCheckError):
            for dotted, message in ctx_error.problems:
                path = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
                lines.append(walker.line(_locate(walker, path, prefer_key=True), dotted, message))
            continue
        kind = err["type"]
        message = err["msg"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            message = f"unknown key {key!r}{_suggest(owner, key)}"
            mark = _locate(walker, loc, prefer_key=True)
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            tag_key = "kind" if "kind" in str(err.get("ctx", {}).get("discriminator", "kind")) else "check"
            loc = loc + (tag_key,)
            expected = err.get("ctx", {}).get("expected_tags", "")
            got = err.get("ctx", {}).get("tag")
            if kind == "union_tag_not_found":
                message = f"missing '{tag_key}'; one of: {expected}"
            else:
                close = difflib.get_close_matches(str(got), [t.strip(" '") for t in str(expected).split(",")], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                message = f"unknown {tag_key} {got!r}{hint} (known: {expected})"
            mark = _locate(walker, loc)
        elif kind == "missing":
            message = "required field is missing"
            mark = _locate(walker, loc[:-1])
        else:
            mark = _locate(walker, loc)
            message = message.removeprefix("Value error, ")
        lines.append(walker.line(mark, _dotted(loc), message))
    return lines


def load_scenario(path: str | Path, overrides: list[str] | None = None, schedule: bool = True) -> LoadedScenario:
    """Read, override and validate a scenario file.

    Args:
        path: the YAML file.
        overrides: ``key.path=value`` strings applied before validation (``--set``).
        schedule: False for ``harness gameday``, whose faults last from inject to revert: their
            ``at_s``/``duration_s`` are not checked against the load's duration.

    Returns:
        The validated scenario with its file's sha256.

    Raises:
        ScenarioError: unreadable file, YAML error, or validation errors; ``problems`` has one
            ``file:line:col: field.path: message`` line per error.
    """
    file = Path(path)
    source = str(path)
    raw, text = read_text(file, source)
    data, walker = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError([f"{source}:1:1: (top): a scenario is a mapping of keys (name, load, faults, ...)"])
    data = {key: value for key, value in data.items() if not key.startswith(EXTENSION_PREFIX)}
    for assignment in overrides or []:
        apply_override(data, assignment)
    secrets = expand_env_refs(data, walker, source)
    try:
        scenario = Scenario.model_validate({**data, "source_path": file.resolve()}, context={"schedule": schedule})
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, data, walker)) from None
    return LoadedScenario(
        scenario=scenario,
        path=file,
        sha256=hashlib.sha256(raw).hexdigest(),
        overrides=list(overrides or []),
        positions=walker.positions,
        secrets=secrets,
    )
