"""``no_data_loss``: every write acknowledged to a client is readable after the run (seed 001
"Data Loss: In-flight requests are lost"; the stateless-service rule "store state in a shared
Redis")."""

from __future__ import annotations

from typing import Literal

from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class NoDataLossCheck(CheckSpec):
    """Judged on the read-back the harness does before teardown: every id acknowledged by a
    request with ``ack_id`` set in the mix is fetched with that request's ``read_back`` path.
    Held when at least one write was acknowledged and none is missing."""

    summary = "Every acknowledged write can be read back after the faults."

    check: Literal["no_data_loss"] = "no_data_loss"
    window: str = "run"

    def default_label(self) -> str:
        return "no acknowledged write lost"

    def windows(self, evidence):
        return [evidence.run]

    def judge_window(self, evidence, window) -> Verdict:
        rb = evidence.readback
        if not rb:
            return Verdict(False, None, 0, "==", "lost_writes",
                           "No read-back was recorded: add ack_id and read_back to a write request of the mix.",
                           inconclusive=True)
        acked, missing = int(rb.get("acked", 0)), int(rb.get("missing", 0))
        examples = ", ".join(map(str, rb.get("missing_ids", [])[:3]))
        return Verdict(acked > 0 and missing == 0, float(missing), 0, "==", "lost_writes",
                       f"{acked} writes were acknowledged and {acked - missing} read back; {missing} missing"
                       + (f" (e.g. {examples})" if examples else "") + ".", inconclusive=acked == 0)
