"""Every name the benchmarks import from harness exists: bench/ modules import most of harness
inside their functions (so that `make bench` starts fast), where a moved or renamed name would
only fail half-way through a benchmark run."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _harness_imports() -> list[tuple[str, str, str]]:
    """``(file, module, name)`` of every ``from harness... import name`` under bench/."""
    found = []
    for path in sorted((ROOT / "bench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "harness":
                found += [(str(path.relative_to(ROOT)), node.module, alias.name) for alias in node.names]
    return found


def _resolves(module: str, name: str) -> bool:
    if hasattr(importlib.import_module(module), name):
        return True
    try:
        importlib.import_module(f"{module}.{name}")
    except ImportError:
        return False
    return True


def test_every_name_bench_imports_from_harness_exists():
    imports = _harness_imports()
    assert len(imports) > 10  # the walk found the benchmarks' imports
    missing = [f"{file}: from {module} import {name}" for file, module, name in imports if not _resolves(module, name)]
    assert missing == []


def test_the_check_sees_a_missing_name():
    assert not _resolves("harness.environment.stack", "no_such_name")
    assert _resolves("harness.environment", "stack")
