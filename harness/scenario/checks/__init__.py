"""What a scenario's ``expectations:`` may say: the envelope every check shares
(:class:`CheckSpec`), plain thresholds, and one spec module per resilience pattern check.

Nothing here judges: the judges live in :mod:`harness.checks`, one module per check of the same
name, and import their spec from here.
"""

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import check_names, check_spec_types, register_check_spec

__all__ = ["CheckSpec", "check_names", "check_spec_types", "register_check_spec"]
