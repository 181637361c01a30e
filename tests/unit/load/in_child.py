"""Run a snippet in a fresh interpreter, for the tests of the child-only modules: importing
locust (``harness.load.child`` and the roles built on it do) patches the whole process with
gevent, which the test process must not be."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def run_snippet(*parts: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """Run the code ``parts``, each dedented, one after the other, with ``python -c`` from the
    repository's root; the finished process, its stdout and stderr as text. Raises
    ``AssertionError`` when it fails."""
    code = "\n".join(textwrap.dedent(part) for part in parts)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, done.stderr
    return done


def json_from(*parts: str) -> dict:
    """Run ``parts`` like :func:`run_snippet`; the JSON object on the last line of its stdout."""
    return json.loads(run_snippet(*parts).stdout.splitlines()[-1])
