"""A small typed client for the Toxiproxy 2.x HTTP API.

Why not ``toxiproxy-python``: 0.1.1 (2019) keeps host and port as global class state, sets no
timeouts and has no update call. Endpoints used (Toxiproxy's ``api.go``): ``GET /version``,
``POST /proxies`` (201), ``DELETE /proxies/{p}`` (204), ``POST /proxies/{p}/toxics``,
``DELETE /proxies/{p}/toxics/{t}`` (204), ``POST /reset``. Errors come back as JSON
``{"error": ..., "status": ...}``. A User-Agent starting with ``Mozilla/`` gets 403, so we send our
own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import requests

from harness import __version__
from harness.errors import EnvironmentFailure

DEFAULT_TIMEOUT_S = 5.0
"""Per-call timeout: generous for a local API that answers in milliseconds, short enough that a
hung Toxiproxy makes the run inconclusive quickly instead of hanging it."""


@dataclass(frozen=True)
class ProxyConfig:
    """A proxy: ``listen`` (``host:port`` inside the Toxiproxy container, e.g. ``0.0.0.0:18080``)
    forwards to ``upstream`` (``host:port``)."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True


@dataclass(frozen=True)
class ToxicConfig:
    """A toxic as Toxiproxy takes it: ``type`` (latency, bandwidth, ...), ``stream``
    (``upstream``/``downstream``), ``toxicity`` 0..1, and type-specific ``attributes`` in
    Toxiproxy's own units (latency in ms, rate in KB/s, slicer delay in microseconds, ...)."""

    name: str
    type: str
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, int | float] = field(default_factory=dict)


class ToxiproxyClient:
    """Client for one Toxiproxy server at ``base_url`` (e.g. ``http://127.0.0.1:8474``).

    Every method raises :class:`EnvironmentFailure` on a timeout, a refused connection or an
    unexpected status, with Toxiproxy's own error text.
    """

    def __init__(self, base_url: str, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._http = requests.Session()
        self._http.headers["User-Agent"] = f"harness/{__version__}"

    def _call(self, method: str, path: str, ok: tuple[int, ...], json: object | None = None) -> requests.Response:
        try:
            resp = self._http.request(method, self.base_url + path, json=json, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise EnvironmentFailure(f"toxiproxy {method} {path} failed: {exc.__class__.__name__}: {exc}") from exc
        if resp.status_code not in ok:
            try:
                detail = resp.json().get("error", resp.text)
            except ValueError:
                detail = resp.text
            raise EnvironmentFailure(f"toxiproxy {method} {path} answered {resp.status_code}: {detail.strip()}")
        return resp

    def version(self) -> str:
        """The server's version string, e.g. ``2.12.0``."""
        resp = self._call("GET", "/version", (200,))
        try:
            return str(resp.json()["version"])  # 2.6+ answers {"version": "2.12.0"}
        except (ValueError, KeyError, TypeError):
            return resp.text.strip()

    def wait_ready(self, timeout_s: float, poll_s: float = 0.05) -> str:
        """Poll ``/version`` until it answers; return the version. A run calls this right
        after ``compose up`` returned, when Toxiproxy is often not listening yet: a refused
        poll costs about a millisecond, so a short ``poll_s`` (seconds) is what keeps the wait
        from outlasting Toxiproxy's start (``bench/run_overhead.py``).

        Raises:
            EnvironmentFailure: no answer within ``timeout_s`` seconds.
        """
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                return self.version()
            except EnvironmentFailure as exc:
                last = exc
                time.sleep(poll_s)
        raise EnvironmentFailure(f"toxiproxy at {self.base_url} did not answer within {timeout_s:.0f} s: {last}")

    def create_proxy(self, proxy: ProxyConfig) -> None:
        """Create ``proxy``; an existing proxy of the same name is replaced."""
        body = {"name": proxy.name, "listen": proxy.listen, "upstream": proxy.upstream, "enabled": proxy.enabled}
        resp = self._call("POST", "/proxies", (201, 409), json=body)
        if resp.status_code == 409:
            self.delete_proxy(proxy.name)
            self._call("POST", "/proxies", (201,), json=body)

    def delete_proxy(self, name: str) -> bool:
        """Delete a proxy; return False if it did not exist."""
        return self._call("DELETE", f"/proxies/{name}", (204, 404)).status_code == 204

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable a proxy (``POST /proxies/{p}``). Disabling closes its listener and
        every open connection: clients see *connection refused*."""
        self._call("POST", f"/proxies/{name}", (200,), json={"enabled": enabled})

    def drop_connections(self, name: str) -> None:
        """Close every open connection through a proxy, keeping it up (disable, then enable)."""
        self.set_enabled(name, False)
        self.set_enabled(name, True)

    def proxies(self) -> dict[str, dict]:
        """Every proxy as Toxiproxy reports it, keyed by name (with its ``toxics`` list)."""
        return self._call("GET", "/proxies", (200,)).json()

    def add_toxic(self, proxy: str, toxic: ToxicConfig) -> None:
        """Add ``toxic`` to ``proxy``. Toxiproxy applies it to open connections too, except
        ``reset_peer``, which only hits connections opened afterwards."""
        body = {
            "name": toxic.name,
            "type": toxic.type,
            "stream": toxic.stream,
            "toxicity": toxic.toxicity,
            "attributes": toxic.attributes,
        }
        self._call("POST", f"/proxies/{proxy}/toxics", (200,), json=body)

    def remove_toxic(self, proxy: str, toxic_name: str) -> bool:
        """Remove a toxic; return False if it (or its proxy) did not exist: idempotent."""
        return self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic_name}", (204, 404)).status_code == 204

    def reset(self) -> None:
        """Re-enable every proxy and remove every toxic (``POST /reset``)."""
        self._call("POST", "/reset", (204,))
