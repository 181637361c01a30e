"""Watch the run's containers while the load runs and journal what Docker saw.

Three background threads, all stopped by :meth:`Monitor.stop`:

- **stats**: one streaming ``stats`` request per running container (Docker sends a sample a
  second; a one-shot request also takes a second after the first, so polling containers in
  turn cannot keep up): CPU in percent of one core (the cgroup's CPU time between the sample
  and the one before, the arithmetic of ``docker stats``) and memory in MiB (usage minus page
  cache, as ``docker stats`` shows it) -> ``container.stats`` events. A container that stops
  ends its stream; it gets a new one when it runs again;
- **events**: Docker's event stream filtered to this run's label: ``start``, ``die``, ``oom``,
  ``kill``, ``pause``, ``unpause``, ``health_status: ...`` -> ``container.event`` events;
- **scrape** (when the scenario asks): ``GET http://<container ip>:<port><path>`` on every
  container of a service, parsed as Prometheus text -> ``metrics.sample`` events.

Every Docker and HTTP call has a timeout; failures are skipped, never fatal: telemetry must not
take a run down.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from harness.environment.containers import SERVICE_LABEL, RunContainers
from harness.environment.labels import RUN_LABEL
from harness.environment.netns import HELPER_LABEL
from harness.environment.timing import DOCKER_TIMEOUT_S
from harness.recorder import EventRecorder
from harness.scenario.models import Scrape

STATS_PERIOD_S = 1.0
SCRAPE_TIMEOUT_S = 1.0


def cpu_percent(sample: dict[str, Any]) -> float | None:
    """CPU use between a Docker stats sample and the one before it (``precpu_stats``), in percent
    of one core (``docker stats``'s formula: container CPU time delta / system CPU time delta x
    online CPUs x 100)."""
    cur, prev = sample.get("cpu_stats") or {}, sample.get("precpu_stats") or {}
    try:
        cpu_delta = cur["cpu_usage"]["total_usage"] - prev["cpu_usage"]["total_usage"]
        system_delta = cur["system_cpu_usage"] - prev["system_cpu_usage"]
        cpus = cur.get("online_cpus") or len(cur["cpu_usage"].get("percpu_usage") or [1])
    except (KeyError, TypeError):
        return None
    if system_delta <= 0 or cpu_delta < 0:
        return None
    return round(cpu_delta / system_delta * cpus * 100, 2)


def memory_mib(sample: dict[str, Any]) -> float | None:
    """Memory in MiB as ``docker stats`` shows it: usage minus page cache (cgroup v1 ``cache``,
    v2 ``inactive_file``)."""
    mem = sample.get("memory_stats") or {}
    usage = mem.get("usage")
    if usage is None:
        return None
    stats = mem.get("stats") or {}
    cache = stats.get("total_inactive_file", stats.get("inactive_file", stats.get("cache", 0)))
    return round((usage - cache) / 2**20, 3)


def network_bytes(sample: dict[str, Any]) -> tuple[int | None, int | None]:
    """``(rx_bytes, tx_bytes)`` of a Docker stats sample, summed over the container's
    interfaces (cumulative since the interfaces came up); ``(None, None)`` without networks
    (``network_mode: none``, or a stopped container)."""
    networks = sample.get("networks") or {}
    if not networks:
        return None, None
    rx = sum(int(n.get("rx_bytes") or 0) for n in networks.values())
    tx = sum(int(n.get("tx_bytes") or 0) for n in networks.values())
    return rx, tx


def parse_prometheus(text: str) -> list[tuple[str, dict[str, str], float]]:
    """``(metric, labels, value)`` for every sample of a Prometheus text page, histogram buckets
    left out (they are many and checks use counters and gauges)."""
    from prometheus_client.parser import text_string_to_metric_families

    out = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                continue
            out.append((sample.name, dict(sample.labels), float(sample.value)))
    return out


class Monitor:
    """Telemetry threads for one run (see the module docstring).

    Args:
        containers: the run's containers (found by label on every pass, so restarted
            containers are followed).
        journal: where samples and events go.
        scrapes: the scenario's ``target.scrape`` entries.
    """

    def __init__(self, containers: RunContainers, journal: EventRecorder, scrapes: list[Scrape]):
        self.containers = containers
        self.journal = journal
        self.scrapes = scrapes
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._events_stream: Any = None
        self._http = requests.Session()
        self._docker = containers.new_client(DOCKER_TIMEOUT_S, max_pool_size=64)
        self._streaming: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the threads (daemon threads: they can never keep the process alive)."""
        targets = [self._stats_loop, self._events_loop] + ([self._scrape_loop] if self.scrapes else [])
        for target in targets:
            thread = threading.Thread(target=target, name=f"monitor-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop every thread and wait briefly for them; idempotent."""
        self._stop.set()
        if self._events_stream is not None:
            try:
                self._events_stream.close()
            except Exception:  # closing a half-read HTTP stream may raise anything
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self._docker.close()  # ends the per-container stats streams

    def _running(self) -> list[Any]:
        try:
            return [c for c in self.containers.listing() if c.status == "running"]
        except Exception:  # telemetry is best effort
            return []

    def _stats_loop(self) -> None:
        while not self._stop.is_set():
            for container in self._running():
                with self._lock:
                    if container.name in self._streaming:
                        continue
                    self._streaming.add(container.name)
                threading.Thread(target=self._stream_stats, args=(container,), daemon=True,
                                 name=f"stats-{container.name}").start()
            self._stop.wait(STATS_PERIOD_S)

    def _stream_stats(self, container: Any) -> None:
        service = container.labels.get(SERVICE_LABEL, "")
        try:
            stream = self._docker.api.stats(container.id, stream=True, decode=True)
            for sample in stream:
                if self._stop.is_set():
                    break
                rx, tx = network_bytes(sample)
                self.journal.record("container.stats", container=container.name, service=service,
                                    cpu_pct=cpu_percent(sample), mem_mib=memory_mib(sample), rx_bytes=rx, tx_bytes=tx)
        except Exception:  # stream cut by stop(), a stopped container, or a closed journal
            pass
        finally:
            with self._lock:
                self._streaming.discard(container.name)

    def _events_loop(self) -> None:
        try:
            self._events_stream = self._docker.events(
                decode=True, filters={"type": "container", "label": f"{RUN_LABEL}={self.containers.run_id}"}
            )
            for event in self._events_stream:
                if self._stop.is_set():
                    return
                attrs = event.get("Actor", {}).get("Attributes", {})
                action = event.get("Action") or event.get("status") or ""
                if action.startswith(("exec_", "top", "attach")) or attrs.get(HELPER_LABEL):
                    continue  # not the stack's own life: execs, and the harness's helper containers
                self.journal.record(
                    "container.event",
                    t=event.get("timeNano", time.time() * 1e9) / 1e9,
                    container=attrs.get("name", ""),
                    service=attrs.get(SERVICE_LABEL, ""),
                    action=action,
                    exit_code=attrs.get("exitCode"),
                )
        except Exception:  # the stream ends when stop() closes it, or the engine goes away
            return

    def _scrape_loop(self) -> None:
        period = min(s.every_s for s in self.scrapes)
        while not self._stop.wait(period):
            for scrape in self.scrapes:
                for name in self.containers.running_containers(scrape.service):
                    try:
                        ip = self.containers.ips(name)[0]
                        resp = self._http.get(f"http://{ip}:{scrape.port}{scrape.path}", timeout=SCRAPE_TIMEOUT_S)
                        samples = parse_prometheus(resp.text)
                    except Exception:  # a frozen or dead target simply has no sample this second
                        continue
                    self.journal.record("metrics.sample", container=name, service=scrape.service,
                                        samples=[[m, labels, v] for m, labels, v in samples])
