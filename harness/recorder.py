"""The one thing the engine layers need of the journal: somewhere to record an event.

Environment code (the stack, the container monitor, the proxy watcher) records what it saw while
the run goes on, but sits below :mod:`harness.journal` in the layers. It depends on this
:class:`EventRecorder` protocol instead; :class:`harness.journal.Journal` satisfies it.
"""

from __future__ import annotations

from typing import Any, Protocol


class EventRecorder(Protocol):
    """Append one event named ``event`` (e.g. ``container.stats``) at ``t`` (epoch s, default
    now) with JSON-able ``fields``. Raises ``ValueError`` once the recorder is closed (the run is
    over): callers on background threads treat that as the end of their stream."""

    def record(self, event: str, t: float | None = None, **fields: Any) -> Any:
        """Record one event; the return value is the recorder's own (ignored by callers)."""
        ...
