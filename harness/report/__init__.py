"""Reports: ``report.json`` (the source of truth) and renderings of it: ``report.md`` (a PR
comment), ``report.html`` (one self-contained page) and ``junit.xml`` (for CI).

Every rendering is a pure function of the :class:`Report`, so ``harness report RUN_DIR``
regenerates all of them from ``report.json`` alone (:func:`regenerate`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from harness.report.build import build_report
from harness.report.markdown import render_markdown
from harness.report.model import REPORT_SCHEMA_VERSION, Report

RENDERED = {"md": "report.md", "html": "report.html", "junit": "junit.xml"}
"""Formats rendered from report.json, and their file names in a run directory."""


class ReportFileError(ValueError):
    """A ``report.json`` is missing, unreadable, of a newer schema, or invalid."""


def render_all(report: Report) -> dict[str, str]:
    """Every rendered format's text, by format (``md``, ``html``, ``junit``)."""
    from harness.report.html import render_html
    from harness.report.junit import render_junit

    return {"md": render_markdown(report), "html": render_html(report), "junit": render_junit(report)}


def warm_up() -> None:
    """Load what the first report costs besides its own work: the analysis (pandas, numpy),
    matplotlib's modules and fonts, and the HTML template. It changes no output.

    ``harness run`` imports this package and calls it in a thread during the stack's health
    wait (the main thread only polls Docker then): about 1 s of a run's fixed cost, measured by
    ``bench/run_overhead.py``, overlaps that wait instead of following the teardown. Call it
    from one thread at a time (matplotlib is not thread-safe) and join that thread before
    building a report."""
    from harness.report.html import warm_up as warm_html
    from harness.report.markdown import warm_up as warm_markdown

    warm_markdown()
    warm_html()


def write_rendered(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``junit.xml`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt, text in render_all(report).items():
        paths[fmt] = out_dir / RENDERED[fmt]
        paths[fmt].write_text(text, encoding="utf-8")
    return paths


def write_reports(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.html`` and ``junit.xml`` into ``out_dir``;
    return their paths by format (``json``, ``md``, ``html``, ``junit``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json"}
    paths["json"].write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return paths | write_rendered(report, out_dir)


def report_path(path: Path) -> Path:
    """``path`` itself if it is a file (or names a ``.json`` file), else ``path/report.json``."""
    return path if path.is_file() or path.suffix == ".json" else path / "report.json"


def load_report(path: Path) -> Report:
    """Read a ``report.json`` (or a run directory holding one).

    Raises:
        ReportFileError: missing, unreadable, of a newer schema version, or invalid.
    """
    file = report_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportFileError(f"{file}: cannot read ({exc.strerror or exc})") from None
    try:
        report = Report.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ReportFileError(f"{file}: not a harness report.json ({exc.error_count()} problems; first: "
                              f"{where}: {first['msg']})") from None
    if report.schema_version > REPORT_SCHEMA_VERSION:
        raise ReportFileError(f"{file}: schema_version {report.schema_version} is newer than this harness reads "
                              f"({REPORT_SCHEMA_VERSION}); upgrade harness")
    return report


def regenerate(path: Path) -> dict[str, Path]:
    """Re-render every format from a run directory's ``report.json`` alone, next to it (the JSON is
    not rewritten). Raises :class:`ReportFileError`."""
    file = report_path(path)
    return write_rendered(load_report(file), file.parent)


__all__ = ["RENDERED", "Report", "ReportFileError", "build_report", "load_report", "regenerate", "render_all",
           "render_markdown", "warm_up", "write_rendered", "write_reports"]
