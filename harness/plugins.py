"""Discovery shared by the registries of fault kinds and checks: import every module of a
package (each registers itself at import: the only thing that runs at import), then every
module of an entry-point group (third-party plugins)."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


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


def spec_name(spec_type: object, base: type, field: str, owner: str | None = None) -> str:
    """The name a spec class registers under: the default of its ``field`` literal (``kind`` of a
    fault spec, ``check`` of a check spec), e.g. ``kind: Literal["latency"] = "latency"``.

    Args:
        spec_type: the spec class (for an injector or a judge: its ``spec_type``).
        base: the class every such spec derives from.
        field: the discriminating field.
        owner: the injector or judge being registered, named in the error instead.

    Raises:
        TypeError: ``spec_type`` is not a subclass of ``base``, or ``field`` has no non-empty
            string default.
    """
    if not (isinstance(spec_type, type) and issubclass(spec_type, base)):
        if owner is not None:
            raise TypeError(f"{owner} has no spec_type")
        raise TypeError(f"{getattr(spec_type, '__name__', spec_type)!r} is not a {base.__name__}")
    name = spec_type.model_fields[field].default  # type: ignore[attr-defined]  (pydantic models)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{spec_type.__name__}.{field} needs a string default, e.g. {field}: Literal['x'] = 'x'")
    return name


class Registry(Generic[T]):
    """Name -> registered class, filled lazily by :func:`import_modules` on first read.

    One class serves every registry of the house (fault specs, fault implementations, check
    specs, check judges): each instance names the package whose modules register themselves at
    import, the core modules to skip, the entry-point group of third-party plugins, and
    ``what`` (a word for messages, e.g. ``"fault kind"``).

    Args:
        package: dotted package imported module by module on first read.
        core: module names of ``package`` that are not registrants (``base``, ``registry``, ...).
        entry_point_group: plugins' group (``None``: built-ins only).
        what: the registered thing, for error messages.
    """

    def __init__(self, package: str, core: set[str], entry_point_group: str | None, what: str):
        self.package = package
        self.core = core
        self.entry_point_group = entry_point_group
        self.what = what
        self._items: dict[str, T] = {}
        self._loaded = False

    def add(self, name: object, item: T) -> T:
        """Register ``item`` under ``name``; registering the same item twice is a no-op.

        Raises:
            TypeError: ``name`` is not a non-empty string, or another item holds it (the message
                names both modules).
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"{self.what} {getattr(item, '__name__', item)!r} needs a non-empty string name")
        other = self._items.get(name)
        if other is not None and other is not item:
            raise TypeError(f"{self.what} {name!r} registered twice: "
                            f"{getattr(other, '__module__', other)} and {getattr(item, '__module__', item)}")
        self._items[name] = item
        return item

    def load(self) -> None:
        """Import the package's registrant modules and the plugins, once (see :func:`import_modules`)."""
        if self._loaded:
            return
        self._loaded = True
        import_modules(self.package, self.core, self.entry_point_group)

    def names(self) -> list[str]:
        """Sorted registered names."""
        self.load()
        return sorted(self._items)

    def get(self, name: str) -> T:
        """The item registered as ``name``.

        Raises:
            KeyError: nothing of that name is registered.
        """
        self.load()
        return self._items[name]

    def items(self) -> dict[str, T]:
        """A copy of name -> item, after loading."""
        self.load()
        return dict(self._items)
