"""The request record: one line per request, streamed from the load child and kept in the journal.

Wire and file format (tab-separated, one record per line, no header)::

    start_s  duration_ms  name  status  error  bytes

- ``start_s``: request start, epoch seconds (6 decimals). In the open model (``rate_rps``) this
  is the request's *intended* send time, not the moment it was actually sent;
- ``duration_ms``: response time in milliseconds (3 decimals), from ``start_s`` to completion;
- ``name``: the request's report name (tabs and newlines replaced by spaces);
- ``status``: HTTP status, 0 when no response arrived;
- ``error``: an :class:`ErrorClass` value, empty on success;
- ``bytes``: response body length.

On the child's stdout a record line is prefixed with :data:`RECORD_PREFIX`, an event line (JSON)
with :data:`EVENT_PREFIX` (see :mod:`harness.load.worker`).

Error classes follow the seeds' diagnosis map ("cannot connect", "connects but no answer",
server errors) so a report can say which failure the client saw.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from enum import StrEnum

RECORD_COLUMNS = ("start_s", "duration_ms", "name", "status", "error", "bytes")
RECORD_PREFIX = "R\t"
"""Prefix of a record line on the child's stdout."""
EVENT_PREFIX = "E\t"
"""Prefix of an event line (one JSON object) on the child's stdout."""
RECORD_FORMAT = "%.6f\t%.3f\t%s\t%d\t%s\t%d\n"
"""``%`` format of one record line from (start_s, duration_ms, name, status, error, bytes); the
name must already be free of tabs and newlines."""


class ErrorClass(StrEnum):
    """Why a request failed, as seen from the client."""

    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    TIMEOUT = "timeout"
    DNS = "dns"
    HTTP_429 = "http_429"
    HTTP_4XX = "http_4xx"
    OTHER = "other"

    @staticmethod
    def for_status(status: int) -> str:
        """Class of a failed response with HTTP ``status``: ``http_5NN`` per code, ``http_429``,
        ``http_4xx``; empty for success (< 400)."""
        if status >= 500:
            return f"http_{status}"
        if status == 429:
            return ErrorClass.HTTP_429.value
        if status >= 400:
            return ErrorClass.HTTP_4XX.value
        return ""


