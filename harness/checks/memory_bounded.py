"""``memory_bounded``: a service's memory under load does not grow beyond a slope or a limit
(seed 002 "7. Memory Leaks": a cache that grows forever)."""

from __future__ import annotations

from harness.checks.base import Judge, Verdict
from harness.checks.registry import register_judge
from harness.scenario.checks.memory_bounded import MemoryBoundedCheck

MIN_LOADED_REQUESTS = 100
"""A memory verdict needs the service under load: at least this many requests in the window."""

MIN_SAMPLED_SHARE = 0.5
"""... and memory samples of the service over at least this share of the window's seconds."""


@register_judge
class MemoryBoundedJudge(Judge):
    """Judges :class:`harness.scenario.checks.memory_bounded.MemoryBoundedCheck` (see the module docstring)."""

    spec_type = MemoryBoundedCheck
    spec: MemoryBoundedCheck

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        from harness.analysis.containers import telemetry  # pandas: loaded lazily (see checks._evidence_tools)

        seen = telemetry(evidence.containers, evidence.container_events, window).get(spec.service)
        if seen is None or seen.mem_slope_mib_s is None:
            return Verdict(False, None, spec.max_slope_mib_s, "<=", "mem_slope_mib_s",
                           f"No memory samples of {spec.service} in {window.name}.", inconclusive=True)
        held = seen.mem_slope_mib_s <= spec.max_slope_mib_s and (
            spec.max_mib is None or (seen.mem_mib_max or 0) <= spec.max_mib)
        peak = f", peak {seen.mem_mib_max:g} MiB" + (f" (limit {spec.max_mib:g})" if spec.max_mib else "")
        loaded, load_text = self._loaded(evidence, window)
        verdict = Verdict(held, seen.mem_slope_mib_s, spec.max_slope_mib_s, "<=", "mem_slope_mib_s",
                          f"{spec.service} memory grew {seen.mem_slope_mib_s:g} MiB/s in {window.name}{peak}; at most "
                          f"{spec.max_slope_mib_s:g} MiB/s allowed.", evidence=(load_text,))
        return verdict if loaded or not held else verdict.unproven(load_text)

    def _loaded(self, evidence, window) -> tuple[bool, str]:
        """Whether the service was under load and sampled through the window, and how that was seen."""
        spec = self.spec
        from harness.analysis.fault_effect import IN_PATH_MIN_TX_BYTES_PER_REQUEST, sent_per_request

        frame = evidence.containers
        mine = frame[(frame["service"] == spec.service) & (frame["offset_s"] >= window.start_s)
                     & (frame["offset_s"] < window.end_s)] if len(frame) else frame
        seconds = mine["offset_s"].astype(int).nunique() if len(mine) else 0
        requests = evidence.metrics_of(window, spec.request).requests
        containers = sorted(set(mine["container"])) if len(mine) else []
        per_request = sent_per_request(frame, evidence.records, containers, window.start_s, window.end_s)
        sampled = seconds >= MIN_SAMPLED_SHARE * window.duration_s
        served = per_request is not None and per_request >= IN_PATH_MIN_TX_BYTES_PER_REQUEST
        sent = f"{per_request:.0f} B per request" if per_request is not None else "an unknown amount"
        text = (f"{requests} requests in {window.name}; {spec.service} sent {sent}; memory sampled in {seconds} of "
                f"{window.duration_s:.0f} s")
        missing = ([f"too few requests to load it (at least {MIN_LOADED_REQUESTS} needed)"]
                   if requests < MIN_LOADED_REQUESTS else [])
        missing += [] if served else [f"{spec.service} served no request (at least {IN_PATH_MIN_TX_BYTES_PER_REQUEST:g} B "
                                      "per request needed)"]
        missing += [] if sampled else [f"its memory was sampled in under {MIN_SAMPLED_SHARE:.0%} of the window"]
        return not missing, text + ("; " + "; ".join(missing) if missing else "")
