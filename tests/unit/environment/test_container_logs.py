"""harness.environment.logs: every container's log saved into ``<run_dir>/logs/`` before teardown,
cut to its last bytes at a line boundary, redacted, one container's failure never stopping the
others, and saving never raising (but for the teardown's own passthrough exception).

Fakes at the edges: a stack with ``containers.listing(all=True)``, ``containers.call(what, fn)`` and a ``journal``;
containers whose ``.logs(...)`` yields byte chunks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from harness.environment import logs as logs_mod
from harness.environment.logs import LOGS_DIR, log_file_name, read_tail, save_logs
from harness.errors import EnvironmentFailure


class FakeStream:
    """What ``container.logs(stream=True)`` returns: an iterator of byte chunks with ``close``."""

    def __init__(self, chunks: Iterable[bytes], after: Callable[[], None] | None = None) -> None:
        self._chunks = list(chunks)
        self._after = after
        self.closed = False

    def __iter__(self):
        yield from self._chunks
        if self._after is not None:
            self._after()

    def close(self) -> None:
        self.closed = True


class FakeContainer:
    """A container with a ``name`` whose ``logs`` yields ``chunks`` (or raises ``error``)."""

    def __init__(self, name: str, chunks: Iterable[bytes] = (), error: BaseException | None = None,
                 on_logs: Callable[[], None] | None = None, after: Callable[[], None] | None = None) -> None:
        self.name = name
        self.chunks = list(chunks)
        self.error = error
        self.on_logs = on_logs
        self.after = after
        self.calls: list[dict[str, Any]] = []
        self.streams: list[FakeStream] = []

    def logs(self, **kwargs: Any) -> FakeStream:
        self.calls.append(kwargs)
        if self.on_logs is not None:
            self.on_logs()
        if self.error is not None:
            raise self.error
        stream = FakeStream(self.chunks, self.after)
        self.streams.append(stream)
        return stream


class FakeJournal:
    """Records ``(event, fields)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def record(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [fields for name, fields in self.events if name == event]


class FakeStack:
    """The parts of :class:`harness.environment.stack.Stack` that save_logs uses: its journal,
    and its ``containers`` (:class:`harness.environment.containers.RunContainers`), which this
    fake plays itself."""

    def __init__(self, containers: list[FakeContainer] | None = None, listing_error: BaseException | None = None,
                 journal: Any = None) -> None:
        self.items = containers or []
        self.containers = self
        self.listing_error = listing_error
        self.journal = journal if journal is not None else FakeJournal()
        self.listed_with: list[bool] = []
        self.calls: list[str] = []

    def listing(self, all: bool = False) -> list[FakeContainer]:
        self.listed_with.append(all)
        if self.listing_error is not None:
            raise self.listing_error
        return list(self.items)

    def call(self, what: str, fn: Callable[[], Any]) -> Any:
        self.calls.append(what)
        return fn()


def saved(stack: FakeStack) -> dict[str, Any]:
    """The one ``logs.saved`` event's fields."""
    (fields,) = stack.journal.named("logs.saved")
    return fields


def lines(n: int, start: int = 0) -> list[bytes]:
    """``n`` timestamped log lines, one chunk each."""
    return [f"2026-01-01T00:00:{i % 60:02d}.000000000Z line {i:05d} ok\n".encode() for i in range(start, start + n)]


def test_whole_logs_are_written_redacted_in_name_order_and_journalled(tmp_path):
    api = FakeContainer("harness-r-api-1", [b"2026-01-01T00:00:00Z start token=hunter2\n", b"2026-01-01T00:00:01Z",
                                            b" ready\n", b"\xff bad byte\n"])
    db = FakeContainer("harness-r-db-1", [b"db up\n"])
    stack = FakeStack([db, api])
    written = save_logs(stack, tmp_path, lambda text: text.replace("hunter2", "***"))

    folder = tmp_path / LOGS_DIR
    assert written == [folder / "harness-r-api-1.log", folder / "harness-r-db-1.log"]
    text = (folder / "harness-r-api-1.log").read_text()
    assert text == "2026-01-01T00:00:00Z start token=***\n2026-01-01T00:00:01Z ready\n\ufffd bad byte\n"
    assert "hunter2" not in text and not text.startswith("[harness]")
    assert (folder / "harness-r-db-1.log").read_text() == "db up\n"
    assert stack.listed_with == [True]  # stopped and crashed containers too
    assert api.calls == [dict(stdout=True, stderr=True, timestamps=True, stream=True, follow=False)]
    assert api.streams[0].closed
    assert stack.calls == ["logs of harness-r-api-1", "logs of harness-r-db-1"]
    fields = saved(stack)
    assert fields["failed"] == []
    assert fields["files"] == [
        {"container": "harness-r-api-1", "path": "logs/harness-r-api-1.log",
         "size_bytes": (folder / "harness-r-api-1.log").stat().st_size, "truncated": False},
        {"container": "harness-r-db-1", "path": "logs/harness-r-db-1.log", "size_bytes": 6, "truncated": False},
    ]
    assert stack.journal.named("logs.error") == []


def test_logs_of_an_earlier_run_are_removed_first(tmp_path):
    (tmp_path / LOGS_DIR).mkdir()
    (tmp_path / LOGS_DIR / "gone-1.log").write_text("old")
    save_logs(FakeStack([FakeContainer("api-1", [b"x\n"])]), tmp_path)
    assert sorted(p.name for p in (tmp_path / LOGS_DIR).iterdir()) == ["api-1.log"]


def test_a_log_over_max_bytes_keeps_its_last_bytes_from_a_line_boundary(tmp_path):
    chunks = lines(400)
    whole = b"".join(chunks)
    stack = FakeStack([FakeContainer("api-1", chunks)])
    save_logs(stack, tmp_path, max_bytes=1000)

    text = (tmp_path / LOGS_DIR / "api-1.log").read_text()
    note, _, body = text.partition("\n")
    assert note.startswith("[harness] log cut: only the last ")
    assert f"of {len(whole)} bytes are kept (limit 1000 bytes)" in note
    assert len(body.encode()) <= 1000
    assert whole.endswith(body.encode())  # the end of the log, nothing changed
    assert body.endswith("line 00399 ok\n")
    first = body.splitlines()[0]
    assert re.fullmatch(r"2026-01-01T00:00:\d\d\.000000000Z line \d{5} ok", first), first  # a whole line
    assert saved(stack)["files"][0]["truncated"] is True


def test_read_tail_drops_the_partial_first_line_even_when_chunks_split_lines():
    data = b"".join(lines(50))
    chunks = [data[i:i + 7] for i in range(0, len(data), 7)]  # chunk edges inside lines
    tail = read_tail(FakeContainer("c", chunks), max_bytes=200)
    assert tail.dropped_front and not tail.stopped_early and tail.read_bytes == len(data)
    assert len(tail.data) <= 200 and data.endswith(tail.data)
    assert data[: len(data) - len(tail.data)].endswith(b"\n")  # cut at a line boundary
    whole = read_tail(FakeContainer("c", chunks), max_bytes=len(data))
    assert whole.data == data and not whole.dropped_front and whole.note(len(data)) is None


def test_one_container_whose_logs_fail_does_not_stop_the_others(tmp_path):
    broken = FakeContainer("b-1", error=RuntimeError("engine said no"))
    stack = FakeStack([FakeContainer("a-1", [b"a\n"]), broken, FakeContainer("c-1", [b"c\n"])])
    written = save_logs(stack, tmp_path)

    assert [p.name for p in written] == ["a-1.log", "c-1.log"]
    assert not (tmp_path / LOGS_DIR / "b-1.log").exists()
    fields = saved(stack)
    assert [f["container"] for f in fields["files"]] == ["a-1", "c-1"]
    assert fields["failed"] == ["b-1"]
    assert stack.journal.named("logs.error") == [{"container": "b-1", "error": "RuntimeError: engine said no"}]


def test_an_environment_failure_is_journalled_with_its_own_message(tmp_path):
    stack = FakeStack([FakeContainer("a-1", error=EnvironmentFailure("docker: logs of a-1 failed:\n  gone"))])
    assert save_logs(stack, tmp_path) == []
    assert stack.journal.named("logs.error") == [{"container": "a-1", "error": "docker: logs of a-1 failed: gone"}]
    assert saved(stack) == {"files": [], "failed": ["a-1"]}


def test_a_failed_write_is_one_failed_container(tmp_path):
    def boom(text: str) -> str:
        raise ValueError("redactor broke")

    stack = FakeStack([FakeContainer("a-1", [b"a\n"])])
    assert save_logs(stack, tmp_path, boom) == []
    assert saved(stack)["failed"] == ["a-1"]


def test_a_failed_listing_journals_empty_lists_and_never_raises(tmp_path):
    stack = FakeStack(listing_error=EnvironmentFailure("docker: listing containers failed: timeout"))
    assert save_logs(stack, tmp_path) == []
    assert stack.journal.named("logs.error") == [{"container": None,
                                                  "error": "docker: listing containers failed: timeout"}]
    assert saved(stack) == {"files": [], "failed": []}


def test_a_journal_that_cannot_be_written_does_not_make_saving_raise(tmp_path):
    class BrokenJournal:
        def record(self, event: str, **fields: Any) -> None:
            raise OSError("disk full")

    stack = FakeStack([FakeContainer("a-1", [b"a\n"]), FakeContainer("b-1", error=RuntimeError("x"))],
                      journal=BrokenJournal())
    assert [p.name for p in save_logs(stack, tmp_path)] == ["a-1.log"]
    assert save_logs(FakeStack(listing_error=RuntimeError("x"), journal=BrokenJournal()), tmp_path) == []


class SecondCtrlC(BaseException):
    """Stands for the teardown's FastTeardown."""


def test_the_passthrough_exception_is_reraised_from_a_container(tmp_path):
    later = FakeContainer("b-1", [b"b\n"])
    stack = FakeStack([FakeContainer("a-1", error=SecondCtrlC()), later])
    with pytest.raises(SecondCtrlC):
        save_logs(stack, tmp_path, passthrough=(SecondCtrlC,))
    assert later.calls == []  # nothing more is done
    assert stack.journal.named("logs.error") == []


def test_the_passthrough_exception_is_reraised_from_the_listing(tmp_path):
    with pytest.raises(SecondCtrlC):
        save_logs(FakeStack(listing_error=SecondCtrlC()), tmp_path, passthrough=(SecondCtrlC,))


def test_without_passthrough_an_exception_is_journalled_not_raised(tmp_path):
    class Odd(Exception):
        pass

    stack = FakeStack([FakeContainer("a-1", error=Odd("odd"))])
    assert save_logs(stack, tmp_path, passthrough=(SecondCtrlC,)) == []
    assert saved(stack)["failed"] == ["a-1"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", ".hidden", "..", ".", "", "a/b", "a\\b",
                                  "名前", "x\x00y", "api 1", "~root", "-dash"])
