"""Report files read and written safely: a damaged, hostile or huge input gets one line naming
the file, and an output file is either written whole or left as it was.

Reading (``report.json``, ``aggregate.json``): :func:`read_json_text` takes a regular file of
at most :data:`MAX_JSON_BYTES`, UTF-8 with or without a byte order mark; :func:`validate_json`
turns pydantic's errors into one line: ``FILE:LINE:COL: invalid JSON: ...`` or ``FILE: not a
harness report.json: field.path: message (and N more problems)``.

Writing: :func:`write_atomic` writes a temporary file next to the target, flushes it to disk
and renames it over the target (``os.replace`` is atomic on POSIX), so a crash, a kill or a
full disk leaves the old file or the new one, never half of one, and no temporary file.
:func:`write_files` writes several into one directory and turns any ``OSError`` into a one-line
:class:`ReportWriteError`.

This module imports nothing else of harness: the run's last-resort report writer uses it.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from harness.atomic import write_atomic  # noqa: F401  (the report package's writer; re-exported)

MAX_JSON_BYTES = 200 * 1024 * 1024
"""Largest ``report.json`` / ``aggregate.json`` read: 200 MiB. A 5-minute run at 16,700
requests/s writes ~150 KB (docs/reports.md); the cap keeps a hostile file from costing
gigabytes of memory (pydantic holds the parsed document, several times the text)."""

MAX_DETAIL_CHARS = 200
"""Longest piece of a file's own text (a field path built from its keys) put into a message."""

_AT_LINE_COL = re.compile(r"^(?P<what>.*?) at line (?P<line>\d+) column (?P<col>\d+)$", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

Model = TypeVar("Model", bound=BaseModel)


class ReportFileError(ValueError):
    """A report file (``report.json``, ``aggregate.json``, a run's ``journal.jsonl`` or
    ``requests.tsv`` for ``harness compare``) is missing, unreadable, damaged, of a newer
    schema, or cannot be written. The message is one line and names the file."""


class ReportWriteError(ReportFileError):
    """Report files cannot be written into a directory: ``DIR: cannot write report files
    (reason)``, e.g. not a directory, permission denied, no space left on device."""


def one_line(text: str, max_chars: int | None = None) -> str:
    """``text`` with every line break and control character shown as ``\\n``, ``\\x1b``, ...
    (so a message stays one line), cut to ``max_chars`` with ``…`` when given."""
    flat = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if max_chars is not None and len(flat) > max_chars:
        flat = flat[: max_chars - 1] + "…"
    return flat


def read_json_text(file: Path, max_bytes: int = MAX_JSON_BYTES) -> str:
    """The text of a JSON file: a regular file of at most ``max_bytes`` (checked before reading
    and while reading, so a file that grows or lies about its size is cut off too), decoded as
    UTF-8 with an optional byte order mark.

    Raises:
        ReportFileError: missing or unreadable (``FILE: cannot read (reason)``), not a regular
            file (a directory, a FIFO, a device), too large, or not UTF-8 (``FILE: not UTF-8
            text (byte N)``, N the 0-based offset of the first bad byte).
    """
    try:
        info = file.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(info.st_mode):
            raise ReportFileError(f"{file}: not a regular file")
        if info.st_size > max_bytes:
            raise ReportFileError(_too_large(file, info.st_size, max_bytes))
        with file.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise ReportFileError(f"{file}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise ReportFileError(_too_large(file, None, max_bytes))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise ReportFileError(f"{file}: not UTF-8 text (byte {offset})") from None


def _too_large(file: Path, size_bytes: int | None, max_bytes: int) -> str:
    size = f"{size_bytes} bytes" if size_bytes is not None else "larger than that"
    return f"{file}: {size}, more than the {max_bytes} bytes a report file may have"


def validate_json(model: type[Model], file: Path, text: str, what: str = "harness report.json") -> Model:
    """``model`` validated from JSON ``text`` read from ``file``.

    Raises:
        ReportFileError: one line. Invalid JSON: ``FILE:LINE:COL: invalid JSON: <pydantic's
            message>`` (``FILE: invalid JSON: ...`` when pydantic gives no position; a document
            nested too deep gets its "recursion limit exceeded"); a document of the wrong shape:
            ``FILE: not a <what>: field.path: message (and N more problems)``.
    """
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise ReportFileError(describe_validation(file, exc, what)) from None
    except RecursionError:  # pydantic stops deep JSON itself; this guards a deep *model* input
        raise ReportFileError(f"{file}: invalid JSON: recursion limit exceeded") from None


def describe_validation(file: Path, exc: ValidationError, what: str) -> str:
    """One line for a pydantic :class:`ValidationError` of ``file`` (see :func:`validate_json`)."""
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        reason = str((first.get("ctx") or {}).get("error") or first["msg"])
        found = _AT_LINE_COL.match(reason)
        if found:
            return (f"{file}:{found['line']}:{found['col']}: invalid JSON: "
                    f"{one_line(found['what'], MAX_DETAIL_CHARS)}")
        return f"{file}: invalid JSON: {one_line(reason, MAX_DETAIL_CHARS)}"
    where = ".".join(str(p) for p in first["loc"]) or "top level"
    more = exc.error_count() - 1
    return (f"{file}: not a {what}: {one_line(where, MAX_DETAIL_CHARS)}: {one_line(first['msg'], MAX_DETAIL_CHARS)}"
            + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))


def write_files(out_dir: Path, texts: dict[str, str]) -> dict[str, Path]:
    """Create ``out_dir`` (and its parents) and write each ``{file name: text}`` into it with
    :func:`write_atomic`, in order; return the paths by file name.

    Raises:
        ReportWriteError: ``DIR: cannot write report files (reason)``; the files written before
            the failure are whole, the one that failed is left as it was.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file (or a dangling link) where the directory should be
        raise ReportWriteError(f"{out_dir}: cannot write report files ({os.strerror(errno.ENOTDIR)})") from None
    except OSError as exc:
        raise ReportWriteError(f"{out_dir}: cannot write report files ({exc.strerror or exc})") from None
    paths = {}
    for name, text in texts.items():
        paths[name] = out_dir / name
        try:
            write_atomic(paths[name], text)
        except OSError as exc:
            raise ReportWriteError(f"{out_dir}: cannot write report files ({exc.strerror or exc})") from None
    return paths


def write_formats(out_dir: Path, stem: str, texts: dict[str, str]) -> dict[str, Path]:
    """Write ``{format: text}`` as ``out_dir/<stem>.<format>`` (``matrix.json``, ``matrix.md``...)
    with :func:`write_files`; return the paths by format.

    Raises:
        ReportWriteError: as :func:`write_files`.
    """
    written = write_files(out_dir, {f"{stem}.{fmt}": text for fmt, text in texts.items()})
    return {fmt: written[f"{stem}.{fmt}"] for fmt in texts}
