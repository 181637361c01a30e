"""Reports: ``report.json`` (the source of truth) and renderings of it, one module per format
(:mod:`harness.report.formats`): ``report.md`` (a PR comment), ``report.html`` (one
self-contained page) and ``junit.xml`` (for CI).

Every rendering is a pure function of the :class:`Report`, so ``harness report RUN_DIR``
regenerates all of them from ``report.json`` alone (:func:`regenerate`).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from harness.lazy import lazy_getattr

if TYPE_CHECKING:
    from harness.report.build import build_report
    from harness.report.files import (
        MAX_JSON_BYTES,
        ReportFileError,
        ReportWriteError,
        read_json_text,
        validate_json,
        write_files,
    )
    from harness.report.markdown import render_markdown
    from harness.report.model import REPORT_SCHEMA_VERSION, Report

LAZY = {
    "build_report": "harness.report.build",
    "MAX_JSON_BYTES": "harness.report.files", "ReportFileError": "harness.report.files",
    "ReportWriteError": "harness.report.files", "read_json_text": "harness.report.files",
    "validate_json": "harness.report.files", "write_files": "harness.report.files",
    "render_markdown": "harness.report.markdown",
    "REPORT_SCHEMA_VERSION": "harness.report.model", "Report": "harness.report.model",
}
"""Names this package gives from its modules, imported on first use (PEP 562): the report model
and the analysis behind it load pandas and numpy (about 1 s), which a caller that only needs a
light module of this package (:mod:`harness.report.status`, :mod:`harness.report.sweep.model`:
``harness sweep`` before its first cell) must not pay for."""


__getattr__ = lazy_getattr(__name__, LAZY)


def _formats() -> list:
    """Every registered format (:func:`harness.report.formats.report_formats`; the registry
    imports this package's modules to find them)."""
    from harness.report.formats import report_formats

    return report_formats()


def rendered_files() -> dict[str, str]:
    """Formats rendered from report.json, and their file names in a run directory
    (``{"md": "report.md", "html": "report.html", "junit": "junit.xml", ...}``)."""
    return {f.name: f.file_name for f in _formats()}


def render_all(report: Report, without: Collection[str] = ()) -> dict[str, str]:
    """Every registered format's text, by format name (``md``, ``html``, ``junit``...), but
    for the formats named in ``without``."""
    return {f.name: f.render(report) for f in _formats() if f.name not in without}


def warm_up() -> None:
    """Load what the first report costs besides its own work: the analysis (pandas, numpy),
    matplotlib's modules and fonts, and the HTML template. It changes no output.

    ``harness run`` imports this package and calls it in a thread during the stack's health
    wait (the main thread only polls Docker then): about 1 s of a run's fixed cost, measured by
    ``bench/run_overhead.py``, overlaps that wait instead of following the teardown. Call it
    from one thread at a time (matplotlib is not thread-safe) and join that thread before
    building a report."""
    for fmt in _formats():
        if fmt.warm_up is not None:
            fmt.warm_up()


def write_rendered(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``junit.xml`` into ``out_dir`` (created if
    missing), each whole or not at all (:func:`harness.report.files.write_atomic`); return their
    paths by format (``md``, ``html``, ``junit``).

    Raises:
        ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    from harness.report.files import write_files

    texts, names = render_all(report), rendered_files()
    written = write_files(out_dir, {names[fmt]: text for fmt, text in texts.items()})
    return {fmt: written[names[fmt]] for fmt in texts}


def write_reports(report: Report, out_dir: Path, without: Collection[str] = ()) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.html`` and ``junit.xml`` into ``out_dir``,
    each whole or not at all; return their paths by format (``json``, ``md``, ``html``,
    ``junit``). Everything is rendered before the first file is written. ``without``: formats
    neither rendered nor written (``("html",)`` for a run whose page a child process draws,
    :mod:`harness.run.idle_reports`).

    Raises:
        ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    from harness.report.files import write_files

    texts = {"json": report.model_dump_json(indent=2) + "\n", **render_all(report, without)}
    names = {"json": "report.json", **rendered_files()}
    written = write_files(out_dir, {names[fmt]: text for fmt, text in texts.items()})
    return {fmt: written[names[fmt]] for fmt in texts}


def report_path(path: Path) -> Path:
    """``path`` itself if it is a file (or names a ``.json`` file), else ``path/report.json``."""
    return path if path.is_file() or path.suffix == ".json" else path / "report.json"


def load_report(path: Path) -> Report:
    """Read a ``report.json`` (or a run directory holding one).

    The file must be a regular file of at most :data:`harness.report.files.MAX_JSON_BYTES`
    (200 MiB), UTF-8 (a byte order mark is accepted), valid JSON and a valid report of a schema
    version this harness reads (see :func:`harness.report.files.read_json_text` and
    :func:`~harness.report.files.validate_json` for the messages).

    Raises:
        ReportFileError: missing, unreadable, too large, not UTF-8, invalid JSON, not a report,
            or of a newer schema version; the message is one line naming the file.
    """
    from harness.report.files import ReportFileError, read_json_text, validate_json
    from harness.report.model import REPORT_SCHEMA_VERSION, Report

    file = report_path(path)
    report = validate_json(Report, file, read_json_text(file))
    if report.schema_version > REPORT_SCHEMA_VERSION:
        raise ReportFileError(f"{file}: schema_version {report.schema_version} is newer than this harness reads "
                              f"({REPORT_SCHEMA_VERSION}); upgrade harness")
    return report


def regenerate(path: Path) -> dict[str, Path]:
    """Re-render every format from a run directory's ``report.json`` alone, next to it (the JSON is
    not rewritten). Raises :class:`ReportFileError`."""
    file = report_path(path)
    return write_rendered(load_report(file), file.parent)


__all__ = ["MAX_JSON_BYTES", "Report", "ReportFileError", "ReportWriteError", "build_report", "load_report",
           "regenerate", "render_all", "render_markdown", "rendered_files", "warm_up", "write_rendered", "write_reports"]
