"""Network faults through Toxiproxy, observed from outside through the real ``catalog`` proxy.

Each test talks raw HTTP/1.1 over a socket to ``<toxiproxy ip>:18080`` (the catalog proxy) so it
can see what a client really gets: when bytes arrive, in how many reads, whether the connection
ends with EOF, a reset, a refusal or nothing at all. Every test also checks that ``revert()``
before ``inject()`` is a no-op, that a second revert is a no-op, and that the catalog answers
normally afterwards.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field

import pytest
import requests

from tests.integration.faults.conftest import Live

PROXY_PORT = 18080
PRODUCT_1 = {"id": 1, "name": "Blue Kettle", "category": "home", "price_cents": 870, "currency": "EUR", "stock": 17}
KEEP_ALIVE = b"GET /products/1 HTTP/1.1\r\nHost: catalog\r\n\r\n"
"""The server keeps the connection open after answering: only the fault can close it."""
CLOSE = b"GET /products/1 HTTP/1.1\r\nHost: catalog\r\nConnection: close\r\n\r\n"
"""The server closes after answering: the client reads until EOF."""
HTTP10 = b"GET /products/1 HTTP/1.0\r\nHost: catalog\r\n\r\n"
"""HTTP/1.0 without keep-alive: the server answers and closes, like gunicorn's sync workers."""


@dataclass
class Exchange:
    """What a client saw: seconds from the connect to the first byte and to the end, the reads,
    and how it ended: ``eof``, ``timeout`` or the exception's class name (``ConnectionResetError``)."""

    reads: list[int] = field(default_factory=list)
    data: bytes = b""
    first_byte_s: float | None = None
    end_s: float = 0.0
    ended_by: str = ""

    def body(self) -> dict:
        """The JSON body of a complete HTTP answer."""
        head, _, body = self.data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), self.data[:80]
        return json.loads(body)


def proxy_ip(live: Live) -> str:
    """IP of the run's Toxiproxy container on the run network (a read-only lookup)."""
    return live.ip("toxiproxy")


def exchange(ip: str, request: bytes = CLOSE, read_timeout_s: float = 5.0, max_bytes: int | None = None) -> Exchange:
    """Connect to the catalog proxy, send ``request`` and read until EOF, an error, a read timeout
    or ``max_bytes`` (then stop, for keep-alive answers). Connect errors propagate."""
    out = Exchange()
    sock = socket.create_connection((ip, PROXY_PORT), timeout=5)
    started = time.perf_counter()
    try:
        sock.settimeout(read_timeout_s)
        sock.sendall(request)
        while max_bytes is None or len(out.data) < max_bytes:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                out.ended_by = "timeout"
                break
            except OSError as exc:
                out.ended_by = type(exc).__name__
                break
            if not chunk:
                out.ended_by = "eof"
                break
            if out.first_byte_s is None:
                out.first_byte_s = time.perf_counter() - started
            out.reads.append(len(chunk))
            out.data += chunk
        out.end_s = time.perf_counter() - started
    finally:
        sock.close()
    return out


def assert_catalog_normal(live: Live) -> None:
    """The catalog answers product 1 completely and quickly through the proxy (fastest of three
    under 0.25 s: no toxic left, even a 1 KB/s one), and the shop itself (lb -> api -> proxy)
    answers too."""
    ip = proxy_ip(live)
    seen = [exchange(ip) for _ in range(3)]
    for one in seen:
        assert one.ended_by == "eof" and one.body() == PRODUCT_1, one
    assert min(one.end_s for one in seen) < 0.25, seen
    assert requests.get(f"{live.lb_url}/products/1", timeout=5).json()["source"] == "catalog"


def assert_reverts_cleanly(fault, touched: list[str]) -> None:
    """Revert restores exactly what inject touched; a second revert does nothing."""
    assert fault.revert() == touched
    assert fault.revert() == []


def test_bandwidth_makes_the_transfer_take_size_over_rate(live):
    ip = proxy_ip(live)
    before_s = min(exchange(ip).end_s for _ in range(3))
    fault = live.fault({"kind": "bandwidth", "proxy": "catalog", "rate_kbps": 1})
    assert fault.revert() == []
    touched = fault.inject()
    try:
        assert touched == ["catalog/harness-t-bandwidth-downstream"]
        during = exchange(ip)
    finally:
        assert_reverts_cleanly(fault, touched)
    # 1 KB/s is one byte per ms: the ~280-byte answer takes ~280 ms instead of a few.
    expected_s = len(during.data) / 1000
    assert during.body() == PRODUCT_1
    assert 0.8 * expected_s <= during.end_s < expected_s + 1.0, (len(during.data), during.end_s)
    assert during.end_s > before_s + 0.15, (before_s, during.end_s)
    assert len(during.reads) >= 3  # sent in 100-byte slices every 100 ms
    assert_catalog_normal(live)


