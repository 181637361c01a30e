"""Both sides of the distributed load's custom messages (``harness.load.distributed_master`` / ``distributed_worker``),
driven with a fake Locust runner in a fresh interpreter (in_child.py): what the master keeps of
each worker and what it sends, and what a worker sends and when."""

from __future__ import annotations

from .in_child import json_from

FAKES = """
import json
from types import SimpleNamespace as NS

class FakeRunner:
    def __init__(self, worker_index=3, target_user_count=0):
        self.sent, self.calls, self.handlers = [], [], {}
        self.worker_index, self.target_user_count = worker_index, target_user_count
        self.clients, self.server = {}, NS(port=5557)
    def get_worker_index(self, client_id):
        return {"a": 1, "b": 0, "c": 2}[client_id]
    def send_message(self, kind, data=None, client_id=None):
        self.sent.append([kind, data, client_id])
    def register_message(self, kind, handler, concurrent=False):
        self.handlers[kind] = handler

class FakeOut:
    def __init__(self):
        self.buffer = []

def msg(node, data):
    return NS(node_id=node, data=data)

BOUNDED = {"clock_offset_ms": 2.0, "rtt_ms": 1.0, "probes": 5, "local": True}
REMOTE = {"clock_offset_ms": -2500.0, "rtt_ms": 1.0, "probes": 5, "local": False, "hostname": "far"}
"""

SPEC = """
spec = {"host": "http://127.0.0.1:9", "users": 4, "spawn_rate": 4, "duration_s": 10, "think_time_s": [0, 0],
        "request_timeout_s": 2, "seed": 1, "rate_rps": RATE, "workers": 2,
        "requests": [{"method": "GET", "path": "/", "name": "r", "weight": 1}]}
"""


def test_the_master_keeps_each_workers_counts_and_refuses_an_unbounded_clock():
    got = json_from(FAKES, """
        from harness.load.distributed_master import MasterSide
        runner, out = FakeRunner(), FakeOut()
        master = MasterSide({"duration_s": 10}, runner, out)
        master.on_hello(environment=None, msg=msg("a", BOUNDED))
        master.on_hello(environment=None, msg=msg("c", {"clock_offset_ms": 2.0, "rtt_ms": 5000.0, "probes": 5}))
        sent_before_start = list(runner.sent)
        master.t0 = 100.0
        master.on_hello(environment=None, msg=msg("b", BOUNDED))  # joins the running load
        master.on_records(environment=None, msg=msg("a", {"n": 2, "lines": "R\\tx\\nR\\ty\\n"}))
        master.on_records(environment=None, msg=msg("b", {"n": 1, "lines": "R\\tz\\n"}))
        master.on_report("a", {"stats_total": {"num_requests": 2}})
        master.on_in_flight(environment=None, msg=msg("b", {"n": 4, "oldest_start_s": 101.0}))
        master.on_stopped(environment=None, msg=msg("a", {"unsent": 3, "cpu_s": 0.5, "killed_in_flight": 1}))
        print(json.dumps({"ready": master.ready_ids(), "refusals": master.refusals,
                          "sent_before_start": sent_before_start, "sent": runner.sent, "buffer": out.buffer,
                          "in_flight_b": master.workers["b"].in_flight, "missing": master.missing(["a", "b"]),
                          "fields": master.stopped_fields()}))
    """)
    assert got["ready"] == ["a", "b"]
    assert len(got["refusals"]) == 1 and got["refusals"][0].startswith("worker 2:")
    assert got["sent_before_start"] == []  # the start goes out with the load, not before
    assert got["sent"] == [["harness_t0", {"t0": 100.0, "end": 110.0}, "b"]]
    assert got["buffer"] == ["R\tx\nR\ty\n", "R\tz\n"]
    assert got["in_flight_b"] == {"n": 4, "oldest_start_s": 101.0}
    assert got["missing"] == [0]
    fields = got["fields"]
    assert (fields["records"], fields["unsent"], fields["killed_in_flight"]) == (3, 3, 1)
    assert [(w["index"], w["records"], w["locust_requests"]) for w in fields["workers"]] == [(0, 1, 0), (1, 2, 2),
                                                                                             (2, 0, 0)]
    assert fields["workers"][2]["rtt_ms"] == 5000.0 and fields["workers"][1]["cpu_s"] == 0.5


def test_the_master_answers_a_clock_probe_with_its_own_clock():
    got = json_from(FAKES, """
        import time
        from harness.load.distributed_master import MasterSide
        runner = FakeRunner()
        master = MasterSide({"duration_s": 10}, runner, FakeOut())
        before = time.time()
        master.on_clock(environment=None, msg=msg("a", {"t1": 12.5}))
        print(json.dumps({"before": before, "after": time.time(), "sent": runner.sent}))
    """)
    [[kind, data, client_id]] = got["sent"]
    assert (kind, client_id, data["t1"]) == ("harness_clock_reply", "a", 12.5)
    assert got["before"] <= data["t2"] <= data["t3"] <= got["after"]


