"""``harness doctor``: check each prerequisite of a run and say ok or the fix, one line each."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import requests

from harness.environment.compose import compose_command
from harness.environment.containers import docker_client
from harness.errors import EnvironmentFailure

REQUIRED_IMAGES = (
    "debian:bookworm-slim",
    "ghcr.io/shopify/toxiproxy:2.12.0",
    "harness/shop:0.1",
    "harness/shop-lb:0.1",
    "harness/shop-redis:0.1",
    "harness/nginx:0.1",
    "harness/httpbin:0.1",
    "harness/nettools:0.1",
)
"""Images the sample stacks need, and the iptables faults' helper on a remote engine (``make
setup`` pulls or builds them)."""

TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy:2.12.0"
MIN_FREE_DISK_GIB = 5.0
"""Free space wanted for images, containers and run directories (the images take ~1 GiB)."""


@dataclass(frozen=True)
class Check:
    """One prerequisite: ``name``, ``ok``, and ``detail`` (what was found, or the fix)."""

    name: str
    ok: bool
    detail: str


def run_checks(reports_dir: Path = Path("reports")) -> list[Check]:
    """Check the engine, compose v2, images, Toxiproxy and free disk; never raises."""
    checks: list[Check] = []
    client = None
    try:
        client = docker_client()
        version = client.version()
        checks.append(Check("engine", True, f"Docker {version.get('Version')} (API {version.get('ApiVersion')})"))
    except EnvironmentFailure as exc:
        checks.append(Check("engine", False, f"{exc}"))
    try:
        cmd = compose_command()
        out = subprocess.run([*cmd, "version", "--short"], capture_output=True, text=True, timeout=20)
        checks.append(Check("compose", True, f"compose {out.stdout.strip()} ({' '.join(cmd)})"))
    except EnvironmentFailure as exc:
        checks.append(Check("compose", False, str(exc)))
    if client is None:
        checks.append(Check("images", False, "cannot check without an engine; fix: make setup"))
        checks.append(Check("toxiproxy", False, "cannot check without an engine; fix: make setup"))
    else:
        missing = []
        for image in REQUIRED_IMAGES:
            try:
                client.images.get(image)
            except (docker.errors.DockerException, requests.RequestException):
                missing.append(image)
        checks.append(
            Check("images", not missing, f"missing {', '.join(missing)}; fix: make setup" if missing
                  else f"{len(REQUIRED_IMAGES)} images present")
        )
        checks.append(_toxiproxy(client))
    usage = shutil.disk_usage(reports_dir if reports_dir.exists() else Path.cwd())
    free_gib = usage.free / 2**30
    checks.append(Check("disk", free_gib >= MIN_FREE_DISK_GIB,
                        f"{free_gib:.1f} GiB free" + ("" if free_gib >= MIN_FREE_DISK_GIB
                                                      else f"; fix: free at least {MIN_FREE_DISK_GIB:g} GiB")))
    return checks


def _toxiproxy(client: docker.DockerClient) -> Check:
    """Run the Toxiproxy image's binary once (``-version``) in a throwaway container."""
    try:
        out = client.containers.run(TOXIPROXY_IMAGE, ["-version"], remove=True, labels={"harness.doctor": "1"})
        text = out.decode(errors="replace").strip().splitlines()
        return Check("toxiproxy", True, text[-1] if text else "runs")
    except (docker.errors.DockerException, requests.RequestException) as exc:
        return Check("toxiproxy", False, f"{TOXIPROXY_IMAGE} does not run ({exc}); fix: make setup")
