"""Whole-or-nothing file writes, shared by every room that writes a file a reader may open at any
moment: reports (``report.json`` and its renderings), the host ledger's index, and the scenario
``harness init`` writes.

The recipe is the usual one (``rename(2)`` is atomic within one file system): write a new
temporary file in the target's directory, flush it to disk, optionally check it where it lies,
then rename it over the target. On any failure the temporary file is removed and the target is
left as it was.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, check: Callable[[Path], None] | None = None,
                 mode: int | None = None) -> None:
    """Write ``data`` (``str`` is encoded as UTF-8) to ``path`` whole or not at all.

    The temporary file is ``.NAME.<random>.tmp`` next to ``path``, created with the usual
    permissions (0666 less the umask) or ``mode`` when given, flushed with ``fsync``; ``check``
    (if given) is called with its path before the rename and may raise to abandon the write.

    Raises:
        OSError: the directory is missing or not writable, the disk is full, ``path`` is a
            directory, ...
        Exception: whatever ``check`` raised (``path`` is left as it was).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
