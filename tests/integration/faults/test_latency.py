"""``latency``: the delay is measured through the real proxy, and gone after revert."""

import time

import requests


def get_ms(url: str) -> float:
    started = time.perf_counter()
    assert requests.get(url, timeout=10).status_code == 200
    return (time.perf_counter() - started) * 1000


def test_latency_is_measured_through_the_proxy_and_reverted(live):
    url = f"http://{live.ip('toxiproxy')}:18080/products/1"
    before = min(get_ms(url) for _ in range(5))
    fault = live.fault({"kind": "latency", "proxy": "catalog", "latency_ms": 400, "stream": "downstream"})
    touched = fault.inject()
    try:
        assert touched == ["catalog/harness-t-latency-downstream"]
        during = min(get_ms(url) for _ in range(3))
        # No response beats the toxic; the base time of a request varies by a few ms, so the
        # lower bound is on the absolute time (during - before came out at 399.7 ms once).
        assert during >= 400, (before, during)
        assert during - before < 600, (before, during)
    finally:
        fault.revert()
    assert fault.revert() == []  # idempotent
    after = min(get_ms(url) for _ in range(5))
    assert after < before + 100
