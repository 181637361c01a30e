"""Discovery shared by the registries of fault kinds and checks: import every module of a
package (each registers itself at import: the only thing that runs at import), then every
module of an entry-point group (third-party plugins)."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points


def import_modules(package: str, core: set[str], entry_point_group: str | None = None) -> None:
    """Import ``package``'s modules except ``core`` ones and private (``_x``) ones, then load the
    ``entry_point_group`` plugins.

    Raises:
        TypeError: a plugin failed to import (the message names it): a broken plugin is
            reported, not silently skipped.
    """
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in core and not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
    if entry_point_group is None:
        return
    for ep in entry_points(group=entry_point_group):
        try:
            ep.load()
        except Exception as exc:  # any import error of third-party code
            raise TypeError(f"plugin {ep.name!r} ({ep.value}) of {entry_point_group} failed to load: {exc}") from exc
