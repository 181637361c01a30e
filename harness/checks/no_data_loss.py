"""``no_data_loss``: every write acknowledged to a client is readable after the run (seed 001
"Data Loss: In-flight requests are lost"; the stateless-service rule "store state in a shared
Redis")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks.base import MIN_REQUESTS, CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class NoDataLossCheck(CheckSpec):
    """Judged on the read-back the harness does before teardown: every id acknowledged by a
    request with ``ack_id`` set in the mix is fetched with that request's ``read_back`` path.
    Held when at least one write was acknowledged and none is missing.

    Evidence that a fault was put to the test: at least ``min_writes`` (default
    ``harness.checks.base.MIN_REQUESTS``) writes were sent (acknowledged or refused) while a
    fault that acted was in place (a write request, by name, that succeeded and started in
    such a fault window). Without one: inconclusive (writes that only met a healthy system
    prove nothing about losing them)."""

    summary = "Every acknowledged write can be read back after the faults."

    check: Literal["no_data_loss"] = "no_data_loss"
    window: str = "run"
    min_writes: int = Field(default=MIN_REQUESTS, ge=1, description="writes sent while a fault acted")

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
        tested, during = self._written_during_faults(evidence)
        verdict = Verdict(acked > 0 and missing == 0, float(missing), 0, "==", "lost_writes",
                          f"{acked} writes were acknowledged and {acked - missing} read back; {missing} missing"
                          + (f" (e.g. {examples})" if examples else "") + ".", inconclusive=acked == 0,
                          evidence=(during,))
        return verdict if tested or missing else verdict.unproven(during)

    def _written_during_faults(self, evidence) -> tuple[bool, str]:
        """Whether enough writes were sent while a fault that acted was in place (acknowledged
        or refused: a refusal is the right answer, an acknowledgement must then be stored), and
        the sentence saying so."""
        windows = [w for w in evidence.windows if w.kind == "fault" and (e := evidence.effect_for(w)) and e.seen]
        attempted = acknowledged = 0
        for window in windows:
            frame = evidence.frame(window)
            writes = frame[frame["name"].isin(evidence.ack_requests)]
            attempted += len(writes)
            acknowledged += int((writes["error"] == "").sum())
        names = ", ".join(w.name for w in windows) or "no fault window whose fault acted"
        return attempted >= self.min_writes, (f"{attempted} writes were sent while a fault was in effect, {acknowledged} "
                                              f"of them acknowledged ({names}; at least {self.min_writes} needed)")
