"""The environment fingerprint a run records at its start (``run.start``'s ``environment``, copied
into ``report.json``): tool versions and the hash of the compose file, so two reports can be told
apart by what ran, not only by when.

Fields added here (strings): ``locust`` (the installed distribution's version, read from package
metadata so ``locust`` is never imported into the orchestrator), ``compose_file`` (the path as
resolved from the scenario) and ``compose_sha256`` (sha256 of that file's bytes, as written by its
author). The run directory's ``compose.resolved.json`` holds exactly what compose ran, but it
carries the run id in its project name and labels, so its hash differs on every run and says
nothing to a reader comparing two runs; the source file's hash does. Image ids and the Toxiproxy
version are added by the run once the stack is up (``run.end``).
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from harness.scenario.models import Scenario


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def file_sha256(path: Path) -> str | None:
    """sha256 hex of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def run_fingerprint(scenario: Scenario) -> dict[str, str]:
    """Versions and the compose file's hash for ``run.start``'s ``environment`` (never raises)."""
    out = {"locust": _version("locust")}
    compose = (scenario.base_dir / scenario.target.compose).resolve()
    digest = file_sha256(compose)
    out["compose_file"] = str(compose)
    if digest:
        out["compose_sha256"] = digest
    return out
