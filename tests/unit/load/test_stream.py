"""The parent's side of the child protocol: records and events out of arbitrary chunks."""

import io
import time

from harness.load.records import RequestRecord, encode_fields
from harness.load.stream import LiveStats, StreamReader


def lines(n: int, start: float = 1000.0, every_error: int = 0) -> bytes:
    out = []
    for i in range(n):
        error = "timeout" if every_error and i % every_error == 0 else ""
        out.append("R\t" + encode_fields(start + i * 0.01, 1.5, "GET /é", 200 if not error else 0, error, 7))
    return "".join(out).encode("utf-8")


def read(data: bytes, chunk: int):
    sink, events = io.StringIO(), []
    reader = StreamReader(sink, LiveStats(), events.append)
    for i in range(0, len(data), chunk):
        reader.feed(data[i:i + chunk])
    reader.close()
    return sink.getvalue(), reader, events


def test_every_record_survives_any_chunking_including_a_split_utf8_character():
    data = lines(250, every_error=10)
    expected, _, _ = read(data, len(data))
    for chunk in (1, 2, 3, 7, 64, 4096):
        text, reader, _ = read(data, chunk)
        assert text == expected
        assert reader.stats.requests == 250 and reader.stats.errors == 25 and reader.garbage == 0
    records = [RequestRecord.decode(line) for line in expected.splitlines(keepends=True)]
    assert len(records) == 250 and records[3].name == "GET /é" and records[0].error == "timeout"


def test_events_come_in_stream_order_after_the_records_before_them_were_written():
    seen = []
    sink = io.StringIO()

    def on_event(event):
        seen.append((event["event"], sink.getvalue().count("\n")))

    reader = StreamReader(sink, LiveStats(), on_event)
    reader.feed(b'E\t{"event": "started", "t": 1000.0}\n' + lines(3) + b'E\t{"event": "stopped", "t": 1')
    reader.feed(b'001.0, "locust_requests": 3}\n')
    reader.close()
    assert seen == [("started", 0), ("stopped", 3)]


def test_per_second_counters_split_requests_and_errors_by_epoch_second():
    _, reader, _ = read(lines(300, start=1000.0, every_error=4), 1000)
    per_second = reader.stats.per_second
    assert per_second[1000] == [100, 25] and per_second[1001] == [100, 25] and per_second[1002] == [100, 25]
    rps, error_rate = reader.stats.window(1003.0, seconds=3)
    assert rps == 100 and error_rate == 0.25


def test_foreign_lines_are_counted_and_skipped_not_written():
    data = b"hello from a print\n" + lines(2) + b"R\tnot a record\nE\t{broken json\n\n"
    text, reader, events = read(data, 5)
    assert text.count("\n") == 2 and reader.garbage == 3 and events == []


def test_a_last_line_without_newline_is_kept():
    text, reader, _ = read(lines(2)[:-1], 8)
    assert text.count("\n") == 2 and reader.stats.requests == 2


def test_parsing_is_far_faster_than_the_20k_records_per_second_a_worker_must_sustain():
    data = lines(100_000, every_error=20)
    started = time.process_time()  # CPU time: the shared CI box's load must not decide
    _, reader, _ = read(data, 65536)
    cpu_s = time.process_time() - started
    assert reader.stats.requests == 100_000
    rate = 100_000 / cpu_s
    print(f"StreamReader: {rate:,.0f} records per CPU second")
    assert rate >= 100_000
