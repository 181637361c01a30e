"""Reports: ``report.json`` (the source of truth) and renderings of it, one module per format
(:mod:`harness.report.formats`): ``report.md`` (a PR comment), ``report.html`` (one
self-contained page) and ``junit.xml`` (for CI).

Every rendering is a pure function of the :class:`Report`, so ``harness report RUN_DIR``
regenerates all of them from ``report.json`` alone (:func:`regenerate`).
"""

from __future__ import annotations

from pathlib import Path

from harness.report.build import build_report
from harness.report.files import (
    MAX_JSON_BYTES,
    ReportFileError,
    ReportWriteError,
    read_json_text,
    validate_json,
    write_files,
)
from harness.report.formats import report_formats
from harness.report.markdown import render_markdown
from harness.report.model import REPORT_SCHEMA_VERSION, Report


def rendered_files() -> dict[str, str]:
    """Formats rendered from report.json, and their file names in a run directory
    (``{"md": "report.md", "html": "report.html", "junit": "junit.xml", ...}``)."""
    return {f.name: f.file_name for f in report_formats()}


def render_all(report: Report) -> dict[str, str]:
    """Every registered format's text, by format name (``md``, ``html``, ``junit``...)."""
    return {f.name: f.render(report) for f in report_formats()}


def warm_up() -> None:
    """Load what the first report costs besides its own work: the analysis (pandas, numpy),
    matplotlib's modules and fonts, and the HTML template. It changes no output.

    ``harness run`` imports this package and calls it in a thread during the stack's health
    wait (the main thread only polls Docker then): about 1 s of a run's fixed cost, measured by
    ``bench/run_overhead.py``, overlaps that wait instead of following the teardown. Call it
    from one thread at a time (matplotlib is not thread-safe) and join that thread before
    building a report."""
    for fmt in report_formats():
        if fmt.warm_up is not None:
            fmt.warm_up()


def write_rendered(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``junit.xml`` into ``out_dir`` (created if
    missing), each whole or not at all (:func:`harness.report.files.write_atomic`); return their
    paths by format (``md``, ``html``, ``junit``).

    Raises:
        ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    texts, names = render_all(report), rendered_files()
    written = write_files(out_dir, {names[fmt]: text for fmt, text in texts.items()})
    return {fmt: written[names[fmt]] for fmt in texts}


def write_reports(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.html`` and ``junit.xml`` into ``out_dir``,
    each whole or not at all; return their paths by format (``json``, ``md``, ``html``,
    ``junit``). Everything is rendered before the first file is written.

    Raises:
        ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    texts = {"json": report.model_dump_json(indent=2) + "\n", **render_all(report)}
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
