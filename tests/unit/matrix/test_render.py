"""matrix.md and matrix.html from a matrix collected from real report.json files: the table's
rows, columns and cells, key numbers with units, stale marks, relative links, escaping."""

from __future__ import annotations

import json
import re

import pytest

from harness.matrix import MatrixSettings, collect_matrix, tagged_scenarios
from harness.report.matrix import Matrix, key_number, render_matrix_html, render_matrix_md, write_matrix
from tests.unit.matrix.conftest import NOW_S, run_report, save, write_scenario
from tests.unit.report.conftest import HOSTILE


@pytest.fixture
def shop(tmp_path) -> Matrix:
    """catalog x slow held (fresh), catalog x down failed, redis x down stale held, api x killed
    replica not run."""
    scenarios, reports = tmp_path / "scenarios", tmp_path / "reports"
    slow = write_scenario(scenarios, "catalog-slow")
    down = write_scenario(scenarios, "catalog-down", failure_mode="down")
    redis = write_scenario(scenarios, "redis-down", dependency="redis", failure_mode="down")
    write_scenario(scenarios, "api-killed", dependency="api", failure_mode="killed replica")
    save(run_report(slow, "passed", p99_ms=812.4), reports / "run-slow")
    save(run_report(down, "failed", p99_ms=2950), reports / "run-down")
    save(run_report(redis, "passed", ended_at="2025-12-01T00:00:00.000Z", p99_ms=99), reports / "run-redis")
    settings = MatrixSettings(scenarios, reports, reports / "matrix-1", "never")
    return collect_matrix(tagged_scenarios(scenarios), settings, clock=lambda: NOW_S)[0]


def test_matrix_md_is_a_table_of_dependencies_by_failure_modes(shop):
    md = render_matrix_md(shop)
    assert md.startswith("# Resiliency matrix: FAILED\n")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert table[0] == "| dependency | slow | down | killed replica |"
    rows = {row.split(" | ")[0].strip("| *"): row.split(" | ")[1:] for row in table[2:]}
    assert list(rows) == ["api", "catalog", "redis"]
    assert rows["api"] == ["", "", "**▫️ not run** |"]
    assert rows["catalog"][0] == "**✅ held** · p99 812.4 ms · [report](../run-slow/report.html)"
    assert rows["catalog"][1] == "**❌ FAILED** · p99 2,950 ms · [report](../run-down/report.html)"
    assert rows["redis"][1] == "**✅ held** · p99 99 ms · 🕰 stale: 31 d old · [report](../run-redis/report.html)"
    assert "- redis x down: `" in md and "31 d old (more than 7 d)" in md


def test_matrix_html_colours_the_cells_and_links_the_reports(shop):
    html = render_matrix_html(shop)
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    cells = [c for c in re.findall(r"<td class=\"(cell-[a-z-]+(?: stale)?)\">", html) if c != "cell-empty"]
    assert sorted(cells) == ["cell-failed", "cell-held", "cell-held stale", "cell-not-run"]
    assert html.count('class="cell-empty"') == 5
    for run in ("run-slow", "run-down", "run-redis"):
        assert f'href="../{run}/report.html"' in html
    assert "p99 812.4 ms" in html and "stale: 31 d old" in html


def test_names_from_a_scenario_are_escaped(shop):
    hostile = shop.model_copy(update={"dependencies": [HOSTILE], "cells": [
        shop.cells[0].model_copy(update={"dependency": HOSTILE, "scenario": HOSTILE, "error": HOSTILE,
                                         "report": '../x"><script>/report.html'})]})
    html = render_matrix_html(hostile)
    assert "<script>" not in html and "<img" not in html and 'x"><' not in html
    md = render_matrix_md(hostile)
    assert "<script>" not in md and "](../x%22%3E%3Cscript%3E/report.html)" in md


def test_write_matrix_writes_json_md_html_and_the_json_reads_back(shop, tmp_path):
    paths = write_matrix(shop, tmp_path / "out")
    assert sorted(p.name for p in paths.values()) == ["matrix.html", "matrix.json", "matrix.md"]
    assert Matrix.model_validate(json.loads(paths["json"].read_text())) == shop
    assert list((tmp_path / "out").iterdir()).__len__() == 3  # no temporary file left


@pytest.mark.parametrize("metric, observed, text", [
    ("p99_ms", 812.44, "p99 812.4 ms"), ("error_rate", 0.004, "error rate 0.40 %"), ("rps", 48.2, "rps 48.2 req/s"),
    ("symptoms_stop_s", 3.2, "symptoms stop 3.2 s"), ("mem_slope_mib_s", 0.02, "mem slope 0.02 MiB/s"),
    ("lost_writes", 0.0, "lost writes 0"), ("p99_ms", None, "p99 –"), (None, None, ""), ("", 1.0, ""),
])
def test_key_numbers_carry_their_unit(metric, observed, text):
    assert key_number(metric, observed) == text
