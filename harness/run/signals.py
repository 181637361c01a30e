"""What SIGINT and SIGTERM do during a run: during set-up and the load they raise
:class:`Interrupted` (the run tears down and reports ``interrupted``); during the teardown they
raise :class:`FastTeardown` (a second Ctrl-C: force-remove everything now); during the fast
teardown they are ignored."""

from __future__ import annotations

import signal
from typing import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals a run handles: Ctrl-C and a polite kill."""

Handler = Callable[[int, object], None] | int | None
"""A signal disposition, as :func:`signal.signal` takes and returns it."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the run tears down and reports ``interrupted``."""


class FastTeardown(Exception):
    """A second SIGINT/SIGTERM arrived during teardown: force-remove everything now."""


def raise_interrupted(signum: int, _frame: object) -> None:
    """Signal handler of the set-up and the load: raises :class:`Interrupted` naming the signal."""
    raise Interrupted(signal.Signals(signum).name)


def raise_fast_teardown(signum: int, _frame: object) -> None:
    """Signal handler of the graceful teardown: raises :class:`FastTeardown` naming the signal."""
    raise FastTeardown(signal.Signals(signum).name)


def handle_signals(handler: Handler) -> dict[int, Handler]:
    """Make ``handler`` the disposition of SIGINT and SIGTERM; return the previous ones, by
    signal, for :func:`restore_signals`. Main thread only (:func:`signal.signal` raises
    ``ValueError`` elsewhere)."""
    return {sig: signal.signal(sig, handler) for sig in SIGNALS}


def restore_signals(previous: dict[int, Handler]) -> None:
    """Put back the dispositions :func:`handle_signals` returned."""
    for sig, handler in previous.items():
        signal.signal(sig, handler)
