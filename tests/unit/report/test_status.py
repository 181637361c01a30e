"""Every status rule of a run (decide_status) and the record-loss rule, one by one."""

from __future__ import annotations

import pytest

from harness.analysis.fault_effect import FaultEffect
from harness.checks import ExpectationResult
from harness.errors import ExitCode
from harness.report.build import decide_status, record_loss
from harness.report.model import SteadyStateReport


def verdict(held=True, inconclusive=False, name="e"):
    return ExpectationResult(name, held, 1.0, 2.0, "<", "fault:f", "p99_ms", f"{name} explained",
                             inconclusive=inconclusive)


SEEN = FaultEffect("f", "fault:f", True, "proxy p accepted 3 connections")
MISSED = FaultEffect("f", "fault:f", False, "no request went through it")


def decide(results=(), effects=(SEEN,), steady=None, lost=None, measure=False, strict=False, ended="completed"):
    return decide_status(ended, None, measure=measure, results=list(results), steady=steady, effects=list(effects),
                         lost=lost, strict=strict)


def test_held_on_evidence_passes():
    assert decide([verdict()]) == ("passed", None)


def test_a_failed_verdict_fails_even_beside_an_inconclusive_one():
    assert decide([verdict(False), verdict(False, True)])[0] == "failed"


def test_an_inconclusive_verdict_or_an_unseen_fault_is_inconclusive_never_passed():
    status, why = decide([verdict(), verdict(False, True, name="breaker")])
    assert status == "inconclusive" and "breaker: breaker explained" in why
    status, why = decide([verdict()], effects=[MISSED])
    assert status == "inconclusive" and "fault fault:f never took effect: no request went through it" in why


def test_strict_turns_inconclusive_into_failed():
    status, why = decide([verdict(False, True)], strict=True)
    assert status == "failed" and why.startswith("strict: inconclusive counts as failed")


def test_a_measurement_is_measured_but_lost_records_still_make_it_an_error():
    assert decide([verdict(False)], measure=True) == ("measured", None)
    assert decide(measure=True, lost="requests were lost: x") == ("error", "requests were lost: x")


def test_a_baseline_that_broke_the_stated_steady_state_is_inconclusive():
    steady = SteadyStateReport(derived=False, limits=["error_rate < 0.01"], at_start=[verdict(False)])
    status, why = decide([verdict()], steady=steady)
    assert status == "inconclusive" and "did not hold on the baseline" in why


def test_a_run_cut_short_keeps_its_own_status():
    for ended in ("interrupted", "aborted", "error"):
        assert decide([verdict()], ended=ended)[0] == ended


@pytest.mark.parametrize("stop, parsed, problem", [
    ({"recorded": 10, "records": 10, "locust_requests": 10, "garbage_lines": 0}, 10, None),
    ({"recorded": 9, "records": 10, "locust_requests": 10, "garbage_lines": 0}, 9, "the load child wrote 10"),
    ({"recorded": 10, "records": 10, "locust_requests": 12, "garbage_lines": 0}, 10, "Locust counted 12"),
    ({"recorded": 10, "records": 10, "locust_requests": 10, "garbage_lines": 2}, 10, "2 garbled lines"),
    ({"recorded": 10, "records": 10, "locust_requests": 10, "garbage_lines": 0}, 7, "7 could be read back"),
])
def test_every_request_sent_is_recorded_or_the_run_says_so(stop, parsed, problem):
    found = record_loss(stop, parsed)
    assert (found is None) if problem is None else (problem in found and found.startswith("requests were lost"))


def test_exit_codes_keep_inconclusive_apart_from_error():
    from harness.cli import _STATUS_EXIT

    assert _STATUS_EXIT["inconclusive"] == ExitCode.INCONCLUSIVE == 5
    assert _STATUS_EXIT["error"] == ExitCode.ERROR == 3 and _STATUS_EXIT["measured"] == ExitCode.PASSED
