"""junit.xml: parses, one testcase per expectation (classname = scenario, name = expectation),
failure messages give observed vs threshold, inconclusive is an error, hostile text survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.checks import ExpectationResult
from harness.report.junit import render_junit
from harness.report.model import SteadyStateReport
from tests.unit.report.conftest import HOSTILE, expectation, make_report, with_expectations


def cases(xml: str) -> list[ET.Element]:
    return ET.fromstring(xml).findall("./testsuite/testcase")


def test_one_testcase_per_expectation_with_scenario_as_classname():
    report = make_report(name="quickstart", faults=("a", "b", "c"))
    root = ET.fromstring(render_junit(report))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "quickstart"
    got = cases(render_junit(report))
    assert len(got) == len(report.expectations) == 4
    assert [c.get("classname") for c in got] == ["quickstart"] * 4
    assert [c.get("name") for c in got] == [e.name for e in report.expectations]
    failed = [e for e in report.expectations if not e.held]
    assert suite.get("tests") == "4" and suite.get("failures") == str(len(failed)) and suite.get("errors") == "0"


def test_failure_message_gives_observed_against_threshold_and_the_explanation():
    report = with_expectations(make_report(), [
        expectation("fast enough", held=True),
        ExpectationResult("p99 bounded", False, 1879.04, 1000.0, "<", "fault:catalog-slow", "p99_ms",
                          "p99_ms was 1879.04 in fault:catalog-slow; it had to be below 1000.", request="GET /p"),
    ])
    passed, failed = cases(render_junit(report))
    assert passed.find("failure") is None and passed.find("error") is None
    failure = failed.find("failure")
    assert failure is not None
    assert failure.get("message") == "observed 1,879 vs threshold < 1,000 (p99_ms of GET /p in fault:catalog-slow)"
    assert failure.text == "p99_ms was 1879.04 in fault:catalog-slow; it had to be below 1000."


def test_inconclusive_is_an_error_not_a_skip():
    report = with_expectations(make_report(), [expectation("never took effect", held=False, inconclusive=True)])
    (case,) = cases(render_junit(report))
    assert case.find("skipped") is None and case.find("failure") is None
    error = case.find("error")
    assert error is not None and error.get("type") == "inconclusive"
    assert ET.fromstring(render_junit(report)).find("testsuite").get("errors") == "1"


def test_a_run_that_never_reached_its_verdicts_gets_a_run_error_case():
    report = make_report().model_copy(update={"status": "error", "error": "docker went away", "expectations": []})
    (case,) = cases(render_junit(report))
    assert case.get("name") == "run"
    assert case.find("error").get("message") == "error: docker went away"


def test_a_stated_steady_state_adds_its_checks_and_a_derived_one_does_not():
    at_end = [expectation("steady state at end: error_rate <= 0.01", held=False)]
    base = make_report()
    stated = base.model_copy(update={"steady_state": SteadyStateReport(derived=False, limits=["x"], at_end=at_end)})
    derived = base.model_copy(update={"steady_state": SteadyStateReport(derived=True, limits=["x"], at_end=at_end)})
    assert len(cases(render_junit(stated))) == len(base.expectations) + 1
    assert len(cases(render_junit(derived))) == len(base.expectations)


def test_hostile_strings_are_escaped_and_control_characters_replaced():
    nasty = HOSTILE + "\x00\x1b[31m\x07"
    report = make_report(name="<scenario & co>")
    report = with_expectations(report, [ExpectationResult(nasty, False, 1.0, 0.5, "<", nasty, "p99_ms", nasty)])
    report = report.model_copy(update={"run_id": nasty})
    xml = render_junit(report)
    (case,) = cases(xml)  # parses
    clean = HOSTILE + "\ufffd\ufffd[31m\ufffd"
    assert case.get("classname") == "<scenario & co>"
    assert case.get("name") == clean
    assert case.find("failure").text == clean
    assert "<script>" not in xml and "]]></failure>" not in xml
