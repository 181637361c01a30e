"""The malformed-scenario corpus: every file gets exactly one clear line, file:line:col first,
naming the problem (each file's first line says what to expect)."""

import re
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario import load_scenario
from harness.scenario.safe_yaml import BOMS

CORPUS = sorted((Path(__file__).parent.parent / "corpus" / "malformed").glob("*.yaml"))


def expected(path: Path) -> str:
    raw = path.read_bytes()
    codec = next((name for bom, name in BOMS if raw.startswith(bom)), "utf-8")
    first = raw.decode(codec, errors="ignore").split("\n", 1)[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 60


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_each_malformed_file_gets_one_clear_line(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = info.value.problems
    assert len(problems) == 1, problems
    line = problems[0]
    assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: \S", line), line
    assert expected(path) in line, line
    assert "Traceback" not in line and "\n" not in line
