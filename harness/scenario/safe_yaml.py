"""Read a YAML file as plain data with positions, within structure limits.

Hostile input must meet a one-line ``file:line:col: message`` and never a ``RecursionError``,
``MemoryError`` or a hang. PyYAML's composer recurses once per nesting level and resolves an
alias to the very node that holds it (``a: &a [*a]`` is a cycle), so everything is bounded
*while* composing, before anything recursive runs:

- :data:`MAX_FILE_BYTES` bytes per file (read no further than that);
- :data:`MAX_DEPTH` levels of nesting, composed and after alias expansion;
- :data:`MAX_NODES` nodes, composed and after alias expansion (a "billion laughs" file fails
  fast instead of eating memory);
- an alias to an anchor that is still open (its own container) is refused as recursive;
- characters YAML forbids (C0 controls but tab, LF and CR; DEL; C1 controls but NEL; surrogates,
  U+FFFE/U+FFFF) are refused with the position of the first one.

Only PyYAML's pure-Python *safe* loader is used: no Python tags, and no C composer whose
recursion could not be bounded. Text is UTF-8, or UTF-16/32 when it starts with their byte
order mark (YAML 1.2, section 5.2). Merge keys (``<<: *defaults``) are expanded as in YAML 1.1's
merge type: explicit keys win over merged ones, and earlier merged mappings over later ones.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

from harness.errors import ScenarioError

MAX_FILE_BYTES = 1_000_000
"""Upper bound on a scenario file's size in bytes; the biggest real scenario is about 5 kB."""

MAX_DEPTH = 64
"""Upper bound on nesting (mappings and lists inside each other); real scenarios nest 6 deep."""

MAX_NODES = 50_000
"""Upper bound on YAML nodes, composed and after alias expansion; real scenarios have a few
hundred. Scanning and composing 50,000 nodes takes about 1 s in pure Python (the slowest
hostile file in ``bench/hostile_input.py``)."""

MERGE_TAG = "tag:yaml.org,2002:merge"

FORBIDDEN_CHARACTER = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters outside YAML's printable set (YAML 1.2, production [1] c-printable)."""

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""Byte order marks and the codec each one names (UTF-32 LE before UTF-16 LE: it starts with it)."""

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a file."""

    line: int
    col: int


