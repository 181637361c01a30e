"""The target environment: compose lifecycle, labels, container actions, prerequisites.

The only package that talks to Docker for lifecycle; analysis and reports never import it.
"""

from harness.environment.compose import Compose, compose_command
from harness.environment.containers import RunContainers, docker_client
from harness.environment.labels import RUN_LABEL, label_config
from harness.environment.stack import Stack, compose_services, sweep

__all__ = ["RUN_LABEL", "Compose", "RunContainers", "Stack", "compose_command", "compose_services", "docker_client",
           "label_config", "sweep"]
