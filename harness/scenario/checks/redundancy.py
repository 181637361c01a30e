"""The ``redundancy`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.redundancy`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
class RedundancyCheck(CheckSpec):
    """Parameters: ``max_error_rate`` (0..1) in the fault window of a replica loss.

    Evidence: the fault's effect (the replica died and was on the requests' path, see
    :mod:`harness.analysis.fault_effect`), and that the other replicas carried the load: the
    window's requests reach :data:`harness.checks.redundancy.MIN_FLOW` of what the baseline's rate gives."""

    summary = "Losing a replica keeps the error rate under a bound: no single point of failure."

    check: Literal["redundancy"] = "redundancy"
    max_error_rate: float = Field(ge=0, le=1)

    def default_label(self) -> str:
        return f"redundancy keeps error_rate <= {self.max_error_rate:g} in {self.window}"