# Exceptions by type: builtins first (both clients end up raising them, often wrapped), then
# the names of the clients' own types, matched on the class and its bases without importing
# the client libraries (requests/urllib3 for HttpUser, geventhttpclient for FastHttpUser).
_BY_TYPE: tuple[tuple[type[BaseException], ErrorClass], ...] = (
    (ConnectionRefusedError, ErrorClass.CONNECTION_REFUSED),
    (socket.gaierror, ErrorClass.DNS),
    (TimeoutError, ErrorClass.TIMEOUT),  # socket.timeout is an alias since 3.10
    (ConnectionResetError, ErrorClass.CONNECTION_RESET),
    (ConnectionAbortedError, ErrorClass.CONNECTION_RESET),
    (BrokenPipeError, ErrorClass.CONNECTION_RESET),
)
_BY_ERRNO = {
    errno.ECONNREFUSED: ErrorClass.CONNECTION_REFUSED,
    errno.ETIMEDOUT: ErrorClass.TIMEOUT,
    errno.ECONNRESET: ErrorClass.CONNECTION_RESET,
    errno.ECONNABORTED: ErrorClass.CONNECTION_RESET,
    errno.EPIPE: ErrorClass.CONNECTION_RESET,
    socket.EAI_NONAME: ErrorClass.DNS,
    socket.EAI_AGAIN: ErrorClass.DNS,
}
_BY_TYPE_NAME = {
    # requests / urllib3 / http.client
    "ConnectTimeout": ErrorClass.TIMEOUT,
    "ReadTimeout": ErrorClass.TIMEOUT,
    "ConnectTimeoutError": ErrorClass.TIMEOUT,
    "ReadTimeoutError": ErrorClass.TIMEOUT,
    "NameResolutionError": ErrorClass.DNS,
    "RemoteDisconnected": ErrorClass.CONNECTION_RESET,
    # gevent / geventhttpclient
    "Timeout": ErrorClass.TIMEOUT,  # gevent.Timeout
    "HTTPConnectionClosed": ErrorClass.CONNECTION_RESET,  # closed or reset before the response
    "EmptyResponse": ErrorClass.CONNECTION_RESET,
}
# Message fragments, for wrappers whose type says nothing (checked in this order).
_BY_MESSAGE = (
    (("refused",), ErrorClass.CONNECTION_REFUSED),
    (("name or service not known", "nameresolution", "getaddrinfo", "temporary failure in name resolution",
      "no address associated", "cannot resolve", "nodename nor servname"), ErrorClass.DNS),
    (("timeout", "timed out"), ErrorClass.TIMEOUT),
    (("reset", "remotedisconnected", "aborted", "broken pipe", "connection closed", "closed connection",
      "without response"), ErrorClass.CONNECTION_RESET),
)
_CHAIN_LIMIT = 8


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps, outermost first: ``original`` (geventhttpclient's
    RetriesExceeded), ``reason`` (urllib3), exceptions among ``args`` (requests), then
    ``__cause__`` and ``__context__``."""
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < _CHAIN_LIMIT:
        e = todo.pop(0)
        if any(e is seen for seen in out):
            continue
        out.append(e)
        for attr in ("original", "reason"):
            inner = getattr(e, attr, None)
            if isinstance(inner, BaseException):
                todo.append(inner)
        todo.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)
    return out


def _by_type(e: BaseException) -> ErrorClass | None:
    for cls, error in _BY_TYPE:
        if isinstance(e, cls):
            return error
    number = getattr(e, "errno", None)
    if isinstance(number, int) and number in _BY_ERRNO:
        return _BY_ERRNO[number]
    for cls in type(e).__mro__:
        if cls.__name__ in _BY_TYPE_NAME:
            return _BY_TYPE_NAME[cls.__name__]
    return None


def _message(e: BaseException) -> str:
    """Type name and message, without the request URL some wrappers embed (a path like
    ``/timeout`` must not decide the class)."""
    try:
        text = f"{type(e).__name__} {e}"
    except Exception:  # a broken __str__ must not lose the record
        text = type(e).__name__
    url = getattr(e, "url", None)
    if url:
        text = text.replace(str(url), " ")
    return text.lower()


def classify_exception(exc: BaseException) -> str:
    """Map a client exception to an :class:`ErrorClass` value without importing the client.

    Covers Locust's HttpUser (requests/urllib3: ``ConnectionRefusedError``, ``ReadTimeout``,
    ``RemoteDisconnected``, ``gaierror``, ...) and FastHttpUser (geventhttpclient: refused and
    DNS failures arrive as the builtin/socket exceptions; a timeout as ``RetriesExceeded`` with
    the ``TimeoutError`` as ``original``; a reset or a close before the response as
    ``HTTPConnectionClosed``). The wrapped chain is searched outermost first, by type, then
    errno, then type name; then by message; anything else is ``other``.
    """
    found = _by_type(exc)  # fast path: most exceptions arrive unwrapped
    if found is not None:
        return found.value
    chain = _chain(exc)
    for e in chain[1:]:
        found = _by_type(e)
        if found is not None:
            return found.value
    text = " ".join(_message(e) for e in chain)
    for fragments, error in _BY_MESSAGE:
        if any(f in text for f in fragments):
            return error.value
    return ErrorClass.OTHER.value


def encode_fields(start_s: float, duration_ms: float, name: str, status: int, error: str, size: int) -> str:
    """One record as a TSV line, newline included: the hot path of the load child (a few
    hundred nanoseconds; no object is built)."""
    if "\t" in name or "\n" in name or "\r" in name:
        name = name.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return RECORD_FORMAT % (start_s, duration_ms, name, status, error, size)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request (see the module docstring for units)."""

    start_s: float
    duration_ms: float
    name: str
    status: int
    error: str
    bytes: int

    def encode(self) -> str:
        """The record as one TSV line, newline included."""
        return encode_fields(self.start_s, self.duration_ms, self.name, self.status, self.error, self.bytes)

    @classmethod
    def decode(cls, line: str) -> "RequestRecord":
        """Parse one TSV line. Raises ``ValueError`` on a malformed line."""
        start, duration, name, status, error, size = line.rstrip("\n").split("\t")
        return cls(float(start), float(duration), name, int(status), error, int(size))
