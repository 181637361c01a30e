"""The target environment: compose lifecycle, labels, container actions, prerequisites.

The only package that talks to Docker for lifecycle; analysis and reports never import it.
"""

from harness.environment.compose import Compose, compose_command
from harness.environment.stack import RUN_LABEL, Stack, compose_services, docker_client, label_config, sweep

__all__ = ["RUN_LABEL", "Compose", "Stack", "compose_command",
    "compose_services", "docker_client", "label_config", "sweep"]
