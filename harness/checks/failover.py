"""``failover`` / ``health_check``: after a replica is killed or paused, the load balancer stops
sending to it within N s, so errors stop (seed 001 "2. Detection: The Health Check", "Can I
isolate it?")."""

from __future__ import annotations

from harness.checks._evidence_tools import counter_increase, failures
from harness.checks._signals import received_bytes_per_s
from harness.checks.base import MIN_REQUESTS, Judge, Verdict
from harness.checks.registry import register_judge
from harness.scenario.checks.failover import FailoverCheck, HealthCheckCheck

MOVED_AWAY_SHARE = 0.25
"""Traffic left the victims: from ``within_s`` after the inject to the revert, they receive at
most this share of the bytes per second they received before the inject (a balancer's health
checks still reach them; the requests no longer do)."""

TAKEN_OVER_SHARE = 0.5
"""... and went to the other replicas of the service: their received bytes per second rose by at
least this share of what the victims received before. A frozen replica also receives less once
its clients stall (TCP stops sending to a peer that acknowledges nothing), so the victims' drop
alone does not show that anything failed over; the survivors' rise does."""

def _containers(touched: list[str]) -> list[str]:
    """The container names among what a fault touched (a network fault touches
    ``proxy/toxic`` names, which never name a container)."""
    return [name for name in touched if "/" not in name]

def _peers(evidence, victims: list[str]) -> list[str]:
    """The other containers of the victims' services, as the container samples name them."""
    frame = evidence.containers
    if frame.empty:
        return []
    services = set(frame[frame["container"].isin(victims)]["service"])
    return sorted(set(frame[frame["service"].isin(services)]["container"]) - set(victims))


@register_judge
class FailoverJudge(Judge):
    """Judges :class:`harness.scenario.checks.failover.FailoverCheck` (see the module docstring)."""

    spec_type = FailoverCheck
    spec: FailoverCheck

    def windows(self, evidence):
        return [w for w in evidence.windows_for(self.spec.window) if w.kind == "fault"]

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        frame = evidence.frame(window, spec.request)
        if len(frame) == 0:
            return self.no_requests(evidence, window, spec.within_s, "<=", "symptoms_stop_s")
        bad = frame[(frame["error"] != "") | (frame["duration_ms"] > spec.slow_ms)]
        failed = len(failures(frame))
        last = float(bad["offset_s"].max() - window.start_s) if len(bad) else 0.0
        symptoms = (f"{failed} failed and {len(bad) - failed} slow requests in {window.name}; the last started "
                    f"{last:.1f} s after the fault took effect (at most {spec.within_s:g} s allowed)")
        moved, signal = self._moved_away(evidence, window)
        if moved is None:
            return Verdict(False, round(last, 3), spec.within_s, "<=", "symptoms_stop_s",
                           f"Inconclusive: {signal}; {symptoms}.", inconclusive=True, evidence=(signal,))
        held = last <= spec.within_s and moved
        verdict = Verdict(held, round(last, 3), spec.within_s, "<=", "symptoms_stop_s", f"{symptoms}; {signal}.",
                          evidence=(signal,))
        return verdict.powered(len(frame), MIN_REQUESTS)

    def _moved_away(self, evidence, window) -> tuple[bool | None, str]:
        """Whether the traffic moved from the victims to the other replicas, and the sentence
        with the rates that show it (None: they could not be measured)."""
        spec = self.spec
        from harness.analysis.fault_effect import IN_PATH_LOOKBACK_S  # pandas: loaded lazily (see _evidence_tools)

        occurrence = evidence.occurrence_of(window)
        victims = _containers(occurrence.touched if occurrence else [])
        if not victims:
            return None, "the fault touched no container, so no traffic could move away from one"
        from harness.analysis.containers import MIN_RATE_SPAN_S

        survivors = _peers(evidence, victims)
        before_span = (max(0.0, occurrence.inject_call_s - IN_PATH_LOOKBACK_S), occurrence.inject_call_s)
        after_span = (window.start_s + spec.within_s, window.end_s)
        if after_span[1] - after_span[0] < MIN_RATE_SPAN_S:
            return None, (f"the fault lasted {window.duration_s:g} s, under {MIN_RATE_SPAN_S:g} s past within_s: too "
                          "short to see where the traffic went")
        rates = [received_bytes_per_s(evidence, group, *span) for group in (victims, survivors)
                 for span in (before_span, after_span)]
        names = ", ".join(victims)
        if not survivors:
            return None, f"{names} had no other replica to fail over to"
        if any(r is None for r in rates) or rates[0] <= 0:
            return None, f"no network samples of {names} and their peers before and during the fault: where the " \
                         "traffic went is unknown"
        victim_before, victim_after, peers_before, peers_after = rates  # type: ignore[misc]
        left = victim_after <= MOVED_AWAY_SHARE * victim_before
        taken = peers_after - peers_before >= TAKEN_OVER_SHARE * victim_before
        moved = left and taken
        return moved, (f"{names} received {victim_before:.0f} B/s before the inject and {victim_after:.0f} B/s from "
                       f"{spec.within_s:g} s into the fault, the other replicas {peers_before:.0f} then "
                       f"{peers_after:.0f} B/s: traffic {'moved to them' if moved else 'did not move to them'} (the "
                       f"victims at most {MOVED_AWAY_SHARE:.0%} of before, the others up by at least "
                       f"{TAKEN_OVER_SHARE:.0%} of the victims' share)")


