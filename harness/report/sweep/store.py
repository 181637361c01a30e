"""``sweep.json`` and its renderings on disk: :func:`write_sweep` writes all three whole or not at
all (the runner calls it after every cell, so an interrupted sweep leaves a complete report of the
cells done), :func:`load_sweep` reads ``sweep.json`` with the rules of ``report.json`` (a damaged,
hostile or huge file gets one line naming it, :mod:`harness.report.files`), and
:func:`regenerate_sweep` renders ``sweep.md``/``sweep.html`` again from it.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from harness.report.files import ReportFileError, one_line, read_json_text, validate_json, write_files, write_formats
from harness.report.sweep.model import SWEEP_SCHEMA_VERSION, Sweep
from harness.report.sweep.render import render_sweep_html, render_sweep_md

SWEEP_FILE = "sweep.json"


def sweep_file(path: Path) -> Path:
    """``path`` itself if it is a file (or names a ``.json`` file), else ``path/sweep.json``."""
    return path if path.is_file() or path.suffix == ".json" else path / SWEEP_FILE


def is_sweep(path: Path) -> bool:
    """Whether ``path`` is a sweep: a directory holding ``sweep.json``, or a file of that name."""
    return path.name == SWEEP_FILE if path.suffix == ".json" or path.is_file() else (path / SWEEP_FILE).is_file()


def write_sweep(sweep: Sweep, out_dir: Path, without: Collection[str] = ()) -> dict[str, Path]:
    """Write ``sweep.json``, ``sweep.md`` and ``sweep.html`` into ``out_dir`` (created if missing),
    each whole or not at all (:func:`harness.atomic.write_atomic`), everything rendered before the
    first file is written; return their paths by format (``json``, ``md``, ``html``). ``without``:
    formats neither rendered nor written (``("html",)`` while the sweep runs: an idle child
    draws the page, :mod:`harness.run.idle_reports`).

    Raises:
        harness.report.ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    texts = {"json": sweep.model_dump_json(indent=2) + "\n", "md": render_sweep_md(sweep)}
    if "html" not in without:
        texts["html"] = render_sweep_html(sweep)
    return write_formats(out_dir, "sweep", texts)


def load_sweep(path: Path) -> Sweep:
    """Read a ``sweep.json`` (or a sweep directory holding one).

    The file must be a regular file of at most :data:`harness.report.files.MAX_JSON_BYTES`,
    UTF-8 (a byte order mark is accepted), valid JSON, a valid sweep of a schema version this
    harness reads, and each cell's ``dir`` a relative path inside the sweep directory (no
    ``..``, not absolute).

    Raises:
        harness.report.ReportFileError: missing, unreadable, too large, not UTF-8, invalid JSON,
            not a sweep, of a newer schema version, or a cell ``dir`` outside; one line naming
            the file.
    """
    file = sweep_file(path)
    sweep = validate_json(Sweep, file, read_json_text(file), what="harness sweep.json")
    if sweep.schema_version > SWEEP_SCHEMA_VERSION:
        raise ReportFileError(f"{file}: schema_version {sweep.schema_version} is newer than this harness reads "
                              f"({SWEEP_SCHEMA_VERSION}); upgrade harness")
    for i, cell in enumerate(sweep.cells):
        parts = Path(cell.dir).parts
        if not cell.dir or "\x00" in cell.dir or Path(cell.dir).is_absolute() or ".." in parts:
            raise ReportFileError(f"{file}: cells.{i}.dir {one_line(repr(cell.dir), 120)} is not a directory "
                                  f"inside the sweep's")
    return sweep


def regenerate_sweep(path: Path) -> dict[str, Path]:
    """Render ``sweep.md`` and ``sweep.html`` again from a sweep directory's ``sweep.json`` (which
    is not rewritten); return their paths by format (``md``, ``html``).

    Raises:
        harness.report.ReportFileError: see :func:`load_sweep`; or the directory cannot be
            written (:class:`~harness.report.ReportWriteError`).
    """
    file = sweep_file(path)
    sweep = load_sweep(file)
    written = write_files(file.parent, {"sweep.md": render_sweep_md(sweep), "sweep.html": render_sweep_html(sweep)})
    return {"md": written["sweep.md"], "html": written["sweep.html"]}
