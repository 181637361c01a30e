"""The rendered report formats, one module each: a module of :mod:`harness.report` that renders a
:class:`~harness.report.model.Report` to text registers its renderer with
:func:`report_format` (``report.md``, ``report.html``, ``junit.xml`` today); third-party
packages add formats through the ``harness.report_formats`` entry-point group.

Every format is a pure function of ``report.json``, so ``harness report RUN_DIR`` regenerates
all of them from it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from harness.plugins import Registry

if TYPE_CHECKING:
    from harness.report.model import Report

ENTRY_POINT_GROUP = "harness.report_formats"
"""Entry-point group of third-party formats (each entry names a module that registers one)."""


@dataclass(frozen=True)
class ReportFormat:
    """One rendered format.

    Fields:
        name: its key in a run's file paths (``md``, ``html``, ``junit``).
        file_name: the file it is written to in a run directory (``report.md``...).
        render: ``Report -> text``; pure (the same report gives the same text).
        warm_up: loads what its first rendering costs (templates, fonts), for
            :func:`harness.report.warm_up`; None when there is nothing to load.
    """

    name: str
    file_name: str
    render: Callable[[Report], str]
    warm_up: Callable[[], None] | None = None


FORMATS: Registry[ReportFormat] = Registry("harness.report", {"formats"}, ENTRY_POINT_GROUP, "report format")
"""Format name -> :class:`ReportFormat`. Discovery imports every module of :mod:`harness.report`
(each only defines things at import); those that render register."""


def report_format(name: str, file_name: str, warm_up: Callable[[], None] | None = None):
    """Decorator of a renderer ``Report -> str``: register it as format ``name`` written to
    ``file_name``; returns the renderer unchanged.

    Raises:
        TypeError: ``name`` is empty or taken by another format.
    """
    def register(render: Callable[[Report], str]) -> Callable[[Report], str]:
        FORMATS.add(name, ReportFormat(name, file_name, render, warm_up))
        return render

    return register


def report_formats() -> list[ReportFormat]:
    """Every registered format, by name."""
    return [FORMATS.get(name) for name in FORMATS.names()]


__all__ = ["ENTRY_POINT_GROUP", "FORMATS", "ReportFormat", "report_format", "report_formats"]
