"""What every role of the load child uses (``harness.load.child``): the protocol channel, the
spec's readings, Locust's totals and environment. Each runs in a fresh interpreter (in_child.py)."""

from __future__ import annotations

import json

from .in_child import json_from, run_snippet


def test_an_event_goes_out_after_the_records_buffered_before_it_and_prints_go_to_stderr():
    done = run_snippet("""
        from harness.load.child import Output
        out = Output.take_stdout()
        out.buffer.append("R\\tone\\n")
        print("a locustfile's print")
        out.event(event="started", t=1.5)
        out.buffer.append("R\\ttwo\\n")
        out.flush()
        out.flush()  # nothing left: writes nothing
    """)
    assert done.stdout.splitlines() == ["R\tone", "E\t" + json.dumps({"event": "started", "t": 1.5}), "R\ttwo"]
    assert "a locustfile's print" in done.stderr


def test_a_raw_hooks_fields_go_out_as_record_lines_in_their_place_among_the_events():
    done = run_snippet("""
        from harness.load.child import Output
        from harness.load.hook import RecordHook
        out = Output.take_stdout()
        hook = RecordHook(out.buffer.append, raw=True)
        hook(request_type="GET", name="/a", response_time=1.5, response_length=3, response=None, context={},
             exception=None, start_time=1000.25)
        out.event(event="started", t=1.5)
        hook(request_type="GET", name="/b", response_time=2.0, response_length=0, response=None, context={},
             exception=ConnectionRefusedError(111, "refused"), start_time=1000.5)
        hook(request_type="GET", name="/c", response_time=0.5, response_length=7, response=None, context={},
             exception=None, start_time=1001.0)
        out.flush()
    """)
    assert done.stdout.splitlines() == ["R\t1000.250000\t1.500\t/a\t0\t\t3",
                                        "E\t" + json.dumps({"event": "started", "t": 1.5}),
                                        "R\t1000.500000\t2.000\t/b\t0\tconnection_refused\t0",
                                        "R\t1001.000000\t0.500\t/c\t0\t\t7"]


def test_a_batch_larger_than_the_pipe_goes_out_whole():
    done = run_snippet("""
        from harness.load.child import Output
        out = Output.take_stdout()
        out.buffer.extend(f"R\\t{i:08d}\\n" for i in range(200_000))  # 2 MB, the pipe holds 64 KiB
        out.flush()
    """)
    lines = done.stdout.splitlines()
    assert len(lines) == 200_000 and lines[0] == "R\t00000000" and lines[-1] == "R\t00199999"


def test_the_spec_readings():
    got = json_from("""
        import json
        from harness.load.child import open_model, spawn_rate
        closed = {"users": 40, "spawn_rate": 5, "rate_rps": None}
        opened = {"users": 40, "spawn_rate": 5, "rate_rps": 200}
        print(json.dumps({"open": [open_model(closed), open_model({**closed, "rate_rps": 0}), open_model(opened)],
                          "spawn_rate": [spawn_rate(closed), spawn_rate(opened)]}))
    """)
    assert got["open"] == [False, False, True]
    assert got["spawn_rate"] == [5.0, 40.0]  # the open model starts its whole pool at once


def test_locust_totals_are_empty_without_requests_then_locusts_own():
    got = json_from("""
        import json
        from locust.env import Environment
        from harness.load.child import locust_totals
        env = Environment()
        before = locust_totals(env)
        for ms in range(1, 101):
            env.stats.log_request("GET", "/a", ms, 10)
        env.stats.log_error("GET", "/a", "boom")
        print(json.dumps({"before": before, "after": locust_totals(env)}))
    """)
    assert got["before"] == {"locust_requests": 0, "locust_failures": 0, "locust_p50_ms": None,
                             "locust_p95_ms": None, "locust_p99_ms": None}
    # Locust's own percentile of 1..100 ms: the largest value with at most fraction x 100 requests below it
    assert got["after"] == {"locust_requests": 100, "locust_failures": 1, "locust_p50_ms": 51.0,
                            "locust_p95_ms": 96.0, "locust_p99_ms": 100.0}


def test_the_environment_lets_stopping_users_finish_their_request():
    got = json_from("""
        import json
        from harness.load.child import environment
        from harness.load.inflight import InFlight
        spec = {"host": "http://127.0.0.1:9", "users": 1, "spawn_rate": 1, "duration_s": 1,
                "think_time_s": [0, 0], "request_timeout_s": 2.5, "seed": 1,
                "requests": [{"method": "GET", "path": "/", "name": "r", "weight": 1}]}
        env = environment(spec, None, InFlight())
        print(json.dumps({"host": env.host, "stop_timeout": env.stop_timeout, "users": len(env.user_classes)}))
    """)
    assert got == {"host": "http://127.0.0.1:9", "stop_timeout": 3.5, "users": 1}  # request timeout + 1 s margin
