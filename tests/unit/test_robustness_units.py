"""Units of the robustness machinery: secrets, redaction, abort guards, the cleanup ledger."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.environment.ledger import Ledger, replay
from harness.errors import ScenarioError
from harness.run.guards import tripped
from harness.journal import Journal
from harness.redact import Redactor
from harness.scenario import load_scenario
from harness.scenario.models import AbortCondition

SCENARIO = """\
name: secret
target: {env: {TOKEN: "${env:HARNESS_UNIT_TOKEN}"}}
load:
  host: http://lb:8080
  duration_s: 10
  requests:
    - {path: /, headers: {Authorization: "Bearer ${env:HARNESS_UNIT_TOKEN}"}}
mode: measure
"""


def test_env_references_are_substituted_and_remembered_as_secrets(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    monkeypatch.setenv("HARNESS_UNIT_TOKEN", "t0ps3cret")
    loaded = load_scenario(path)
    assert loaded.scenario.target.env == {"TOKEN": "t0ps3cret"}
    assert loaded.scenario.load.requests[0].headers == {"Authorization": "Bearer t0ps3cret"}
    assert loaded.secrets == {"t0ps3cret"}


def test_a_missing_env_reference_is_a_located_error(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    monkeypatch.delenv("HARNESS_UNIT_TOKEN", raising=False)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems[0].startswith(f"{path}:2:") and "HARNESS_UNIT_TOKEN is not set" in info.value.problems[0]


def test_redactor_masks_longest_first_and_journal_applies_it(tmp_path):
    redact = Redactor({"abc", "abcdef"})
    assert redact("x abcdef y abc") == "x *** y ***"
    journal = Journal(tmp_path, redact=redact)
    journal.record("x", header="Bearer abcdef")
    assert "abcdef" not in journal.path.read_text() and "Bearer ***" in journal.path.read_text()
    assert not Redactor(set()) and Redactor({"a"})


@pytest.mark.parametrize("text,per_second,trips", [
    ("error_rate > 0.5 for 3 s", {97: [10, 9], 98: [10, 8], 99: [10, 6]}, True),
    ("error_rate > 0.5 for 3 s", {97: [10, 9], 98: [10, 2], 99: [10, 6]}, False),
    ("rps < 5 for 2 s", {98: [3, 0], 99: [0, 0]}, True),
    ("rps < 5 for 2 s", {98: [3, 0], 99: [6, 0]}, False),
])
def test_abort_conditions_need_every_second_of_their_span(text, per_second, trips):
    cond = AbortCondition.model_validate(text)
    assert (tripped([cond], per_second, now_s=100.2, t0=90.0) is cond) is trips


def test_abort_conditions_ignore_seconds_before_the_load():
    cond = AbortCondition.model_validate("rps < 5 for 10 s")
    assert tripped([cond], {}, now_s=100.2, t0=95.0) is None  # only 5 s of load so far


def test_ledger_replays_newest_first_kills_only_the_recorded_process_and_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ticks = int(Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    ledger = Ledger(tmp_path / "run", "r1")
    ledger.record("inside_run", what="toxic x")
    ledger.record("kill_pid", pid=child.pid, start_ticks=ticks + 1)  # a reused pid: must be left alone
    done = replay(tmp_path / "run")
    assert [u.changed for u in done] == [False, False] and child.poll() is None
    ledger.record("kill_pid", pid=child.pid, start_ticks=ticks)
    with (tmp_path / "run" / "ledger.jsonl").open("a") as f:
        f.write('{"undo": "kill_pid", "pid": ')  # a torn last line (the run died mid-write)
    done = replay(tmp_path / "run")
    assert [u.undo for u in done] == ["kill_pid", "kill_pid", "inside_run"]  # newest first, torn line skipped
    assert done[0].changed
    child.wait(timeout=10)
    assert all(not u.changed for u in replay(tmp_path / "run"))  # nothing left to undo
    index = (tmp_path / "state" / "harness" / "runs.jsonl").read_text()
    assert json.loads(index.splitlines()[0])["run_id"] == "r1"
    with pytest.raises(KeyError):
        ledger.record("format_disk")
