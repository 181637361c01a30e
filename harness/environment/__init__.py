"""The target environment: compose lifecycle, labels, container actions, prerequisites.

The only package that talks to Docker for lifecycle; analysis and reports never import it.

The names below load on first use (PEP 562, :func:`harness.lazy.lazy_getattr`): importing a light
module of this package (:mod:`harness.environment.compose`, which ``harness run`` and ``harness
sweep`` import on their first line to start compose's version probe) does not load the Docker
SDK and the scenario models first (about 0.4 s on the benchmark machine,
``bench/run_overhead.py``), so the probe runs while they load.
"""

from typing import TYPE_CHECKING

from harness.lazy import lazy_getattr

if TYPE_CHECKING:
    from harness.environment.compose import Compose, compose_command
    from harness.environment.containers import RunContainers, docker_client
    from harness.environment.labels import RUN_LABEL, label_config
    from harness.environment.stack import Stack, compose_services, sweep

LAZY = {
    "Compose": "harness.environment.compose", "compose_command": "harness.environment.compose",
    "RunContainers": "harness.environment.containers", "docker_client": "harness.environment.containers",
    "RUN_LABEL": "harness.environment.labels", "label_config": "harness.environment.labels",
    "Stack": "harness.environment.stack", "compose_services": "harness.environment.stack",
    "sweep": "harness.environment.stack",
}
"""The names this package gives, by the module that defines them."""

__getattr__ = lazy_getattr(__name__, LAZY)

__all__ = ["RUN_LABEL", "Compose", "RunContainers", "Stack", "compose_command", "compose_services", "docker_client",
           "label_config", "sweep"]
