"""Pydantic helpers shared by several fault specs (pure functions: they import nothing of the
harness). Not a spec module: the spec registry skips it."""

from __future__ import annotations

import re


def validate_services(services: list[str]) -> list[str]:
    """Pydantic helper: names are non-empty and unique; returns them unchanged.

    Raises:
        ValueError: an empty or repeated name.
    """
    if any(not s for s in services):
        raise ValueError("service names must not be empty")
    if len(set(services)) != len(services):
        raise ValueError("service names must be unique")
    return services


def valid_process_regex(value: str | None) -> str | None:
    """Pydantic validator of a ``process`` pattern (process_kill, fd_limit); returns it unchanged.

    Raises:
        ValueError: not a valid regular expression (reported with the scenario's file:line).
    """
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"process is not a valid regular expression: {exc}") from None
    return value


__all__ = ["valid_process_regex", "validate_services"]