def test_the_master_waits_for_its_workers_unless_refused_or_one_died():
    got = json_from(FAKES, """
        from harness.load.distributed_master import MasterSide, Refused, stop_workers, wait_for_workers

        class Proc:
            def __init__(self, code):
                self.returncode = code
            def poll(self):
                return self.returncode

        def outcome(master, procs):
            try:
                wait_for_workers(master, procs)
                return "ready"
            except Refused as exc:
                return "refused: " + str(exc)
            except RuntimeError as exc:
                return "failed: " + str(exc)

        runner = FakeRunner()
        master = MasterSide({"duration_s": 10, "request_timeout_s": 1}, runner, FakeOut())
        died = outcome(master, [Proc(None), Proc(7)])
        master.refusals.append("worker 2: too far")
        refused = outcome(master, [Proc(None)])
        master.refusals.clear()
        master.on_hello(environment=None, msg=msg("a", BOUNDED))
        master.on_hello(environment=None, msg=msg("b", BOUNDED))
        ready = outcome(master, [Proc(None), Proc(None)])
        for client_id in ("a", "b"):
            master.on_stopped(environment=None, msg=msg(client_id, {"unsent": 0}))
        asked = stop_workers(master)
        print(json.dumps({"died": died, "refused": refused, "ready": ready, "asked": asked, "sent": runner.sent}))
    """)
    assert got["died"] == "failed: a local worker exited with 7 before joining (see locust.log)"
    assert got["refused"] == "refused: worker 2: too far"
    assert got["ready"] == "ready"
    assert got["asked"] == ["a", "b"]
    assert got["sent"] == [["harness_stop", None, "a"], ["harness_stop", None, "b"]]


def test_a_worker_sends_nothing_before_its_clock_is_known_then_shifted_records_only():
    got = json_from(FAKES, SPEC.replace("RATE", "None"), """
        from harness.load.distributed_worker import WorkerSide
        worker = WorkerSide(spec)
        scope_unconnected = worker.seed_scope()
        worker.runner = runner = FakeRunner(worker_index=3)
        worker.hook(request_type="GET", name="r", response_time=10, response_length=5, start_time=100.0)
        worker.batch.append('E\\t{"event": "ack", "name": "r", "id": "1"}\\n')  # not a record
        worker.flush()
        worker.send_in_flight(n=1, oldest_start_s=None)
        sent_before_clock = list(runner.sent)
        worker.clock = NS(measure=lambda: {"clock_offset_ms": 2.0, "rtt_ms": 1.0, "probes": 5}, offset_s=0.25)
        worker.hello()
        worker.hook(request_type="GET", name="r", response_time=10, response_length=5, start_time=101.0)
        worker.flush()
        worker.flush()  # nothing new: nothing sent
        worker.send_in_flight(n=1, oldest_start_s=None)
        print(json.dumps({"scope": [scope_unconnected, worker.seed_scope()], "before": sent_before_clock,
                          "sent": runner.sent, "total": worker.sent}))
    """)
    assert got["scope"] == ["worker:-1:", "worker:3:"]
    assert got["before"] == []
    hello, records, in_flight = got["sent"]
    import socket
    assert hello == ["harness_hello", {"clock_offset_ms": 2.0, "rtt_ms": 1.0, "probes": 5, "local": False,
                                       "hostname": socket.gethostname()}, None]
    assert records[0] == "harness_records" and records[1]["n"] == 2 and got["total"] == 2
    lines = records[1]["lines"].splitlines()
    # the record made before the offset was known and the one after, both moved into the master's clock
    assert [lines[0].split("\t")[1], lines[2].split("\t")[1]] == ["100.250000", "101.250000"]
    assert lines[1].startswith("E\t")
    assert in_flight == ["harness_inflight", {"n": 1, "oldest_start_s": None}, None]


def test_a_worker_makes_its_share_of_the_rate_from_the_masters_start_and_stops_on_request():
    got = json_from(FAKES, SPEC.replace("RATE", "100"), """
        from harness.load.open_model import interleave_offset_s
        from harness.load.distributed_worker import WorkerSide
        worker = WorkerSide(spec)
        rate_unconnected = worker.my_rate_rps()
        worker.runner = runner = FakeRunner(worker_index=1, target_user_count=2)
        runner.stop = lambda: runner.calls.append("stop")
        runner._send_stats = lambda: runner.calls.append("stats")
        started = []
        worker.arrivals = NS(start=lambda t0, end: started.append([t0, end]), stop=lambda: 7)
        worker.offset_s = 0.5
        worker.on_t0(environment=None, msg=NS(node_id=None, data={"t0": 100.0, "end": 110.0}))
        worker.sent = 9
        worker.on_stop(environment=None, msg=NS(node_id=None, data=None))
        print(json.dumps({"rates": [rate_unconnected, worker.my_rate_rps()],
                          "offsets": [worker.my_offset_s(50.0), interleave_offset_s(100.0, 50.0, 1)],
                          "started": started, "calls": runner.calls, "sent": runner.sent}))
    """)
    assert got["rates"] == [0.0, 50.0]  # 2 of the 4 users: half the rate
    assert got["offsets"][0] == got["offsets"][1] > 0
    assert got["started"] == [[99.5, 109.5]]  # the master's t0 and end, in this worker's clock
    assert got["calls"] == ["stop", "stats"]  # users stopped, last records and stats out, then the counts
    [[kind, data, _]] = got["sent"]
    assert kind == "harness_stopped" and (data["records"], data["unsent"], data["killed_in_flight"]) == (9, 7, 0)