def read_text(path: Path, source: str) -> tuple[bytes, str]:
    """The bytes of ``path`` (at most :data:`MAX_FILE_BYTES`) and their text.

    Raises:
        ScenarioError: unreadable, too big, not text in a YAML encoding, or holding a character
            YAML forbids (``file:line:col``).
    """
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError([f"{source}:0:0: (file): cannot read: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([f"{source}:1:1: (file): more than the {MAX_FILE_BYTES} bytes a scenario may have"])
    text = decode(raw, source)
    bad = FORBIDDEN_CHARACTER.search(text)
    if bad:
        mark = _mark_at(text, bad.start())
        raise ScenarioError([f"{source}:{mark.line}:{mark.col}: (file): character U+{ord(bad[0]):04X} is not "
                             "allowed in YAML (control characters other than tab and line breaks)"])
    return raw, text


def decode(raw: bytes, source: str) -> str:
    """``raw`` as text: by its byte order mark, else UTF-8.

    Raises:
        ScenarioError: the bytes are not valid in that encoding (``file:line:col`` of the first
            bad byte).
    """
    codec = next((name for bom, name in BOMS if raw.startswith(bom)), "utf-8")
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        name = "UTF-8" if codec == "utf-8" else codec.upper().replace("-SIG", "")
        raise ScenarioError([f"{source}:{line}:{col}: (file): not {name} text: {exc.reason}"]) from None


def _mark_at(text: str, index: int) -> Mark:
    line_start = text.rfind("\n", 0, index) + 1
    return Mark(text.count("\n", 0, index) + 1, index - line_start + 1)


class _LimitError(Exception):
    """A structure limit was crossed at ``mark``."""

    def __init__(self, mark: Mark, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


def _mark(node_or_event: Any) -> Mark:
    return Mark(node_or_event.start_mark.line + 1, node_or_event.start_mark.column + 1)


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader whose composer counts depth and nodes and refuses
    recursive aliases before it recurses (raises :class:`_LimitError` or ``ComposerError``)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0
        self.composed = 0
        self.open_anchors: set[str] = set()

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        """One node, as PyYAML composes it, within :data:`MAX_DEPTH` and :data:`MAX_NODES`."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self.open_anchors:
                raise ComposerError(None, None, f"alias *{event.anchor} refers to the node that contains it "
                                                f"(a recursive alias); YAML data here must be a tree", event.start_mark)
            return super().compose_node(parent, index)
        event = self.peek_event()
        self.depth += 1
        self.composed += 1
        if self.depth > MAX_DEPTH:
            raise _LimitError(_mark(event), f"nested deeper than {MAX_DEPTH} levels")
        if self.composed > MAX_NODES:
            raise _LimitError(_mark(event), f"more than {MAX_NODES} values")
        anchor = event.anchor
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.open_anchors.discard(anchor)


def compose(text: str, source: str) -> yaml.Node | None:
    """The single document of ``text`` as a node tree (None when empty).

    Raises:
        ScenarioError: syntax error, several documents, a recursive or undefined alias, or a
            structure limit crossed (one ``file:line:col: yaml: ...`` line).
    """
    loader = BoundedLoader(text)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise yaml_problem(source, exc) from None
    except _LimitError as exc:
        raise ScenarioError([f"{source}:{exc.mark.line}:{exc.mark.col}: yaml: {exc.message}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}:1:1: yaml: {one_line(str(exc))}"]) from None
    finally:
        loader.dispose()


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(text.split())


def yaml_problem(source: str, exc: yaml.MarkedYAMLError) -> ScenarioError:
    """A PyYAML error as one ``file:line:col: yaml: problem`` line (at the problem's mark)."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
    problem = exc.problem or exc.context or str(exc)
    if exc.context and exc.problem and exc.context_mark is not None and exc.problem_mark is not None:
        problem = f"{exc.context} at line {exc.context_mark.line + 1}, {exc.problem}"
    return ScenarioError([f"{source}:{where}: yaml: {one_line(problem)}"])


class Walker:
    """Turns a composed YAML node tree into plain Python data plus a map of positions.

    ``positions`` maps each value's path to its line and column, ``key_positions`` each key's;
    ``problems`` collects duplicate and non-scalar keys (one line each).
    """

    def __init__(self, source: str):
        self.source = source
        self.positions: dict[Path_, Mark] = {}
        self.key_positions: dict[Path_, Mark] = {}
        self.problems: list[str] = []
        self.nodes = 0
        self._scalar = yaml.SafeLoader("")

    def walk(self, node: yaml.Node, path: Path_) -> Any:
        """``node`` as data (dicts, lists, scalars), recording positions under ``path``.

        Raises:
            _LimitError: more than :data:`MAX_NODES` nodes or :data:`MAX_DEPTH` levels after
                alias expansion, or a merge key of the wrong shape.
            ScenarioError: a scalar that cannot be constructed (bad date, too many digits).
        """
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _LimitError(_mark(node), f"expands to more than {MAX_NODES} values through its aliases "
                                           "(a YAML alias bomb?)")
        if len(path) > MAX_DEPTH:
            raise _LimitError(_mark(node), f"nested deeper than {MAX_DEPTH} levels once its aliases are expanded")
        self.positions.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(child, path + (i,)) for i, child in enumerate(node.value)]
        return self.scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG and isinstance(key_node, yaml.ScalarNode):
                merges.append(value_node)
                continue
            key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or not isinstance(key, (str, int, float, bool)):
                self.problems.append(self.line(_mark(key_node), _dotted(path), "mapping keys must be plain scalars"))
                continue
            key = key if isinstance(key, str) else str(key)
            if key in out:
                self.problems.append(self.line(_mark(key_node), _dotted(path + (key,)), f"duplicate key {key!r}"))
            self.key_positions[path + (key,)] = _mark(key_node)
            out[key] = self.walk(value_node, path + (key,))
        for merged in self._merge_sources(merges, path):
            for key, value in self.walk(merged, path).items():
                out.setdefault(key, value)
        return out

    def _merge_sources(self, merges: list[yaml.Node], path: Path_) -> list[yaml.MappingNode]:
        sources: list[yaml.MappingNode] = []
        for value in merges:
            items = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for item in items:
                if not isinstance(item, yaml.MappingNode):
                    raise _LimitError(_mark(item), f"{_dotted(path + ('<<',))}: a merge key (<<) takes a mapping "
                                                   "or a list of mappings")
                sources.append(item)
        return sources

    def scalar(self, node: yaml.Node) -> Any:
        """A scalar node's value as the safe loader constructs it (None for collections).

        Raises:
            ScenarioError: the value cannot be constructed for its tag (``file:line:col``).
        """
        if not isinstance(node, yaml.ScalarNode):
            return None
        try:
            return self._scalar.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:  # an unknown tag, bad base64
            raise yaml_problem(self.source, exc) from None
        except Exception as exc:  # noqa: BLE001 (any constructor failure: 2020-13-45, 5000 digits, !!int "")
            mark = _mark(node)
            raise ScenarioError([f"{self.source}:{mark.line}:{mark.col}: yaml: cannot read {node.value[:40]!r} "
                                 f"as {node.tag.rsplit(':', 1)[-1]}: {one_line(str(exc))}"]) from None

    def line(self, mark: Mark, field: str, message: str) -> str:
        """One error line ``file:line:col: field: message``."""
        return f"{self.source}:{mark.line}:{mark.col}: {field or '(top)'}: {message}"


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def parse_yaml(text: str, source: str) -> tuple[Any, Walker]:
    """Parse YAML ``text`` safely and within the limits; return the data and the walker holding
    positions.

    Raises:
        ScenarioError: syntax error, more than one document, an empty document, a recursive alias,
            a structure limit crossed, an unconstructible scalar, or duplicate/complex keys; one
            ``file:line:col: ...`` line per problem.
    """
    node = compose(text, source)
    if node is None:
        raise ScenarioError([f"{source}:1:1: (top): the file is empty; a scenario needs at least name and load"])
    return _walk_tree(node, source)


def parse_value(text: str, source: str) -> Any:
    """A YAML value given on a command line (``--set key=VALUE``), within the same limits;
    ``source`` names it in errors (``--set key``).

    Raises:
        ScenarioError: as :func:`parse_yaml` (an empty text is None, not an error).
    """
    node = compose(text, source)
    return None if node is None else _walk_tree(node, source)[0]


def _walk_tree(node: yaml.Node, source: str) -> tuple[Any, Walker]:
    walker = Walker(source)
    try:
        data = walker.walk(node, ())
    except _LimitError as exc:
        raise ScenarioError([f"{source}:{exc.mark.line}:{exc.mark.col}: yaml: {exc.message}"]) from None
    if walker.problems:
        raise ScenarioError(walker.problems)
    return data, walker
