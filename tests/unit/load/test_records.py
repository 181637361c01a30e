"""Record format and error classes, including the exceptions geventhttpclient (FastHttpUser)
raises, matched by type name and attributes without importing the client."""

import socket

import pytest

from harness.load.records import (
    RECORD_COLUMNS,
    RECORD_FORMAT,
    ErrorClass,
    RequestRecord,
    classify_exception,
    encode_fields,
)


def test_encode_decode_round_trip_keeps_six_columns_and_units():
    line = encode_fields(1795240764.2311622, 301.23449, "GET /x", 200, "", 42)
    assert line == "1795240764.231162\t301.234\tGET /x\t200\t\t42\n"  # 6 decimals s, 3 decimals ms
    assert len(line.rstrip("\n").split("\t")) == len(RECORD_COLUMNS)
    assert RequestRecord.decode(line) == RequestRecord(1795240764.231162, 301.234, "GET /x", 200, "", 42)


def test_names_lose_tabs_and_newlines_so_a_record_stays_one_line():
    line = RequestRecord(1.0, 2.0, "a\tb\nc\rd", 503, "http_503", 0).encode()
    assert line.count("\n") == 1 and line.count("\t") == 5
    assert RequestRecord.decode(line).name == "a b c d"


def test_record_format_is_the_one_the_encoder_uses():
    assert RECORD_FORMAT % (1.5, 2.25, "n", 200, "", 3) == encode_fields(1.5, 2.25, "n", 200, "", 3)


def test_decode_rejects_a_malformed_line():
    with pytest.raises(ValueError):
        RequestRecord.decode("1.0\t2.0\tname\n")


# Look-alikes of geventhttpclient's exceptions (same names, bases and attributes as
# geventhttpclient.useragent / .response 2.x): classification must not need the library.
class GhcConnectionError(Exception):
    def __init__(self, url, *args, **kw):
        self.url = url
        self.__dict__.update(kw)
        self.text = ", ".join(f"{k}={v}" for k, v in kw.items())

    def __str__(self):
        return f"URL {self.url}: {self.text}"


class RetriesExceeded(GhcConnectionError):
    pass


class HTTPConnectionClosed(OSError):
    pass


class Timeout(BaseException):  # gevent.Timeout derives from BaseException
    pass


def wrapped(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException:
            raise outer
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(
    "exc,expected",
    [
        # FastHttpUser: a timeout is RetriesExceeded(url, retries, original=TimeoutError)
        (RetriesExceeded("http://h/x", 0, original=TimeoutError("timed out")), "timeout"),
        (RetriesExceeded("http://h/x", 0, original=Timeout(10)), "timeout"),
        # ... the URL must not decide: "/refused" in the path of a timed-out request
        (RetriesExceeded("http://h/refused", 0, original=TimeoutError("timed out")), "timeout"),
        # a reset while reading: HTTPConnectionClosed raised during ConnectionResetError
        (wrapped(HTTPConnectionClosed("connection closed."), ConnectionResetError(104, "Connection reset by peer")),
         "connection_reset"),
        # closed without a response (requests says RemoteDisconnected): same class
        (HTTPConnectionClosed("connection closed."), "connection_reset"),
        # refused and DNS arrive as the builtin/socket exceptions
        (ConnectionRefusedError(111, "Connection refused"), "connection_refused"),
        (socket.gaierror(-2, "Name or service not known"), "dns"),
        (socket.gaierror(-3, "Temporary failure in name resolution"), "dns"),
        (RuntimeError("Cannot resolve nxdomain.test:80"), "dns"),
        (OSError(110, "Connection timed out"), "timeout"),
        (OSError(32, "Broken pipe"), "connection_reset"),
    ],
)
def test_fast_client_exceptions(exc, expected):
    assert classify_exception(exc) == expected


def test_requests_style_wrappers_are_searched_through_args_and_reason():
    class NewConnectionError(Exception):
        pass

    class MaxRetryError(Exception):
        def __init__(self, reason):
            super().__init__("Max retries exceeded")
            self.reason = reason

    class ConnectionError_(Exception):  # requests.exceptions.ConnectionError(MaxRetryError(...))
        pass

    inner = wrapped(NewConnectionError("Failed to establish a new connection"), ConnectionRefusedError(111, "x"))
    assert classify_exception(ConnectionError_(MaxRetryError(inner))) == "connection_refused"


def test_unknown_exceptions_are_other_and_a_broken_str_does_not_raise():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert classify_exception(ValueError("bad json")) == ErrorClass.OTHER.value
    assert classify_exception(Weird()) == ErrorClass.OTHER.value
