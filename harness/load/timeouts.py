"""How long the end of a load may take: the users' stop timeout and the graces built on it.

When the duration is over, users are not killed mid-request: each one finishes the request it
has in flight (answered or timed out), so the hung requests of the last seconds are recorded
instead of vanishing. Locust's ``stop_timeout`` bounds that wait; every grace after it (the
master's stop handshake, the driver's wait for the child) is counted on top of it.

Plain Python (no locust): the driver and the child both read these.
"""

from __future__ import annotations

STOP_MARGIN_S = 1.0
"""Beyond ``request_timeout_s``, how long a user may take to end its last request (the client's
timeout fires a little late under load; the record is written after it)."""
STOP_HANDSHAKE_SLACK_S = 20.0
"""Beyond the stop timeout, how long the master waits for every worker's last records and stats."""
WORKER_EXIT_TIMEOUT_S = 10.0
"""How long the master waits for each local worker process to exit once told to quit."""
CHILD_EXIT_SLACK_S = 5.0
"""The rest of a child's end: the final flush, Locust's quit (0.5 s), the interpreter's exit."""


def stop_timeout_s(request_timeout_s: float) -> float:
    """Locust's ``stop_timeout`` for a load whose client timeout is ``request_timeout_s``
    (seconds): how long a stopping user may keep its request in flight before it is killed."""
    return float(request_timeout_s) + STOP_MARGIN_S


def stop_handshake_timeout_s(request_timeout_s: float) -> float:
    """How long the master waits, after asking its workers to stop, for their last records
    (seconds): their users' stop timeout plus STOP_HANDSHAKE_SLACK_S."""
    return stop_timeout_s(request_timeout_s) + STOP_HANDSHAKE_SLACK_S


def child_end_grace_s(request_timeout_s: float) -> float:
    """How long the load child may take to end after its scheduled end (seconds): the master's
    stop handshake, its workers' exit and CHILD_EXIT_SLACK_S (a local child needs less)."""
    return stop_handshake_timeout_s(request_timeout_s) + WORKER_EXIT_TIMEOUT_S + CHILD_EXIT_SLACK_S