def test_bandwidth_zero_stalls_without_closing(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "bandwidth", "proxy": "catalog", "rate_kbps": 0})
    touched = fault.inject()
    try:
        during = exchange(ip, read_timeout_s=1.0)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert during.ended_by == "timeout" and during.data == b"", during
    assert_catalog_normal(live)


def test_slow_close_delays_the_eof_not_the_data(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "slow_close", "proxy": "catalog", "delay_ms": 700})
    assert fault.revert() == []
    touched = fault.inject()
    try:
        assert touched == ["catalog/harness-t-slow_close-downstream"]
        during = exchange(ip)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert during.body() == PRODUCT_1 and during.ended_by == "eof"
    assert during.first_byte_s is not None and during.first_byte_s < 0.5, during
    assert 0.65 <= during.end_s - during.first_byte_s < 2.0, during
    assert_catalog_normal(live)


def test_timeout_swallows_the_answer_then_closes_after_timeout_ms(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "timeout", "proxy": "catalog", "timeout_ms": 700})
    assert fault.revert() == []
    touched = fault.inject()
    try:
        assert touched == ["catalog/harness-t-timeout-downstream"]
        during = exchange(ip, KEEP_ALIVE)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert during.data == b"" and during.ended_by == "eof", during
    assert 0.6 <= during.end_s < 2.0, during
    assert_catalog_normal(live)


@pytest.mark.parametrize("request_", [CLOSE, HTTP10], ids=["connection-close", "http-1.0"])
def test_timeout_against_a_server_that_closes_after_answering_is_an_immediate_empty_reply(live, request_):
    """The toxic drops the answer but passes the server's close straight through: the client
    gets EOF with nothing, within milliseconds, not after timeout_ms (nothing ever waited)."""
    ip = proxy_ip(live)
    fault = live.fault({"kind": "timeout", "proxy": "catalog", "timeout_ms": 5000})
    touched = fault.inject()
    try:
        during = exchange(ip, request_, read_timeout_s=3.0)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert during.data == b"" and during.ended_by == "eof", during
    assert during.end_s < 0.25, during  # not 5 s (timeout_ms), not 3 s (the client's read timeout)
    assert_catalog_normal(live)


def test_blackhole_hangs_the_same_request_until_the_clients_timeout(live):
    """Both streams dropped: the server never sees the request, so it never answers or closes."""
    ip = proxy_ip(live)
    fault = live.fault({"kind": "blackhole", "proxy": "catalog"})
    touched = fault.inject()
    try:
        during = exchange(ip, CLOSE, read_timeout_s=1.0)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert during.data == b"" and during.ended_by == "timeout", during
    assert 0.95 <= during.end_s < 1.5, during
    assert_catalog_normal(live)


def test_timeout_on_upstream_makes_even_a_closing_server_wait_timeout_ms(live):
    """The request is swallowed on its way in: the server never answers, the toxic closes the
    connection after timeout_ms (a hang bounded by the fault, as the docstring says)."""
    ip = proxy_ip(live)
    fault = live.fault({"kind": "timeout", "proxy": "catalog", "timeout_ms": 700, "stream": "upstream"})
    touched = fault.inject()
    try:
        during = exchange(ip, CLOSE, read_timeout_s=3.0)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert during.data == b"" and during.ended_by == "eof", during
    assert 0.6 <= during.end_s < 2.0, during
    assert_catalog_normal(live)


def test_timeout_zero_hangs_and_revert_closes_the_stuck_connection(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "timeout", "proxy": "catalog", "timeout_ms": 0})
    touched = fault.inject()
    try:
        sock = socket.create_connection((ip, PROXY_PORT), timeout=5)
        try:
            sock.sendall(KEEP_ALIVE)
            sock.settimeout(1.0)
            with pytest.raises(TimeoutError):
                sock.recv(65536)
            assert_reverts_cleanly(fault, touched)
            sock.settimeout(3.0)
            assert sock.recv(65536) == b""  # Toxiproxy's cleanup closes what the toxic held
        finally:
            sock.close()
    finally:
        fault.revert()
    assert_catalog_normal(live)


