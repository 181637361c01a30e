"""Scenario files: pydantic models (format version 1) and the YAML loader with file:line errors."""

from harness.scenario.loader import LoadedScenario, apply_override, load_scenario
from harness.scenario.models import METRICS, WINDOW_KINDS, Load, Proxy, RequestSpec, Scenario, Target, Threshold

__all__ = [
    "METRICS",
    "WINDOW_KINDS",
    "Load",
    "LoadedScenario",
    "Proxy",
    "RequestSpec",
    "Scenario",
    "Target",
    "Threshold",
    "apply_override",
    "load_scenario",
]
