"""The image harness/worker:0.1 (images/worker/, built by `make setup`): a Locust worker of harness
for "other hosts", whose clock a test can shift with ``-e FAKETIME=+2.5s``.

Each test runs one container of the image through the image's own clock wrapper
(``--entrypoint with-faketime``, which preloads libfaketime when FAKETIME is non-empty, exactly as
for ``harness worker``) and python in it: the probe imports ``harness.load.worker`` (which imports
Locust, so gevent's monkey-patching is in place), sleeps with gevent, says so, then answers each
line on its stdin with its ``time.time()`` and ``time.monotonic()``. The host compares them with
its own clocks read just before and after the exchange: a container shares the host's kernel
clocks, so without FAKETIME both offsets are ~0, with it only the wall clock moves
(FAKETIME_DONT_FAKE_MONOTONIC=1 is an ENV default of the image). The error of one comparison is
at most half its round trip; the best of PROBES exchanges is kept.

Containers are labelled with this module's id and removed at the end, even on failure.
"""

from __future__ import annotations

import json
import queue
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

IMAGE = "harness/worker:0.1"
LABEL = f"harness.test=scale-out-worker-image-{uuid.uuid4().hex[:12]}"
# Heavy dependencies of harness that a worker must not need: the image installs harness with
# --no-deps and only locust, typer, rich, pydantic, pyyaml (scripts/lib/images.sh).
NOT_IN_IMAGE = ("pandas", "numpy", "matplotlib", "docker", "opentelemetry")
# Exchanges per container; the one with the shortest round trip is kept.
PROBES = 5
# Start of a container and import of Locust take ~1.5 s here; 20 s is a hung container.
READY_TIMEOUT_S = 20
# A gevent.sleep of GEVENT_SLEEP_S inside the container must take about that (a hang under
# libfaketime would not come back at all; a faked monotonic clock would make it far off).
GEVENT_SLEEP_S = 0.2

PROBE = f"""
import importlib.util, json, os, sys, time
import harness.load.worker  # imports locust: gevent's monkey-patching
import gevent
start = time.monotonic()
gevent.sleep({GEVENT_SLEEP_S})
slept = time.monotonic() - start
print(json.dumps({{
    "uid": os.getuid(),
    "ld_preload": os.environ.get("LD_PRELOAD", ""),
    "faketime": os.environ.get("FAKETIME", ""),
    "locust_imported": "locust" in sys.modules,
    "gevent_slept_s": slept,
    "installed": {{n: importlib.util.find_spec(n) is not None for n in {NOT_IN_IMAGE!r}}},
}}), flush=True)
for line in sys.stdin:
    print(json.dumps({{"time": time.time(), "monotonic": time.monotonic()}}), flush=True)
"""


