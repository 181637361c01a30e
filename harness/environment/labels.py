"""The labels the harness puts on a run's Docker objects, and the function that adds them.

A leaf: the stack, the edge inserter and the cleanup all read these names from here.
"""

from __future__ import annotations

from typing import Any

RUN_LABEL = "harness.run-id"
"""Label carried by every container, network and volume a run creates."""

SERVICE_KEY_LABEL = "harness.service"
"""Label with the service's name as the scenario knows it. The run's copy of the compose project
may rename a service when an edge moves its name to Toxiproxy (``harness.environment.edges``);
the stack looks containers up by this label, never by compose's own service label."""

INSERTED_LABEL = "harness.inserted"
"""Label on a service the harness added to its copy of the project (the edge Toxiproxy)."""

PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"


def as_dict(labels: Any) -> dict[str, str]:
    """Compose labels in either form (``{k: v}`` or ``["k=v", "flag"]``) as a dict."""
    if isinstance(labels, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in labels)
    return dict(labels or {})


def label_config(config: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Add ``harness.run-id=<run_id>`` to every service, network and volume of a resolved compose
    config (the JSON of ``compose config``), and ``harness.service=<name>`` to every service that
    has none yet; external networks and volumes are not ours and are left alone. Returns the
    same dict, changed in place."""
    for name, service in config.get("services", {}).items():
        labels = as_dict(service.get("labels"))
        labels[RUN_LABEL] = run_id
        labels.setdefault(SERVICE_KEY_LABEL, name)
        service["labels"] = labels
    networks = config.setdefault("networks", {})
    networks.setdefault("default", {"name": f"{config.get('name', 'harness')}_default"})
    for section in ("networks", "volumes"):
        for obj in (config.get(section) or {}).values():
            if obj is None or obj.get("external"):
                continue
            obj["labels"] = as_dict(obj.get("labels")) | {RUN_LABEL: run_id}
    return config
