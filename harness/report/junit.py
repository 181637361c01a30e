"""``junit.xml``: the verdicts in the JUnit XML format CI systems read (GitLab, Jenkins, GitHub
test reporters).

One ``<testsuite>`` per run (name = the scenario) inside a ``<testsuites>`` root. One
``<testcase>`` per expectation: ``classname`` = the scenario's name, ``name`` = the expectation's
name.

- a failed expectation gets ``<failure message="observed X vs threshold < Y (metric in window)"
  type="threshold">`` with the explanation as its text;
- an inconclusive expectation (its evidence was missing, e.g. the fault never took effect) gets
  ``<error type="inconclusive">``, not ``<skipped>``: CI tools count skipped tests as fine, and
  an inconclusive verdict is never a pass (the same reason the CLI exits 5, not 0);
- a stated steady state (checked on the baseline and at the end) adds one testcase per check,
  named ``steady state ...``; a derived one is a yardstick, not a verdict, and adds none;
- a run that ended ``error``, ``aborted`` or ``interrupted`` adds a testcase named ``run`` with
  an ``<error>`` carrying the reason, so a run that never reached its verdicts is not green;
- a fault that never took effect adds a testcase ``fault <window> took effect`` with an
  ``<error type="inconclusive">`` carrying the evidence (the run is inconclusive, not green).

The suite's ``<properties>`` carry the run id, seed, status, scenario hash and profile, then one
``container_log:<container>`` per saved container log (value: its path relative to the run
directory, ``logs/<container>.log``) and ``container_logs_failed`` (comma-separated names) when
some could not be saved.

So a run that completed with a derived steady state has exactly as many testcases as it has
expectations. Everything is written with :mod:`xml.etree.ElementTree` (which escapes ``<``, ``&``
and quotes); characters XML 1.0 cannot carry at all (control characters from a service's error
text) are replaced with U+FFFD first, so the file always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from harness.checks import ExpectationResult
from harness.report.formats import report_format
from harness.report.markdown import num
from harness.report.model import Report

_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: object) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD (escaping of ``<``, ``&``
    and quotes is left to ElementTree)."""
    return _INVALID_XML.sub("\ufffd", str(text))


def failure_message(e: ExpectationResult) -> str:
    """``observed X vs threshold < Y (metric in window)``."""
    metric = e.metric + (f" of {e.request}" if e.request else "")
    return f"observed {num(e.observed)} vs threshold {e.operator} {num(e.threshold)} ({metric} in {e.window})"


def _duration_s(report: Report) -> float:
    try:
        start = datetime.fromisoformat(report.started_at.replace("Z", "+00:00"))
        end = datetime.fromisoformat(report.ended_at.replace("Z", "+00:00"))
        return max(0.0, (end - start).total_seconds())
    except ValueError:
        return 0.0


def _case(suite: ET.Element, classname: str, e: ExpectationResult) -> ET.Element:
    case = ET.SubElement(suite, "testcase", classname=xml_text(classname), name=xml_text(e.name), time="0")
    if e.inconclusive:
        child = ET.SubElement(case, "error", message=xml_text("inconclusive: " + e.explanation), type="inconclusive")
        child.text = xml_text(e.explanation)
    elif not e.held:
        child = ET.SubElement(case, "failure", message=xml_text(failure_message(e)), type=xml_text(e.check))
        child.text = xml_text(e.explanation)
    return case


@report_format("junit", "junit.xml")
def render_junit(report: Report) -> str:
    """The JUnit XML text of ``report`` (see the module docstring)."""
    classname = report.scenario.name
    cases: list[ExpectationResult] = list(report.expectations)
    if report.steady_state and not report.steady_state.derived:
        cases += report.steady_state.at_start + report.steady_state.at_end
    run_error = report.status in ("error", "aborted", "interrupted")
    unseen = [f for f in report.fault_effects if not f.seen]
    failures = sum(1 for e in cases if not e.held and not e.inconclusive)
    errors = sum(1 for e in cases if e.inconclusive) + len(unseen) + (1 if run_error else 0)
    tests = len(cases) + len(unseen) + (1 if run_error else 0)
    duration = f"{_duration_s(report):.3f}"

    root = ET.Element("testsuites", name="harness", tests=str(tests), failures=str(failures), errors=str(errors),
                      time=duration)
    suite = ET.SubElement(root, "testsuite", name=xml_text(classname), tests=str(tests), failures=str(failures),
                          errors=str(errors), skipped="0", time=duration, timestamp=report.started_at.rstrip("Z"))
    props = ET.SubElement(suite, "properties")
    for key, value in (("run_id", report.run_id), ("seed", str(report.seed)), ("status", report.status),
                       ("scenario_sha256", report.scenario.sha256), ("profile", report.scenario.profile or "")):
        ET.SubElement(props, "property", name=key, value=xml_text(value))
    for log in report.container_logs:
        ET.SubElement(props, "property", name=xml_text(f"container_log:{log.container}"), value=xml_text(log.path))
    if report.container_logs_failed:
        ET.SubElement(props, "property", name="container_logs_failed",
                      value=xml_text(", ".join(report.container_logs_failed)))
    for e in cases:
        _case(suite, classname, e)
    for effect in unseen:
        case = ET.SubElement(suite, "testcase", classname=xml_text(classname), name=xml_text(f"fault {effect.window} "
                                                                                           "took effect"), time="0")
        child = ET.SubElement(case, "error", message=xml_text(f"inconclusive: {effect.evidence}"), type="inconclusive")
        child.text = xml_text(effect.evidence)
    if run_error:
        case = ET.SubElement(suite, "testcase", classname=xml_text(classname), name="run", time=duration)
        reason = report.error or f"the run ended {report.status}"
        child = ET.SubElement(case, "error", message=xml_text(f"{report.status}: {reason}"), type=report.status)
        child.text = xml_text(reason)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