@register_judge
class HealthCheckJudge(FailoverJudge):
    """Judges :class:`harness.scenario.checks.failover.HealthCheckCheck` (see the module docstring)."""

    spec_type = HealthCheckCheck
    spec: HealthCheckCheck

    def judge_window(self, evidence, window) -> Verdict:
        verdict = super().judge_window(evidence, window)
        if verdict.inconclusive:
            return verdict
        marked, signal = self._marked(evidence, window)
        verdict = verdict.with_evidence(signal)
        if not verdict.held or marked is True:
            return verdict  # a failure stands on its own; a held one now has its mark
        if marked is None:
            return verdict.unproven(signal)
        return Verdict(False, verdict.observed, verdict.threshold, verdict.operator, verdict.metric,
                       f"{verdict.explanation[:-1]}; {signal}.", evidence=verdict.evidence)

    def _marked(self, evidence, window) -> tuple[bool | None, str]:
        spec = self.spec
        occurrence = evidence.occurrence_of(window)
        victims = _containers(occurrence.touched if occurrence else [])
        events = evidence.container_events
        if not events.empty and victims:
            rows = events[events["container"].isin(victims) & events["action"].str.contains("unhealthy")
                          & (events["offset_s"] >= window.start_s) & (events["offset_s"] < window.end_s)]
            if len(rows):
                first = rows.iloc[0]
                return True, f"Docker marked {first['container']} unhealthy {first['offset_s'] - window.start_s:.1f} s in"
        samples = evidence.service_metrics
        if spec.balancer and not samples.empty:
            samples = samples[samples["service"] == spec.balancer]
        exported = not samples.empty and bool((samples["metric"] == spec.unhealthy_metric).any())
        grown = counter_increase(evidence, spec.unhealthy_metric, window, spec.balancer) if exported else None
        if grown is None:
            return None, (f"no unhealthy mark could be seen: Docker reported none for {', '.join(victims) or 'the victims'} "
                          f"and no scraped service exports {spec.unhealthy_metric} (scrape the load balancer)")
        if grown >= 1:
            return True, f"{spec.unhealthy_metric} grew by {grown:g}: a health check marked a replica down"
        return False, f"no health check marked a victim down ({spec.unhealthy_metric} grew by 0, no Docker unhealthy mark)"
