"""The record hook: what one Locust ``request`` event becomes on the wire."""

import random

import pytest

from harness.load.hook import INTENDED_KEY, RecordHook, join_lines
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


def reference_lines(offset_s=0.0, **event):
    """The lines the hook wrote before its fast path (the formula it had, kept here verbatim)."""
    import json as _json
    import time as _time

    from harness.load.hook import ACK_KEY, _acknowledged_id, _number
    from harness.load.records import RECORD_FORMAT, ErrorClass, classify_exception

    def line_of(start_time, response_time, intended, name, status, error, size):
        duration = response_time or 0.0
        start = start_time if start_time is not None else _time.time() - duration / 1000
        if intended is not None:
            duration += (start - intended) * 1000
            start = intended
        return RECORD_PREFIX + RECORD_FORMAT % (start + offset_s, duration, name, status, error, size or 0)

    response, context, exception = event.get("response"), event.get("context"), event.get("exception")
    start_time, response_time, size = event.get("start_time"), event["response_time"], event["response_length"]
    status = getattr(response, "status_code", 0) or 0
    if exception is None:
        error = ""
    elif status:
        error = ErrorClass.for_status(status) or ErrorClass.OTHER.value
    else:
        error = classify_exception(exception)
    name = str(event["name"])
    if "\t" in name or "\n" in name or "\r" in name:
        name = name.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    intended = context.get(INTENDED_KEY) if isinstance(context, dict) else None
    try:
        lines = [line_of(start_time, response_time, intended, name, status, error, size)]
    except (TypeError, ValueError):
        lines = [line_of(_number(start_time) if start_time is not None else None, _number(response_time),
                         _number(intended) if intended is not None else None, name, int(_number(status)), error,
                         int(_number(size)))]
    ack = context.get(ACK_KEY) if isinstance(context, dict) else None
    if ack and not error and response is not None:
        ident = _acknowledged_id(response, ack)
        if ident is not None:
            lines.append("E\t" + _json.dumps({"event": "ack", "name": name, "id": ident}) + "\n")
    return lines


class Body(Response):
    def __init__(self, status_code, text):
        super().__init__(status_code)
        self.text = text


class NoStatus:
    """A response object without ``status_code`` (a custom client's)."""


REPRESENTATIVE = [
    {},  # the common request: the fast path
    dict(start_time=1765095000.1234565, response_time=0.0004999),  # rounding at the last digit
    dict(start_time=1765095000.0, response_time=123456.7894, response_length=10 ** 9),
    dict(start_time=1765095000, response_time=3),  # ints
    dict(start_time=1000.25, name="GET /q?a=1&b=ü"),  # non-ASCII name
    dict(name="a\tb\nc\rd"),  # sanitised
    dict(name=None), dict(name=17),  # not a string
    dict(response_time=None, response_length=None),
    dict(response_time="3.5", response_length="12", start_time="1000.5"),  # odd types
    dict(response_length=object()), dict(response_time=float("nan")), dict(start_time=float("inf")),
    dict(start_time=None, response_time=0.0),  # no start: now
    dict(response=None), dict(response=NoStatus()), dict(response=Response(None)),
    dict(response=Response(503), exception=Exception("503 Server Error")),
    dict(response=Response(429), exception=Exception("429")),
    dict(response=Response(200), exception=Exception("wrong body")),
    dict(response=None, exception=ConnectionRefusedError(111, "Connection refused"), response_length=0),
    dict(response=Response(0), exception=TimeoutError("timed out")),
    dict(context={INTENDED_KEY: 1000.0}, start_time=1000.25),  # open model
    dict(context={INTENDED_KEY: "999.5"}, start_time=1000.25),  # odd intended
    dict(context={"user": "u1"}),  # a user's own context
    dict(context=["not", "a", "dict"]), dict(context=None),
    dict(context={"harness_ack_id": "id"}, response=Body(201, '{"id": 7}')),  # an acknowledged write
    dict(context={"harness_ack_id": "id"}, response=Body(201, "not json")),
    dict(context={"harness_ack_id": "id"}, response=Body(500, '{"id": 7}'), exception=Exception("500")),
]


@pytest.mark.parametrize("raw", [False, True])
@pytest.mark.parametrize("offset_s", [0.0, 5.0, -0.123456])
@pytest.mark.parametrize("overrides", REPRESENTATIVE, ids=range(len(REPRESENTATIVE)))
def test_the_hook_writes_the_same_lines_as_its_reference_formula(overrides, offset_s, raw, monkeypatch):
    monkeypatch.setattr("time.time", lambda: 2000.0)  # the no-start case reads the clock
    event = dict(request_type="GET", name="GET /p", response_time=12.5, response_length=42,
                 response=Response(200), context={}, exception=None, start_time=1765095000.123456,
                 url="http://x/p")
    event.update(overrides)
    batch: list = []
    hook = RecordHook(batch.append, offset_s=offset_s, raw=raw)
    hook(**event)
    expected = reference_lines(offset_s, **event)
    if raw:  # fields or lines, which the flush formats or keeps
        assert len(batch) == len(expected) and join_lines(batch) == "".join(expected)
    else:
        assert batch == expected
    assert hook.count == 1


def test_the_hook_writes_the_same_lines_as_its_reference_formula_for_random_times():
    rng = random.Random(7)
    for _ in range(5000):
        event = dict(request_type="GET", name="/", response=Response(rng.choice([200, 204, 301])), context={},
                     exception=None, start_time=rng.uniform(1.6e9, 1.9e9) + rng.choice([0.0, 5e-7, 1e-6]),
                     response_time=rng.expovariate(1 / 50), response_length=rng.randrange(10 ** 6), url="u")
        offset_s = rng.choice([0.0, rng.uniform(-2, 2)])
        lines: list[str] = []
        RecordHook(lines.append, offset_s=offset_s)(**event)
        assert lines == reference_lines(offset_s, **event)
        batch: list = []
        RecordHook(batch.append, offset_s=offset_s, raw=True)(**event)
        assert isinstance(batch[0], tuple) and join_lines(batch) == lines[0]


def test_a_raw_hook_keeps_the_common_records_as_fields_and_the_rest_as_lines_in_order():
    batch: list = []
    hook = RecordHook(batch.append, raw=True)
    common = dict(request_type="GET", name="/", response_time=1.5, response_length=3, response=Response(200),
                  context={}, exception=None, start_time=1000.5)
    hook(**common)
    hook(**{**common, "exception": Exception("500"), "response": Response(500)})
    hook(**{**common, "response_time": 2.5})
    assert [type(x) for x in batch] == [tuple, str, tuple] and hook.count == 3
    assert join_lines(batch) == ("R\t1000.500000\t1.500\t/\t200\t\t3\n" "R\t1000.500000\t1.500\t/\t500\thttp_500\t3\n"
                                 "R\t1000.500000\t2.500\t/\t200\t\t3\n")
