"""The record hook: what one Locust ``request`` event becomes on the wire."""

from harness.load.hook import INTENDED_KEY, RecordHook
from harness.load.records import RECORD_PREFIX, RequestRecord


class Response:
    def __init__(self, status_code):
        self.status_code = status_code


def fire(**overrides):
    lines: list[str] = []
    hook = RecordHook(lines.append)
    event = dict(request_type="GET", name="GET /p", response_time=12.5, response_length=42,
                 response=Response(200), context={}, exception=None, start_time=1000.25, url="http://x/p")
    event.update(overrides)
    hook(**event)
    assert hook.count == 1 and len(lines) == 1 and lines[0].startswith(RECORD_PREFIX)
    return RequestRecord.decode(lines[0][len(RECORD_PREFIX):])


def test_closed_model_records_locust_start_and_response_time():
    assert fire() == RequestRecord(1000.25, 12.5, "GET /p", 200, "", 42)


def test_open_model_records_from_the_intended_send_time():
    # intended at 1000.0, actually sent 250 ms later (the pool was busy), answered in 12.5 ms
    rec = fire(context={INTENDED_KEY: 1000.0, "user": "ctx"})
    assert rec.start_s == 1000.0
    assert rec.duration_ms == 262.5


def test_failed_response_is_classed_by_status_and_exception_without_response_by_type():
    assert fire(response=Response(503), exception=Exception("503 Server Error")).error == "http_503"
    assert fire(response=Response(404), exception=Exception("404")).error == "http_4xx"
    rec = fire(response=None, exception=ConnectionRefusedError(111, "Connection refused"), response_length=0)
    assert (rec.status, rec.error, rec.bytes) == (0, "connection_refused", 0)


def test_caught_response_marked_failed_with_200_is_other():
    assert fire(exception=Exception("wrong body")).error == "other"


def test_name_is_sanitised_and_missing_fields_default():
    rec = fire(name="a\tb", response_time=None, response_length=None)
    assert (rec.name, rec.duration_ms, rec.bytes) == ("a b", 0.0, 0)


def test_odd_values_from_a_custom_event_still_make_exactly_one_record():
    rec = fire(response_length="12", response_time="3.5", start_time="1000.5")
    assert (rec.start_s, rec.duration_ms, rec.bytes) == (1000.5, 3.5, 12)
    rec = fire(response_length=object())
    assert rec.bytes == 0


def test_a_workers_clock_offset_moves_the_start_not_the_duration():
    lines: list[str] = []
    hook = RecordHook(lines.append, offset_s=5.0)
    hook(request_type="GET", name="n", response_time=12.5, response_length=1, response=Response(200), context={},
         exception=None, start_time=1000.25)
    hook(request_type="GET", name="n", response_time=12.5, response_length=1, response=Response(200),
         context={INTENDED_KEY: 1000.0}, exception=None, start_time=1000.25)
    closed, opened = (RequestRecord.decode(line[len(RECORD_PREFIX):]) for line in lines)
    assert (closed.start_s, closed.duration_ms) == (1005.25, 12.5)
    assert (opened.start_s, opened.duration_ms) == (1005.0, 262.5)