def test_log_file_name_is_never_a_path_nor_hidden(name):
    file = log_file_name(name)
    assert "/" not in file and "\\" not in file and "\x00" not in file
    assert not file.startswith(".")
    assert file.endswith(".log") and file not in (".log", "..log")
    assert re.fullmatch(r"[A-Za-z0-9_.-]+\.log", file), file  # what the report's ContainerLog path accepts
    assert Path(file).name == file


def test_log_file_name_keeps_docker_names():
    assert log_file_name("harness-20260101t000000z-abcdef-api-1") == "harness-20260101t000000z-abcdef-api-1.log"
    assert log_file_name("my_svc.2") == "my_svc.2.log"


def test_a_hostile_container_name_stays_inside_the_logs_folder(tmp_path):
    stack = FakeStack([FakeContainer("../../escaped", [b"x\n"])])
    (path,) = save_logs(stack, tmp_path)
    assert path.parent == tmp_path / LOGS_DIR
    assert not (tmp_path.parent / "escaped.log").exists()
    assert saved(stack)["files"][0]["path"] == f"logs/{path.name}"


class FakeClock:
    """A ``time.monotonic`` that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_the_budget_running_out_skips_later_containers(tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(logs_mod.time, "monotonic", clock)
    first = FakeContainer("a-1", [b"a\n"], after=lambda: clock.advance(10))  # slow, but read to its end
    later = [FakeContainer("b-1", [b"b\n"]), FakeContainer("c-1", [b"c\n"])]
    stack = FakeStack([first, *later])
    written = save_logs(stack, tmp_path, budget_s=5)

    assert [p.name for p in written] == ["a-1.log"]
    assert (tmp_path / LOGS_DIR / "a-1.log").read_text() == "a\n"
    assert all(c.calls == [] for c in later)  # never asked
    fields = saved(stack)
    assert fields["failed"] == ["b-1", "c-1"]
    errors = stack.journal.named("logs.error")
    assert [e["container"] for e in errors] == ["b-1", "c-1"]
    assert all("budget for saving logs ran out" in e["error"] for e in errors)


def test_a_log_still_being_read_when_the_budget_runs_out_is_cut_and_says_so(tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(logs_mod.time, "monotonic", clock)

    class Slow(FakeContainer):
        def logs(self, **kwargs):
            stream = super().logs(**kwargs)

            def chunks():
                for i, chunk in enumerate(stream):
                    yield chunk
                    if i == 1:
                        clock.advance(10)
            return chunks()

    stack = FakeStack([Slow("a-1", lines(10))])
    save_logs(stack, tmp_path, budget_s=5)
    text = (tmp_path / LOGS_DIR / "a-1.log").read_text()
    note, _, body = text.partition("\n")
    assert note.startswith("[harness] log cut: reading stopped when the time budget ran out")
    assert body.encode() == b"".join(lines(3))  # what was read before the deadline passed
    assert saved(stack)["files"][0]["truncated"] is True


def test_the_containers_logs_are_read_at_the_same_time(tmp_path):
    """Each read waits until every container's read has begun: read one after the other, the
    first would wait for the others forever (here: the barrier's timeout breaks it)."""
    import threading

    names = [f"harness-r-svc{i}-1" for i in range(logs_mod.SAVE_THREADS)]
    barrier = threading.Barrier(len(names), timeout=5)
    stack = FakeStack([FakeContainer(n, [b"up\n"], on_logs=barrier.wait) for n in names])
    written = save_logs(stack, tmp_path)

    assert [p.name for p in written] == [f"{n}.log" for n in names]
    assert saved(stack)["failed"] == []