def _docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def image(docker_engine) -> Iterator[str]:  # noqa: ANN001
    """The image's tag; at the end, no container of this module is left."""
    if _docker("image", "inspect", IMAGE).returncode != 0:
        pytest.fail(f"image {IMAGE} is missing: run `make setup`")
    yield IMAGE
    left = _docker("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
    if left:
        _docker("rm", "-f", *left)
        pytest.fail(f"containers left behind (removed now): {left}")


class Probe:
    """One container running PROBE; ``ready`` is its first message."""

    def __init__(self, image: str, faketime: str | None) -> None:
        self.name = f"harness-scale-out-worker-image-{uuid.uuid4().hex[:8]}"
        env = ["-e", f"FAKETIME={faketime}"] if faketime is not None else []
        self.stderr = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            ["docker", "run", "-i", "--rm", "--name", self.name, "--label", LABEL, *env,
             "--entrypoint", "with-faketime", image, "python", "-c", PROBE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._next(READY_TIMEOUT_S)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def _next(self, timeout: float) -> dict:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            self.close()
            self.stderr.seek(0)
            pytest.fail(f"container {self.name} said nothing within {timeout} s; "
                        f"stderr: {self.stderr.read()[-2000:]!r}")

    def offsets(self) -> tuple[float, float, float]:
        """(wall-clock offset, monotonic offset, round trip) of the best of PROBES exchanges, s."""
        best = None
        for _ in range(PROBES):
            wall0, mono0 = time.time(), time.monotonic()
            self.proc.stdin.write("t\n")
            self.proc.stdin.flush()
            answer = self._next(5)
            wall1, mono1 = time.time(), time.monotonic()
            sample = (answer["time"] - (wall0 + wall1) / 2,
                      answer["monotonic"] - (mono0 + mono1) / 2,
                      mono1 - mono0)
            if best is None or sample[2] < best[2]:
                best = sample
        return best

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        _docker("rm", "-f", self.name)  # gone already with --rm unless it hung
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def probe(image: str) -> Iterator:
    """Start probes with ``probe(faketime)``; every one is removed at the end of the test."""
    started: list[Probe] = []

    def start(faketime: str | None) -> Probe:
        started.append(Probe(image, faketime))
        return started[-1]

    yield start
    for p in started:
        p.close()


def test_scale_out_worker_image_runs_the_worker_module_unshifted(probe) -> None:  # noqa: ANN001
    """Without FAKETIME: harness.load.worker imports (Locust with it), as a non-root user, with
    no heavy dependency installed, nothing preloaded, and the host's clock."""
    p = probe(None)
    ready = p.ready
    assert ready["locust_imported"]
    assert ready["uid"] != 0, "the image must run as a non-root user"
    installed = [name for name, present in ready["installed"].items() if present]
    assert not installed, f"heavy dependencies installed in the worker image: {installed}"
    assert ready["ld_preload"] == ""
    assert abs(ready["gevent_slept_s"] - GEVENT_SLEEP_S) < 0.5, ready
    wall, mono, rtt = p.offsets()
    assert abs(wall) < 1.0, f"container clock {wall:+.3f} s from the host's (rtt {rtt:.3f} s)"
    assert abs(mono) < 1.0, f"container monotonic clock {mono:+.3f} s off (rtt {rtt:.3f} s)"


# "+30s" within 1 s; "+2.5s" (the documented way to shift a worker) within 0.25 s, which tells a
# fractional offset from a truncated one (2 s). Both far above the measurement error (rtt / 2,
# milliseconds here).
@pytest.mark.parametrize(
    ("faketime", "ahead_s", "tolerance_s"), [("+30s", 30.0, 1.0), ("+2.5s", 2.5, 0.25)]
)
def test_scale_out_worker_image_shifts_the_clock_with_faketime(
    probe, faketime: str, ahead_s: float, tolerance_s: float  # noqa: ANN001
) -> None:
    """With FAKETIME: libfaketime preloaded by the entrypoint wrapper, time.time() ahead by the
    offset, the monotonic clock unshifted, and gevent (under Locust's import) does not hang."""
    p = probe(faketime)
    ready = p.ready
    assert ready["faketime"] == faketime
    assert "libfaketime" in ready["ld_preload"], ready
    assert ready["locust_imported"]
    assert abs(ready["gevent_slept_s"] - GEVENT_SLEEP_S) < 0.5, ready
    wall, mono, rtt = p.offsets()
    assert abs(wall - ahead_s) < tolerance_s, (
        f"FAKETIME={faketime}: container clock {wall:+.3f} s from the host's, "
        f"expected {ahead_s:+.3f} ± {tolerance_s} s (rtt {rtt:.3f} s)"
    )
    assert abs(mono) < 0.25, (
        f"FAKETIME={faketime} shifted the monotonic clock by {mono:+.3f} s (rtt {rtt:.3f} s)"
    )


def test_scale_out_worker_image_harness_cli_starts(image: str) -> None:
    """The image's entrypoint, `harness worker`, starts: its help names --master, and the CLI's
    top-level imports need nothing the image lacks."""
    name = f"harness-scale-out-worker-image-{uuid.uuid4().hex[:8]}"
    try:
        done = _docker("run", "--rm", "--name", name, "--label", LABEL,
                       image, "--help")  # the entrypoint: harness worker
    finally:
        _docker("rm", "-f", name)
    assert done.returncode == 0, f"harness worker --help in {image} exited {done.returncode}: {done.stderr}"
    assert "harness worker" in done.stdout and "--master" in done.stdout, done.stdout
