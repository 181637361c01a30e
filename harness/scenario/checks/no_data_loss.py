"""The ``no_data_loss`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.no_data_loss`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import MIN_REQUESTS, CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
class NoDataLossCheck(CheckSpec):
    """Judged on the read-back the harness does before teardown: every id acknowledged by a
    request with ``ack_id`` set in the mix is fetched with that request's ``read_back`` path.
    Held when at least one write was acknowledged and none is missing.

    Evidence that a fault was put to the test: at least ``min_writes`` (default
    :data:`harness.scenario.checks.base.MIN_REQUESTS`) writes were sent (acknowledged or refused) while a
    fault that acted was in place (a write request, by name, that succeeded and started in
    such a fault window). Without one: inconclusive (writes that only met a healthy system
    prove nothing about losing them)."""

    summary = "Every acknowledged write can be read back after the faults."

    check: Literal["no_data_loss"] = "no_data_loss"
    window: str = "run"
    min_writes: int = Field(default=MIN_REQUESTS, ge=1, description="writes sent while a fault acted")

    def default_label(self) -> str:
        return "no acknowledged write lost"
