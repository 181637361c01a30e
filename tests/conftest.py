"""Shared fixtures. Integration tests need a Docker engine: without one they are skipped locally,
and fail under CI=true (a CI run that skipped them would prove nothing)."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def restore_signal_handlers():
    """Put SIGINT's and SIGTERM's handlers back after a test that installs the run's own."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)


@pytest.fixture(scope="session")
def docker_engine():
    """Skip (locally) or fail (CI=true) when no Docker engine answers."""
    if not _engine_answers():
        message = "no Docker engine answers; run `make setup`"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)


@pytest.fixture
def harness_cli():
    """Run the harness CLI in a subprocess, as a user would; returns CompletedProcess."""

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "harness", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=timeout,
        )

    return run
