"""The Jinja2 environment of the report templates (``harness/report/templates``), with their
compiled code kept between processes.

Compiling ``report.html.j2`` and ``report.md.j2`` costs every process that renders a report about
0.1 s of CPU (``bench/analysis_5m.py``). Jinja2's own :class:`~jinja2.FileSystemBytecodeCache`
keeps the compiled code in a private directory of the system's temporary directory
(``_jinja2-cache-<uid>``, mode 0700, checked to be the user's own); an entry is used only while
its template's source is unchanged (Jinja2 compares a checksum), so an edited template is
compiled again. Rendering never depends on the cache: when the directory cannot be made safe,
or an entry cannot be written, templates are compiled as they would be without one.
"""

from __future__ import annotations

from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined
from jinja2.bccache import Bucket


class _BestEffortCache(FileSystemBytecodeCache):
    """:class:`~jinja2.FileSystemBytecodeCache` whose failure to store an entry (a full or
    read-only disk) costs only the next process's compilation."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def bytecode_cache() -> BytecodeCache | None:
    """The cache of compiled templates, or None when no safe directory can be had (then Jinja2
    compiles each template once per process, as without a cache)."""
    try:
        return _BestEffortCache()
    except (OSError, RuntimeError):  # RuntimeError: Jinja2 found the directory unsafe
        return None


def template_environment(**options: Any) -> Environment:
    """A Jinja2 environment over the report templates: missing variables raise
    (:class:`~jinja2.StrictUndefined`), compiled templates are kept (:func:`bytecode_cache`);
    ``options`` are the format's own (autoescape, trailing newline)."""
    return Environment(loader=PackageLoader("harness.report", "templates"), undefined=StrictUndefined,
                       bytecode_cache=bytecode_cache(), **options)
