"""Typed client for Toxiproxy's HTTP API (2.x), with a timeout on every call."""

from harness.toxiproxy.client import ProxyConfig, ToxicConfig, ToxiproxyClient

__all__ = ["ProxyConfig", "ToxicConfig", "ToxiproxyClient"]
