"""The request record: one line per request, streamed from the load child and kept in the journal.

Wire and file format (tab-separated, one record per line, no header)::

    start_s  duration_ms  name  status  error  bytes

- ``start_s``: request start, epoch seconds (6 decimals);
- ``duration_ms``: response time in milliseconds (3 decimals);
- ``name``: the request's report name (tabs and newlines replaced by spaces);
- ``status``: HTTP status, 0 when no response arrived;
- ``error``: an :class:`ErrorClass` value, empty on success;
- ``bytes``: response body length.

Error classes follow the seeds' diagnosis map ("cannot connect", "connects but no answer",
server errors) so a report can say which failure the client saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

RECORD_COLUMNS = ("start_s", "duration_ms", "name", "status", "error", "bytes")


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


def classify_exception(exc: BaseException) -> str:
    """Map a client exception (requests/urllib3/socket) to an :class:`ErrorClass` value by its
    type names and message, without importing the client library."""
    text = f"{type(exc).__name__} {exc!r}".lower()
    if "refused" in text:
        return ErrorClass.CONNECTION_REFUSED.value
    if "name or service not known" in text or "nameresolution" in text or "getaddrinfo" in text:
        return ErrorClass.DNS.value
    if "timeout" in text or "timed out" in text:
        return ErrorClass.TIMEOUT.value
    if "reset" in text or "remotedisconnected" in text or "aborted" in text or "broken pipe" in text:
        return ErrorClass.CONNECTION_RESET.value
    return ErrorClass.OTHER.value


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
        name = self.name.replace("\t", " ").replace("\n", " ")
        return f"{self.start_s:.6f}\t{self.duration_ms:.3f}\t{name}\t{self.status}\t{self.error}\t{self.bytes}\n"

    @classmethod
    def decode(cls, line: str) -> "RequestRecord":
        """Parse one TSV line. Raises ``ValueError`` on a malformed line."""
        start, duration, name, status, error, size = line.rstrip("\n").split("\t")
        return cls(float(start), float(duration), name, int(status), error, int(size))
