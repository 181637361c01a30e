"""Watch the control plane (Toxiproxy and the Docker engine) while a run is under way.

Every ``PERIOD_S`` a background thread asks Toxiproxy for its version and pings the engine,
each bounded by a short timeout. After ``MISSES`` failures in a row of either, the run is told
(:meth:`Watchdog.failure`) and ends with status ``error`` (exit 3): with a hung injector, a
"passed" would be a lie.
"""

from __future__ import annotations

import threading
from typing import Any, Callable


from harness.environment.engine import Engine, resolve_engine
from harness.toxiproxy.client import ToxiproxyClient

PERIOD_S = 2.0
PROBE_TIMEOUT_S = 3.0
MISSES = 2


class Watchdog:
    """Probes the control plane until stopped.

    Args:
        toxiproxy_url: the run's Toxiproxy API (None: not probed).
        engine: probe the Docker engine too: True for the one
            :func:`~harness.environment.engine.resolve_engine` finds, or that :class:`Engine`.
        make_client: when given, makes the probing Docker client instead (called with the probe
            timeout in s), e.g. the run's :meth:`~harness.environment.containers.RunContainers.new_client`,
            which needs no version handshake with the engine; ``engine`` is then not used.
    """

    def __init__(self, toxiproxy_url: str | None, engine: bool | Engine = True,
                 make_client: Callable[[float], Any] | None = None):
        self._toxiproxy = ToxiproxyClient(toxiproxy_url, timeout_s=PROBE_TIMEOUT_S) if toxiproxy_url else None
        if make_client is not None:
            self._docker = make_client(PROBE_TIMEOUT_S)
        else:
            which = engine if isinstance(engine, Engine) else resolve_engine() if engine else None
            self._docker = which.client(timeout=PROBE_TIMEOUT_S) if which is not None else None
        self._stop = threading.Event()
        self._failure: str | None = None
        self._thread = threading.Thread(target=self._loop, name="control-plane-watchdog", daemon=True)

    def start(self) -> None:
        """Start probing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop probing; idempotent."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=PROBE_TIMEOUT_S + 1)
        if self._docker is not None:
            self._docker.close()

    def failure(self) -> str | None:
        """Why the control plane is considered down, or None while it answers."""
        return self._failure

    def _probe(self) -> list[str]:
        problems = []
        if self._toxiproxy is not None:
            try:
                self._toxiproxy.version()
            except Exception as exc:  # any failure of the probe is a miss
                problems.append(f"Toxiproxy does not answer ({exc})")
        if self._docker is not None:
            try:
                self._docker.ping()
            except Exception as exc:
                problems.append(f"the Docker engine does not answer ({type(exc).__name__})")
        return problems

    def _loop(self) -> None:
        misses = 0
        while not self._stop.wait(PERIOD_S):
            problems = self._probe()
            misses = misses + 1 if problems else 0
            if misses >= MISSES:
                self._failure = "control plane down: " + "; ".join(problems)
                return
