"""``harness init``: a commented starter scenario from any compose file.

:func:`init_scenario` reads the file through ``docker compose config``, :func:`sketch` finds its
entry point and edges (pure, ``edges.py``), :func:`render_scenario` writes the YAML
(``writer.py``).
"""

from harness.starter.command import DEFAULT_OUT, InitResult, StarterError, init_scenario
from harness.starter.edges import Edge, EntryPoint, HandWired, Sketch, Skipped, find_edges, host_refs, sketch
from harness.starter.writer import render_scenario, scenario_name

__all__ = [
    "DEFAULT_OUT",
    "Edge",
    "EntryPoint",
    "HandWired",
    "InitResult",
    "Sketch",
    "Skipped",
    "StarterError",
    "find_edges",
    "host_refs",
    "init_scenario",
    "render_scenario",
    "scenario_name",
    "sketch",
]