def test_reset_peer_resets_new_connections(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "reset_peer", "proxy": "catalog", "timeout_ms": 0})
    assert fault.revert() == []
    warm = socket.create_connection((ip, PROXY_PORT), timeout=3)
    try:
        warm.sendall(KEEP_ALIVE)
        assert warm.recv(65536).startswith(b"HTTP/1.1 200")
        touched = fault.inject()
        try:
            assert touched == ["catalog/harness-t-reset_peer-downstream"]
            fresh = exchange(ip)
            # A connection opened before the toxic is closed gracefully on its next data, not reset.
            warm.sendall(KEEP_ALIVE)
            warm.settimeout(3)
            leftover = b""
            while chunk := warm.recv(65536):
                leftover += chunk
        finally:
            assert_reverts_cleanly(fault, touched)
    finally:
        warm.close()
    assert fresh.ended_by == "ConnectionResetError" and fresh.data == b"", fresh
    assert fresh.end_s < 1.0
    assert b"HTTP/1.1 200" not in leftover.partition(b"}")[2], leftover  # no answer to the 2nd request
    assert_catalog_normal(live)


def test_reset_peer_with_reset_connections_drops_pooled_connections_at_inject(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "reset_peer", "proxy": "catalog", "timeout_ms": 100, "reset_connections": True})
    warm = socket.create_connection((ip, PROXY_PORT), timeout=3)
    try:
        warm.sendall(KEEP_ALIVE)
        first = b""
        while b"}" not in first:
            first += warm.recv(65536)
        touched = fault.inject()
        try:
            warm.settimeout(3)
            dropped = warm.recv(65536)  # closed by the inject, without sending anything
            fresh = exchange(ip)
        finally:
            assert_reverts_cleanly(fault, touched)
    finally:
        warm.close()
    assert dropped == b""
    assert fresh.ended_by == "ConnectionResetError", fresh
    assert 0.08 <= fresh.end_s < 1.5, fresh  # reset timeout_ms after the first data
    assert_catalog_normal(live)


def test_slicer_delivers_the_same_answer_in_many_small_reads(live):
    ip = proxy_ip(live)
    before = exchange(ip)
    fault = live.fault({"kind": "slicer", "proxy": "catalog", "average_size_bytes": 10,
                        "size_variation_bytes": 4, "delay_us": 10_000})
    assert fault.revert() == []
    touched = fault.inject()
    try:
        assert touched == ["catalog/harness-t-slicer-downstream"]
        during = exchange(ip)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert len(before.reads) <= 3, before.reads
    # Same answer (same length: only the Date header's value differs), in ~10-byte pieces 10 ms
    # apart; a starved test process may read two pieces at once, hence the median.
    assert during.body() == PRODUCT_1 and len(during.data) == len(before.data)
    assert len(during.reads) >= 10, during.reads
    assert sorted(during.reads)[len(during.reads) // 2] <= 20, during.reads
    assert during.end_s >= 0.1, during
    assert_catalog_normal(live)


def test_limit_data_closes_the_connection_after_n_bytes(live):
    ip = proxy_ip(live)
    full = exchange(ip).data
    fault = live.fault({"kind": "limit_data", "proxy": "catalog", "bytes": 100})
    assert fault.revert() == []
    touched = fault.inject()
    try:
        assert touched == ["catalog/harness-t-limit_data-downstream"]
        during = exchange(ip, KEEP_ALIVE)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert len(full) > 200
    assert during.ended_by == "eof" and during.data == full[:100], during
    assert_catalog_normal(live)


def test_down_refuses_connections_and_comes_back(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "down", "proxy": "catalog"})
    assert fault.revert() == []
    touched = fault.inject()
    try:
        assert touched == ["catalog"]
        with pytest.raises(ConnectionRefusedError):
            exchange(ip)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert_catalog_normal(live)


def test_overlapping_downs_keep_the_proxy_down_until_the_last_revert(live):
    ip = proxy_ip(live)
    first = live.fault({"kind": "down", "proxy": "catalog", "name": "down-a"})
    second = live.fault({"kind": "down", "proxy": "catalog", "name": "down-b"})
    try:
        first.inject()
        second.inject()
        assert first.revert() == []  # still held by the second
        with pytest.raises(ConnectionRefusedError):
            exchange(ip)
        assert second.revert() == ["catalog"]
    finally:
        first.revert()
        second.revert()
    assert_catalog_normal(live)


def test_blackhole_accepts_connects_but_never_answers(live):
    ip = proxy_ip(live)
    fault = live.fault({"kind": "blackhole", "proxy": "catalog"})
    assert fault.revert() == []
    touched = fault.inject()
    try:
        assert touched == ["catalog/harness-t-blackhole-upstream", "catalog/harness-t-blackhole-downstream"]
        # Even a request asking the server to close gets nothing back: it never reaches the server.
        during = exchange(ip, CLOSE, read_timeout_s=1.0)
    finally:
        assert_reverts_cleanly(fault, touched)
    assert during.ended_by == "timeout" and during.data == b"", during  # connect worked, no refusal
    assert 0.9 <= during.end_s < 2.0
    assert_catalog_normal(live)
