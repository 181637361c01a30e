"""Names a package gives from its modules, imported on first use (PEP 562): a package whose
modules load heavy libraries (pandas, numpy, matplotlib) can still be imported for its light
modules without paying for them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps each attribute it gives to the
    module that defines it (``{"build_report": "harness.report.build"}``). An attribute is
    imported on first use and kept in the package, so later uses are plain lookups.

    The returned function raises AttributeError for a name not in ``names``, as Python's own
    lookup would."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
