"""``harness.log`` in a run directory: the tracebacks of what went wrong inside the harness (the
journal keeps the one-line messages)."""

from __future__ import annotations

import traceback
from pathlib import Path

LOG_NAME = "harness.log"


def append_traceback(run_dir: Path, what: str) -> None:
    """Append the exception being handled, headed by ``what`` was going on, to ``harness.log``.
    Never raises: a log that cannot be written is skipped (the journal has the message)."""
    try:
        with (run_dir / LOG_NAME).open("a", encoding="utf-8") as log:
            log.write(f"--- {what} ---\n{traceback.format_exc()}")
    except OSError:
        pass


def write_traceback(run_dir: Path) -> None:
    """Write the exception being handled (a harness bug that ended the run) as the whole of
    ``harness.log``. Raises ``OSError`` when the file cannot be written."""
    (run_dir / LOG_NAME).write_text(traceback.format_exc())
