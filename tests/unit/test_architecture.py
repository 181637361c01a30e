"""The house's shape, checked from the source with the standard library's ``ast``:

- no import cycle among ``harness/`` modules;
- no module imports one from a layer above it, in the order of ``ARCHITECTURE.md``:
  base → scenario → environment → faults/load → journal → analysis → checks → report → run → cli;
- only ``harness/load`` imports Locust or gevent, and analysis and checks never import Docker;
- no function under ``harness/`` is longer than 80 lines.

Every import counts, including those under ``if TYPE_CHECKING:`` and inside functions: a
type-only arrow still ties two rooms together for a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "harness"

LAYERS = ["base", "scenario", "environment", "faults/load", "journal", "analysis", "checks", "report", "run", "cli"]
"""Lowest first; a module may import from its own layer and the layers below it."""

ROOM_LAYER = {
    "__init__": "base", "errors": "base", "plugins": "base", "redact": "base", "progress": "base",
    "recorder": "base", "atomic": "base", "lazy": "base",
    "scenario": "scenario",
    "environment": "environment", "toxiproxy": "environment",
    "faults": "faults/load", "load": "faults/load",
    "journal": "journal",
    "analysis": "analysis",
    "checks": "checks",
    "report": "report", "compare": "report", "export": "report",
    "run": "run", "sweep": "run", "matrix": "run", "gameday": "run",
    "cli": "cli", "starter": "cli", "pytest_plugin": "cli", "__main__": "cli",
}
"""Each top-level room of ``harness/`` (package or module) and its layer. A new room must be
placed here, so that its place in the house is a decision, not an accident."""

MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``harness/``."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted names an import statement may load: the module named, and for ``from X import y``
    also ``X.y`` (when ``y`` is a submodule)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]


def _trees() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, path in MODULES.items()}


TREES = _trees()


def _imports(module: str) -> set[str]:
    """Every name ``module`` imports, anywhere in its body."""
    out: set[str] = set()
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.update(_imported(module, MODULES[module], node))
    return out


def _graph() -> dict[str, set[str]]:
    """harness module -> the harness modules it imports (itself excluded)."""
    return {m: {d for d in _imports(m) if d in MODULES and d != m} for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of a ``harness.x...`` module's room."""
    parts = module.split(".")
    room = parts[1] if len(parts) > 1 else "__init__"
    return LAYERS.index(ROOM_LAYER[room])


def test_every_room_has_a_layer():
    rooms = {m.split(".")[1] if "." in m else "__init__" for m in MODULES}
    assert rooms - set(ROOM_LAYER) == set(), "place the new room in ROOM_LAYER (and ARCHITECTURE.md)"


def test_no_import_cycle():
    cycles = _cycles(_graph())
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_import_runs_back_up():
    upward = [f"{m} ({LAYERS[layer_of(m)]}) imports {d} ({LAYERS[layer_of(d)]})"
              for m, deps in sorted(_graph().items()) for d in sorted(deps) if layer_of(d) > layer_of(m)]
    assert upward == []


@pytest.mark.parametrize("room, banned", [
    ("analysis", ("docker", "locust", "gevent")),
    ("checks", ("docker", "locust", "gevent")),
    ("scenario", ("docker", "locust", "gevent")),
    ("report", ("docker", "locust", "gevent")),
])
def test_rooms_keep_their_hands_off(room, banned):
    touched = [f"{m} imports {name}" for m in sorted(MODULES) if m.startswith(f"harness.{room}")
               for name in sorted(_imports(m)) if name.split(".")[0] in banned]
    assert touched == []


def test_only_the_load_package_imports_locust():
    touched = [f"{m} imports {name}" for m in sorted(MODULES) if not m.startswith("harness.load")
               for name in sorted(_imports(m)) if name.split(".")[0] in ("locust", "gevent")]
    assert touched == []


def test_no_function_longer_than_80_lines():
    long = [f"{MODULES[m].relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for m, tree in sorted(TREES.items()) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def test_the_checker_sees_a_cycle_and_an_upward_import():
    """The checks above can fail: a made-up graph with a loop and a report -> run arrow."""
    graph = {"harness.a": {"harness.b"}, "harness.b": {"harness.c"}, "harness.c": {"harness.a"}, "harness.d": set()}
    assert _cycles(graph) == [["harness.a", "harness.b", "harness.c"]]
    assert layer_of("harness.report.build") < layer_of("harness.run")
    assert layer_of("harness.scenario.models") < layer_of("harness.faults.kill")
