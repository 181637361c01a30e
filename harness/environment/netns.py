"""A tool run in a container's network namespace through a *helper container* on the engine:
what the iptables fault kinds use when the engine is remote (and ``nsenter`` on this machine
cannot reach the container's namespace).

``helper_run`` is the SDK form of::

    docker run --rm --network container:<target id> --cap-add NET_ADMIN \\
        --label harness.run-id=<run id> --label harness.helper=netns harness/nettools:0.1 iptables ...

The helper shares only the target's network namespace (not its PIDs, files or image), so it
works whatever the target's image holds (``FROM scratch`` included). It carries the run's label,
so a run killed mid-call leaves nothing that ``harness cleanup`` and the teardown's label sweep
do not remove, and ``harness.helper=netns``, so the monitor does not mistake its start and exit
for the stack's own events. It is created, started, waited for (with a timeout), read and removed
in that order; removal is always attempted.
"""

from __future__ import annotations

from typing import Any

import docker.errors
import requests

from harness.environment.labels import RUN_LABEL
from harness.errors import EnvironmentFailure

NETTOOLS_IMAGE = "harness/nettools:0.1"
"""The helper image: Debian's iptables and nothing else (``images/nettools``, built by ``make setup``)."""

HELPER_LABEL = "harness.helper"
"""Label of helper containers (value: what they are for, ``netns``)."""


def helper_run(client: Any, target_id: str, argv: list[str], run_id: str, timeout_s: float,
               image: str = NETTOOLS_IMAGE) -> str:
    """Run ``argv`` (e.g. ``["iptables", "-S"]``; no shell) in a helper container joined to the
    network namespace of the container ``target_id``, with ``NET_ADMIN``; return its stdout.

    Args:
        client: a Docker SDK client of the engine the target runs on.
        target_id: the target container's id (it must be running).
        argv: the command; ``argv[0]`` must be in the helper image.
        run_id: written into the helper's ``harness.run-id`` label.
        timeout_s: the longest the helper may run (s); it is removed when over.
        image: the helper image (default :data:`NETTOOLS_IMAGE`).

    Raises:
        EnvironmentFailure: the image is not on the engine (the message says how to build it),
            the helper could not be created or started, timed out, or exited non-zero (its
            stderr in the message).
    """
    what = f"{argv[0]} in a helper container on {target_id[:12]}'s network"
    container = None
    try:
        container = client.containers.create(
            image, command=argv, network_mode=f"container:{target_id}", cap_add=["NET_ADMIN"],
            labels={RUN_LABEL: run_id, HELPER_LABEL: "netns"}, stdin_open=False, tty=False)
        container.start()
        status = container.wait(timeout=timeout_s)
        out = container.logs(stdout=True, stderr=False).decode(errors="replace")
        if int(status.get("StatusCode", -1)) != 0:
            err = container.logs(stdout=False, stderr=True).decode(errors="replace").strip()
            raise EnvironmentFailure(f"{' '.join(argv)} ({what}) failed: {err or 'exit ' + str(status)}")
        return out
    except docker.errors.ImageNotFound:
        raise EnvironmentFailure(f"{what}: the image {image} is not on the engine; build it there: "
                                 f"docker build -t {image} images/nettools (with DOCKER_HOST pointing at it)") from None
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise EnvironmentFailure(f"{what} failed: {exc}") from None
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except (docker.errors.DockerException, requests.RequestException):
                pass  # the teardown's label sweep removes it


__all__ = ["HELPER_LABEL", "NETTOOLS_IMAGE", "helper_run"]
