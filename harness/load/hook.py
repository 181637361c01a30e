"""The record hook: turns Locust's ``request`` event into one protocol line per request.

Plain Python (no locust import), so it is unit-tested in the orchestrator's process; the load
child registers it with ``env.events.request.add_listener``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from harness.load.records import RECORD_FORMAT, RECORD_PREFIX, ErrorClass, classify_exception

ACK_KEY = "harness_ack_id"
"""Key, in a request's Locust ``context``, of the JSON field that holds the id a successful
write acknowledged: the hook then emits an ``ack`` event (``{"event": "ack", "name", "id"}``)
so the orchestrator can read the write back after the load (``no_data_loss``)."""

INTENDED_KEY = "harness_intended_s"
"""Key of the intended send time (epoch s) in a request's Locust ``context`` (open model): the
hook measures the request from there instead of from the actual send."""

_LINE = RECORD_PREFIX + RECORD_FORMAT


class RecordHook:
    """Listener for Locust's ``request`` event: one protocol line (``R\\t<record>``) per request,
    handed to ``sink`` (a list's ``append``: the hot path does no I/O and builds no object).

    A request whose context carries an intended send time (open model) is recorded from that
    time: ``start_s`` = intended, ``duration_ms`` = (actual send - intended) + Locust's response
    time. Everything else is recorded from Locust's own ``start_time`` (epoch s at send) and
    ``response_time`` (ms). Errors: an HTTP status class when a response arrived, else
    :func:`harness.load.records.classify_exception`.

    ``offset_s`` (seconds, default 0) is added to every ``start_s``: a remote worker's clock
    correction into its master's clock (:mod:`harness.load.clock`). Durations are unaffected.

    Calling the hook never raises for odd field types (a custom event's strings or objects
    still make exactly one record, with the fields that cannot be read as 0); exceptions of the
    ``sink`` and of ``response.status_code`` go to the caller (Locust logs a listener's).

    The common request (no exception, an empty context, a ``float`` ``start_time``, a plain
    ``str`` name with no tab or newline) takes a fast path that formats its line in this one
    frame; every other one goes through :meth:`record`, which applies the same formula in full.
    Both give the same line for the same event (``tests/unit/load/test_hook.py`` checks it).

    ``raw=True``: the fast path hands ``sink`` the line's fields instead, a tuple ``(start_s,
    duration_ms, name, status, "", bytes)`` of exactly the types RECORD_FORMAT takes (float,
    float, str, int, str, int), to be formatted later with the others of its batch by
    :func:`join_lines` (the float formatting is most of a record's cost, and cheaper in bulk).
    Other records still reach ``sink`` as lines, in order.
    """

    def __init__(self, sink: Callable[[str | tuple], None], offset_s: float = 0.0, raw: bool = False) -> None:
        self.sink = sink
        self.offset_s = offset_s
        self.raw = raw
        self.count = 0
        """Records produced so far."""

    def __call__(self, request_type, name, response_time, response_length, response=None, context=None,
                 exception=None, start_time=None, **_kwargs) -> None:
        # Fast path: the bare minimum of tests, in the order that rejects an odd event cheapest.
        if exception is None and not context and start_time.__class__ is float and name.__class__ is str \
                and "\t" not in name and "\n" not in name and "\r" not in name:
            try:
                status = response.status_code or 0
            except AttributeError:  # no response object (a custom event): no status
                status = 0
            if self.raw:
                duration = response_time or 0.0
                size = response_length or 0
                if duration.__class__ is float and size.__class__ is int and status.__class__ is int:
                    self.count += 1
                    self.sink((start_time + self.offset_s, duration, name, status, "", size))
                    return
            else:
                try:
                    line = _LINE % (start_time + self.offset_s, response_time or 0.0, name, status, "",
                                    response_length or 0)
                except (TypeError, ValueError):  # odd types from a custom event: the full path copes
                    pass
                else:
                    self.count += 1
                    self.sink(line)
                    return
        self.record(name, response_time, response_length, response, context, exception, start_time)

    def record(self, name, response_time, response_length, response=None, context=None, exception=None,
               start_time=None) -> None:
        """One record (and, for a write with ``harness_ack_id`` in its context, one ``ack`` event)
        for any request event, whatever its fields' types: the full path of :meth:`__call__`.
        ``response_time`` is ms, ``start_time`` epoch s (None: now minus the response time),
        ``response_length`` bytes. Never raises for odd field types (see the class docstring)."""
        status = getattr(response, "status_code", 0) or 0
        if exception is None:
            error = ""
        elif status:
            error = ErrorClass.for_status(status) or ErrorClass.OTHER.value
        else:
            error = classify_exception(exception)
        name = str(name)
        if "\t" in name or "\n" in name or "\r" in name:
            name = name.replace("\t", " ").replace("\n", " ").replace("\r", " ")
        intended = context.get(INTENDED_KEY) if isinstance(context, dict) else None
        try:
            line = _line(start_time, response_time, intended, name, status, error, response_length, self.offset_s)
        except (TypeError, ValueError):  # odd types from a custom event: still one record
            line = _line(_number(start_time) if start_time is not None else None, _number(response_time),
                         _number(intended) if intended is not None else None, name, int(_number(status)), error,
                         int(_number(response_length)), self.offset_s)
        self.count += 1
        self.sink(line)
        ack = context.get(ACK_KEY) if isinstance(context, dict) else None
        if ack and not error and response is not None:
            ident = _acknowledged_id(response, ack)
            if ident is not None:
                self.sink("E\t" + json.dumps({"event": "ack", "name": name, "id": ident}) + "\n")


def join_lines(batch: list[str | tuple]) -> str:
    """One string of a batch's protocol lines, in order: lines as they are, and the fields of
    a record from a ``raw`` :class:`RecordHook` formatted as its line (``R\\t`` + RECORD_FORMAT).

    Raises:
        TypeError: a tuple whose fields RECORD_FORMAT cannot take (the hook never makes one).
    """
    return "".join([line if line.__class__ is str else _LINE % line for line in batch])


def _acknowledged_id(response: object, field: str) -> str | None:
    """``field`` of a JSON object response body, as a string; None if absent or not JSON."""
    try:
        body = json.loads(getattr(response, "text", "") or "")
    except (TypeError, ValueError):
        return None
    value = body.get(field) if isinstance(body, dict) else None
    return None if value is None else str(value)


def _line(start_time, response_time, intended, name: str, status: int, error: str, size, offset_s: float) -> str:
    duration = response_time or 0.0
    start = start_time if start_time is not None else time.time() - duration / 1000
    if intended is not None:
        duration += (start - intended) * 1000
        start = intended
    return _LINE % (start + offset_s, duration, name, status, error, size or 0)


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
