"""Shared by the faults that pick a process inside a container by a ``process`` regex
(process_kill, fd_limit). Private module: not a fault kind, not auto-registered."""

from __future__ import annotations

import re


def valid_process_regex(value: str | None) -> str | None:
    """Pydantic validator of a ``process`` pattern.

    Raises:
        ValueError: not a valid regular expression (reported with the scenario's file:line).
    """
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"process is not a valid regular expression: {exc}") from None
    return value
