"""The health wait's wake-up: Docker events end the wait early; without them it is plain polling."""

from __future__ import annotations

import threading
import time

from harness.environment.stack import ContainerChanges


class Stream:
    """An event stream that yields one event when ``fire`` is set, then blocks until closed."""

    def __init__(self) -> None:
        self.fire = threading.Event()
        self.closed = threading.Event()

    def __iter__(self):
        self.fire.wait(5)
        if not self.closed.is_set():
            yield {"status": "health_status: healthy"}
        self.closed.wait(5)

    def close(self) -> None:
        self.closed.set()


class Client:
    def __init__(self, stream=None, error: Exception | None = None) -> None:
        self.stream, self.error, self.filters = stream, error, None

    def events(self, decode, filters):
        self.filters = filters
        if self.error:
            raise self.error
        return self.stream


def test_an_event_ends_the_wait_before_its_timeout():
    stream = Stream()
    client = Client(stream)
    changes = ContainerChanges(client, "run-1")
    changes.clear()
    threading.Timer(0.2, stream.fire.set).start()
    t0 = time.monotonic()
    changes.wait(3.0)
    waited_s = time.monotonic() - t0
    changes.close()
    assert 0.1 < waited_s < 1.5
    assert client.filters["label"].endswith("=run-1")
    assert set(client.filters["event"]) == {"start", "die", "health_status"}
    assert stream.closed.wait(1)


def test_without_an_event_stream_the_wait_is_its_timeout():
    changes = ContainerChanges(Client(error=RuntimeError("engine says no")), "run-1")
    t0 = time.monotonic()
    changes.wait(0.3)
    assert time.monotonic() - t0 >= 0.29
    changes.close()  # never raises


def test_closing_before_the_stream_opens_closes_it_once_open():
    stream = Stream()
    opened = threading.Event()

    class Slow(Client):
        def events(self, decode, filters):
            opened.wait(2)
            return super().events(decode, filters)

    changes = ContainerChanges(Slow(stream), "run-1")
    changes.close()
    opened.set()
    assert stream.closed.wait(2)
