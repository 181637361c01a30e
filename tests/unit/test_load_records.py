"""Request records: the wire format and the error classes of the seeds' diagnosis map."""

import socket

import pytest

from harness.load.records import ErrorClass, RequestRecord, classify_exception


def test_record_round_trips_and_strips_tabs():
    rec = RequestRecord(1.5, 12.3456, "GET\t/x\n", 503, "http_503", 42)
    line = rec.encode()
    assert line.count("\t") == 5 and line.endswith("\n")
    back = RequestRecord.decode(line)
    assert back == RequestRecord(1.5, 12.346, "GET /x ", 503, "http_503", 42)


@pytest.mark.parametrize(
    "status,expected", [(503, "http_503"), (500, "http_500"), (429, "http_429"), (404, "http_4xx"), (200, "")]
)
def test_status_classes(status, expected):
    assert ErrorClass.for_status(status) == expected


@pytest.mark.parametrize(
    "exc,expected",
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection_refused"),
        (ConnectionResetError(104, "Connection reset by peer"), "connection_reset"),
        (socket.timeout("timed out"), "timeout"),
        (socket.gaierror(-2, "Name or service not known"), "dns"),
        (ValueError("weird"), "other"),
    ],
)
def test_exception_classes(exc, expected):
    assert classify_exception(exc) == expected
