"""``harness sweep``: one scenario at many settings. A grid of ``--vary`` values
(:func:`run_grid`) or a bisection to a breaking point (:func:`run_search`); each cell is a normal
run, on one shared stack where only load and faults vary. See :mod:`harness.sweep.orchestrate`."""

from harness.sweep.grid import Axis, SearchRange, parse_search, parse_vary
from harness.sweep.orchestrate import SweepOptions, run_grid, run_search
from harness.sweep.search import DEFAULT_TOLERANCE

__all__ = ["DEFAULT_TOLERANCE", "Axis", "SearchRange", "SweepOptions", "parse_search", "parse_vary", "run_grid",
           "run_search"]
