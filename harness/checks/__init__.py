"""Judges of the expectations: plain thresholds and the resilience pattern checks, one module per
check.

A check is two modules of the same name: its spec in :mod:`harness.scenario.checks` (what the
scenario says, discriminated by ``check``) and its :class:`Judge` here, whose
``judge_window(evidence, window)`` returns a verdict explaining itself with observed numbers.
Judges are pure: they read :class:`harness.analysis.evidence.Evidence`, never Docker.
"""

from harness.checks.base import ExpectationResult, Judge, Verdict
from harness.checks.registry import evaluate, judge_for, judge_names, register_judge

__all__ = ["ExpectationResult", "Judge", "Verdict", "evaluate", "judge_for", "judge_names", "register_judge"]