def test_the_master_waits_for_its_remote_workers_then_says_how_many_came():
    got = json_from(FAKES, """
        from harness.load.distributed_master import MasterSide, wait_for_workers

        class Proc:
            returncode = None
            def poll(self):
                return None

        def outcome(master, procs):
            try:
                wait_for_workers(master, procs)
                return "ready"
            except RuntimeError as exc:
                return "failed: " + str(exc)

        spec = {"duration_s": 10, "request_timeout_s": 1, "remote_workers": 2, "join_timeout_s": 0.3}
        master = MasterSide(spec, FakeRunner(), FakeOut())
        master.on_hello(environment=None, msg=msg("a", BOUNDED))
        master.on_hello(environment=None, msg=msg("b", REMOTE))
        short = outcome(master, [Proc()])
        master.on_hello(environment=None, msg=msg("c", REMOTE))
        ready = outcome(master, [Proc()])
        print(json.dumps({"short": short, "ready": ready, "counts": master.ready_counts(),
                          "b": master.workers["b"].as_event()}))
    """)
    assert got["short"].startswith("failed: 1 of 2 remote workers joined within 0 s (load.workers.join_timeout_s)")
    assert "harness worker --master <an address of this host>:5557" in got["short"]
    assert got["ready"] == "ready"
    assert got["counts"] == [1, 2]
    assert (got["b"]["remote"], got["b"]["hostname"], got["b"]["clock_offset_ms"]) == (True, "far", -2500.0)


def test_a_worker_locust_stops_hearing_is_lost_once_reported_and_not_asked_to_stop():
    got = json_from(FAKES, """
        from harness.load.distributed_master import MasterSide, stop_workers
        runner, out = FakeRunner(), FakeOut()
        master = MasterSide({"duration_s": 10, "request_timeout_s": 1}, runner, out)
        out.event = lambda **fields: out.buffer.append(fields)
        for client_id, hello in (("a", BOUNDED), ("b", REMOTE), ("c", REMOTE)):
            master.on_hello(environment=None, msg=msg(client_id, hello))
        runner.clients = {"a": NS(state="running"), "b": NS(state="missing")}  # c: removed already
        master.on_records(environment=None, msg=msg("b", {"n": 7, "lines": ""}))
        master.note_lost(out, 123.0)
        master.note_lost(out, 124.0)  # once only
        master.on_stopped(environment=None, msg=msg("a", {"unsent": 0}))
        asked = stop_workers(master)
        print(json.dumps({"events": out.buffer[1:], "asked": asked, "lost": master.stopped_fields()["lost_workers"]}))
    """)
    assert [(e["event"], e["index"], e["t"], e["records"]) for e in got["events"]] == [
        ("worker_lost", 0, 123.0, 7), ("worker_lost", 2, 123.0, 0)]
    assert got["asked"] == ["a"]
    assert [(w["index"], w["hostname"], w["t"]) for w in got["lost"]] == [(0, "far", 123.0), (2, "far", 123.0)]


def test_a_batch_locust_could_not_send_is_kept_and_a_full_worker_holds_its_users_back():
    got = json_from(FAKES, SPEC.replace("RATE", "None"), """
        import gevent
        from locust.exception import RPCSendError
        from harness.load import distributed_worker as wd
        from harness.load.distributed_worker import WorkerSide
        wd.MAX_UNSENT_LINES, wd.BACKPRESSURE_WAIT_S = 3, 5.0
        worker = WorkerSide(spec)
        worker.runner = runner = FakeRunner()
        worker.offset_s = 0.0
        real_send, failing = runner.send_message, [True]
        def send(kind, data=None, client_id=None):
            if failing[0]:
                raise RPCSendError("ZMQ sent failure")  # Locust's retries ran out
            real_send(kind, data, client_id)
        runner.send_message = send
        record = dict(request_type="GET", name="r", response_time=10, response_length=5)
        worker.hook(start_time=100.0, **record)
        worker.flush()  # fails: kept
        kept = len(worker.batch)
        worker.hook(start_time=101.0, **record)
        user = gevent.spawn(worker.hook, start_time=102.0, **record)  # the third line: this user waits
        gevent.sleep(0.2)
        held_back = not user.dead
        failing[0] = False
        worker.flush()
        user.join(timeout=2)
        worker.flush()
        sent = [[line.split("\\t")[1] for line in data["lines"].splitlines()] for _, data, _ in runner.sent]
        print(json.dumps({"kept": kept, "held_back": held_back, "released": user.dead, "sent": sent,
                          "n": [data["n"] for _, data, _ in runner.sent], "total": worker.sent}))
    """)
    assert got["kept"] == 1
    assert got["held_back"] and got["released"]
    assert got["sent"] == [["100.000000", "101.000000", "102.000000"]]  # in order, none lost or doubled
    assert got["n"] == [3] and got["total"] == 3
