"""``circuit_breaker``: during a dependency outage, failures fail fast, the breaker opens (calls
to the dependency stop), and it closes again soon after recovery (seed 002 "3. No Circuit
Breakers"; seed 001 "Will it spread?")."""

from __future__ import annotations

from harness.checks._evidence_tools import failures, gauge_series, percentile_ms
from harness.checks._signals import proxy_bytes_per_s
from harness.checks.base import Judge, Verdict, needed_requests
from harness.checks.registry import register_judge
from harness.scenario.checks.circuit_breaker import CircuitBreakerCheck
from harness.scenario.faults import ProxyPathLive

CALLS_STOPPED_SHARE = 0.25
"""Breaker open, seen from the proxy: in the second half of the fault window, the traffic to the
dependency is at most this share of the baseline's (only the half-open probes get through)."""

CALLS_RESUMED_SHARE = 0.5
"""Breaker closed again, seen from the proxy: after the revert the traffic is back to at least
this share of the baseline's within ``close_within_s``."""


@register_judge
class CircuitBreakerJudge(Judge):
    """Judges :class:`harness.scenario.checks.circuit_breaker.CircuitBreakerCheck` (see the module docstring)."""

    spec_type = CircuitBreakerCheck
    spec: CircuitBreakerCheck

    def windows(self, evidence):
        return [w for w in evidence.windows_for(self.spec.window) if w.kind == "fault"]

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        frame = evidence.frame(window, spec.request)
        failed = failures(frame)
        p99 = percentile_ms(failed if len(failed) else frame, 99)
        if p99 is None:
            return self.no_requests(evidence, window, spec.fail_fast_ms, "<", "p99_ms")
        what = f"p99 of the {len(failed)} failed requests" if len(failed) else f"p99 of all {len(frame)} requests"
        fast = f"{what} was {p99:.0f} ms in {window.name} (bound {spec.fail_fast_ms:g} ms)"
        acted, signal = self._breaker(evidence, window)
        if acted is None:
            return Verdict(False, p99, spec.fail_fast_ms, "<", "p99_ms", f"Inconclusive: {signal}; {fast}.",
                           inconclusive=True, evidence=(signal,))
        held = p99 < spec.fail_fast_ms and acted
        verdict = Verdict(held, p99, spec.fail_fast_ms, "<", "p99_ms", f"{fast}; {signal}.", evidence=(signal,))
        return verdict.powered(len(failed) or len(frame), needed_requests("p99_ms", "<", spec.fail_fast_ms))

    def _breaker(self, evidence, window) -> tuple[bool | None, str]:
        """Whether a breaker opened and closed again, and the sentence saying how that was seen."""
        spec = self.spec
        state = gauge_series(evidence, spec.state_metric, spec.metric_service)
        if not state.empty:
            return self._by_gauge(state, window)
        scraped = evidence.service_metrics
        if spec.metric_service and not scraped.empty:
            scraped = scraped[scraped["service"] == spec.metric_service]
        if not scraped.empty:
            return False, f"the scraped services export no {spec.state_metric}: there is no breaker"
        return self._by_calls(evidence, window)

    def _by_gauge(self, state, window) -> tuple[bool, str]:
        spec = self.spec
        during = state[(state["offset_s"] >= window.start_s) & (state["offset_s"] < window.end_s)]
        opened = bool((during["value"] == spec.open_value).any())
        after = state[state["offset_s"] >= window.end_s].groupby("offset_s")["value"].max()
        closed = after[after == spec.closed_value]
        close_s = float(closed.index[0] - window.end_s) if len(closed) else None
        acted = opened and close_s is not None and close_s <= spec.close_within_s
        parts = [f"{spec.state_metric} " + ("reached open" if opened else "never reached open") + " during the fault",
                 f"closed {close_s:.1f} s after the revert (at most {spec.close_within_s:g} s)" if close_s is not None
                 else "it never closed again"]
        return acted, "; ".join(parts)

    def _by_calls(self, evidence, window) -> tuple[bool | None, str]:
        spec = self.spec
        fault = evidence.faults.get(window.fault or "")
        proxy = getattr(fault, "proxy", None)
        base = evidence.baseline()
        if proxy is not None and any(isinstance(r, ProxyPathLive) for r in getattr(fault, "effect_rules", ())):
            return None, (f"{spec.state_metric} was not scraped, and no call can cross proxy {proxy} while the fault "
                          f"holds it down, so silence there shows nothing: no breaker could be seen")
        if proxy is None or base is None:
            return None, (f"{spec.state_metric} was not scraped and the fault is not on a proxy whose calls could be "
                          "counted: no breaker could be seen")
        normal = proxy_bytes_per_s(evidence, proxy, base.start_s, base.end_s)
        late = proxy_bytes_per_s(evidence, proxy, (window.start_s + window.end_s) / 2, window.end_s)
        after = proxy_bytes_per_s(evidence, proxy, window.end_s, window.end_s + spec.close_within_s)
        if normal is None or late is None or after is None or normal <= 0:
            return None, (f"{spec.state_metric} was not scraped and the calls through proxy {proxy} could not be "
                          "counted: no breaker could be seen")
        stopped = late <= CALLS_STOPPED_SHARE * normal
        resumed = after >= CALLS_RESUMED_SHARE * normal
        return stopped and resumed, (
            f"calls through proxy {proxy}: {normal:.0f} B/s in the baseline, {late:.0f} B/s in the fault's second half "
            f"({'stopped' if stopped else 'did not stop'}: at most {CALLS_STOPPED_SHARE:.0%}), {after:.0f} B/s in the "
            f"{spec.close_within_s:g} s after the revert ({'resumed' if resumed else 'did not resume'})")
