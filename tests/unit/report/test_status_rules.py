"""Every status rule, one row each: a run's (decide_status, rules 1-9 and strict) and a repeated
run's aggregate (decide_aggregate_status, rules 1-4). A rule that moved or changed order fails a row."""

from __future__ import annotations

import pytest

from harness.analysis.fault_effect import FaultEffect
from harness.checks import ExpectationResult
from harness.report.model import SteadyStateReport
from harness.report.status import NO_RUN_END, decide_aggregate_status, decide_status


def verdict(held=True, inconclusive=False, name="e"):
    return ExpectationResult(name, held, 1.0, 2.0, "<", "w", "p99_ms", f"{name} why", inconclusive=inconclusive)


HELD, FAILED, UNPROVEN = verdict(), verdict(False, name="f"), verdict(False, True, name="u")
SEEN = FaultEffect("f", "fault:f", True, "acted")
MISSED = FaultEffect("f", "fault:f", False, "no traffic")
BROKEN_BASELINE = SteadyStateReport(derived=False, limits=["x"], at_start=[verdict(False, name="b")])
FAILED_AT_END = SteadyStateReport(derived=False, limits=["x"], at_start=[HELD], at_end=[verdict(False, name="s")])
DERIVED_FAILED_AT_END = SteadyStateReport(derived=True, limits=["x"], at_end=[verdict(False, name="s")])

# (rule, ended, error, keyword arguments, expected status, expected error: exact, or None, or "...": contains)
RUN_RULES = [
    ("1 unbuilt: a completed run is an error", "completed", None, {"unbuilt": "KeyError: 'w'"},
     "error", "the report could not be built: KeyError: 'w'"),
    ("1 unbuilt: interrupted is kept", "interrupted", "interrupted by SIGINT", {"unbuilt": "boom"},
     "interrupted", "interrupted by SIGINT; the report could not be built: boom"),
    ("1 unbuilt: aborted is kept", "aborted", "abort", {"unbuilt": "boom"},
     "aborted", "abort; the report could not be built: boom"),
    ("1 unbuilt: before everything else", "completed", None, {"unbuilt": "boom", "results": [HELD], "strict": True},
     "error", "the report could not be built: boom"),
    ("2 no run.end", None, None, {"results": [HELD]}, "error", NO_RUN_END),
    ("3 cut short: error", "error", "stack not healthy", {"results": [HELD]}, "error", "stack not healthy"),
    ("3 cut short: interrupted", "interrupted", "by SIGTERM", {"lost": "lost"}, "interrupted", "by SIGTERM"),
    ("3 cut short: aborted", "aborted", "tripped", {}, "aborted", "tripped"),
    ("4 lost records", "completed", None, {"lost": "requests were lost: x", "results": [HELD]},
     "error", "requests were lost: x"),
    ("4 lost records beat a measurement", "completed", None, {"lost": "lost", "measure": True}, "error", "lost"),
    ("5 baseline broke the steady state", "completed", None, {"steady": BROKEN_BASELINE, "results": [FAILED]},
     "inconclusive", "...did not hold on the baseline: b why"),
    ("5 strict", "completed", None, {"steady": BROKEN_BASELINE, "strict": True},
     "failed", "...strict: inconclusive counts as failed"),
    ("6 measured", "completed", None, {"measure": True, "results": [FAILED], "effects": [MISSED]}, "measured", None),
    ("7 failed", "completed", None, {"results": [HELD, FAILED, UNPROVEN]}, "failed", None),
    ("7 failed: a stated steady state failed at the end", "completed", None,
     {"results": [HELD], "steady": FAILED_AT_END}, "failed", None),
    ("8 inconclusive: a verdict lacked evidence", "completed", None, {"results": [HELD, UNPROVEN], "effects": [SEEN]},
     "inconclusive", "u: u why"),
    ("8 inconclusive: a fault never took effect", "completed", None, {"results": [HELD], "effects": [MISSED]},
     "inconclusive", "fault fault:f never took effect: no traffic"),
    ("8 strict", "completed", None, {"results": [UNPROVEN], "strict": True},
     "failed", "strict: inconclusive counts as failed: u: u why"),
    ("9 passed", "completed", None, {"results": [HELD], "effects": [SEEN]}, "passed", None),
    ("9 passed: a derived steady state is not judged at the end", "completed", None,
     {"results": [HELD], "steady": DERIVED_FAILED_AT_END}, "passed", None),
]


@pytest.mark.parametrize("rule, ended, error, kwargs, status, why", RUN_RULES, ids=[r[0] for r in RUN_RULES])
def test_every_run_status_rule(rule, ended, error, kwargs, status, why):
    got_status, got_why = decide_status(ended, error, **kwargs)
    assert got_status == status
    if isinstance(why, str) and why.startswith("..."):
        assert why[3:] in got_why
    else:
        assert got_why == why


# (rule, repeat statuses, repeat count, quorum, expected status, words of the reason)
AGGREGATE_RULES = [
    ("1 interrupted repeat", ["passed", "interrupted"], 3, 1, "interrupted", "interrupted after 2 of 3"),
    ("1 repeats that never ran", ["passed", "passed"], 3, 2, "interrupted", "interrupted after 2 of 3"),
    ("2 quorum met", ["passed", "failed", "measured"], 3, 2, "passed", "2 of 3 repeats passed (quorum 2)"),
    ("3 failures put the quorum out of reach", ["passed", "failed", "aborted"], 3, 2, "failed", "2 failed"),
    ("4 an error among the undecided", ["passed", "error", "failed"], 3, 2, "error", "1 repeats that proved nothing"),
    ("4 only inconclusive undecided", ["passed", "inconclusive", "inconclusive"], 3, 2, "inconclusive",
     "2 repeats that proved nothing"),
]


@pytest.mark.parametrize("rule, statuses, repeat, quorum, status, words", AGGREGATE_RULES,
                         ids=[r[0] for r in AGGREGATE_RULES])
def test_every_aggregate_status_rule(rule, statuses, repeat, quorum, status, words):
    got_status, reason = decide_aggregate_status(statuses, repeat, quorum)
    assert got_status == status and words in reason
