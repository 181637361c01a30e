"""``no_data_loss``: every write acknowledged to a client is readable after the run (seed 001
"Data Loss: In-flight requests are lost"; the stateless-service rule "store state in a shared
Redis")."""

from __future__ import annotations

from harness.checks.base import Judge, Verdict
from harness.checks.registry import register_judge
from harness.scenario.checks.no_data_loss import NoDataLossCheck


@register_judge
class NoDataLossJudge(Judge):
    """Judges :class:`harness.scenario.checks.no_data_loss.NoDataLossCheck` (see the module docstring)."""

    spec_type = NoDataLossCheck
    spec: NoDataLossCheck

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
        spec = self.spec
        windows = [w for w in evidence.windows if w.kind == "fault" and (e := evidence.effect_for(w)) and e.seen]
        attempted = acknowledged = 0
        for window in windows:
            frame = evidence.frame(window)
            writes = frame[frame["name"].isin(evidence.ack_requests)]
            attempted += len(writes)
            acknowledged += int((writes["error"] == "").sum())
        names = ", ".join(w.name for w in windows) or "no fault window whose fault acted"
        return attempted >= spec.min_writes, (f"{attempted} writes were sent while a fault was in effect, {acknowledged} "
                                              f"of them acknowledged ({names}; at least {spec.min_writes} needed)")
