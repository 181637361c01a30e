"""The saved container logs (``logs/<container>.log``) are linked from report.md, report.html and
junit.xml, with their size and whether they were cut, plus the containers whose logs could not be
saved; a report without them says nothing about logs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from harness.report import build_report
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import MAX_LINES, render_markdown
from harness.report.model import ContainerLog, Report
from harness.scenario.models import Scenario
from tests.unit.report.conftest import HOSTILE, make_report

LOGS = [ContainerLog(container="harness-r-api-1", path="logs/harness-r-api-1.log", size_bytes=12_800),
        ContainerLog(container="harness-r-db_1", path="logs/harness-r-db_1.log", size_bytes=3 * 1024 * 1024,
                     truncated=True)]


def with_logs(report: Report, logs=LOGS, failed=("harness-r-cache-1",)) -> Report:
    """A copy of ``report`` with saved and failed container logs."""
    return report.model_copy(update={"container_logs": list(logs), "container_logs_failed": list(failed)})


class Links(HTMLParser):
    """Every ``<a href>`` with its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[list[str]] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append([dict(attrs).get("href") or "", ""])
            self._open = True

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = False

    def handle_data(self, data):
        if self._open:
            self.links[-1][1] += data


def test_markdown_links_each_log_with_its_size_and_cut_mark_and_names_the_failed():
    md = render_markdown(with_logs(make_report()))
    assert "## Container logs" in md
    assert "- [harness-r-api-1](logs/harness-r-api-1.log) 12.5 KiB\n" in md
    assert "- [harness-r-db\\_1](logs/harness-r-db_1.log) 3,072.0 KiB (cut)\n" in md
    assert "not saved: harness-r-cache-1" in md
    assert len(md.splitlines()) <= MAX_LINES


def test_markdown_says_nothing_about_logs_when_there_are_none():
    md = render_markdown(make_report())
    assert "Container logs" not in md and "logs/" not in md and "not saved" not in md


def test_markdown_shows_the_failed_ones_alone_and_escapes_names():
    md = render_markdown(with_logs(make_report(), logs=[], failed=["a|b", "[x](http://e)"]))
    assert "## Container logs" in md
    assert "not saved: a\\|b, \\[x\\](http://e)" in md
    assert "](http://e)" not in md.replace("\\](http://e)", "")  # no live link made from a name


def test_a_hostile_container_name_cannot_make_markup_or_a_link_in_markdown():
    md = render_markdown(with_logs(make_report(), logs=[ContainerLog(container=HOSTILE, path="logs/x.log",
                                                                     size_bytes=1)], failed=[]))
    line = next(x for x in md.splitlines() if x.startswith("- [") and "logs/x.log" in x)
    assert "<script>" not in line and "\\<script\\>" in line
    assert line.endswith("](logs/x.log) 0.0 KiB")


def test_markdown_drops_the_logs_section_first_when_the_report_is_too_long_and_says_so():
    many = [ContainerLog(container=f"c{i}", path=f"logs/c{i}.log", size_bytes=10) for i in range(70)]
    md = render_markdown(with_logs(make_report(), logs=many, failed=[]))
    assert len(md.splitlines()) <= MAX_LINES
    assert "## Container logs" not in md
    assert "## Timeline" in md  # the cheaper cut was enough
    assert "Container logs left out to stay within 60 lines" in md


def test_html_links_each_log_relatively_with_size_and_cut_mark():
    page = render_html(with_logs(make_report()))
    assert "<h2>Container logs</h2>" in page
    parser = Links()
    parser.feed(page)
    assert ["logs/harness-r-api-1.log", "logs/harness-r-api-1.log"] in parser.links
    assert ["logs/harness-r-db_1.log", "logs/harness-r-db_1.log"] in parser.links
    assert "12.5 KiB</td>" in page and "3,072.0 KiB (cut)</td>" in page
    assert "<code>harness-r-cache-1</code>" in page


def test_html_says_nothing_about_logs_when_there_are_none():
    page = render_html(make_report())
    assert "Container logs" not in page and 'href="logs/' not in page and "Not saved" not in page


def test_html_escapes_container_names():
    page = render_html(with_logs(make_report(), logs=[ContainerLog(container=HOSTILE, path="logs/x.log",
                                                                   size_bytes=1)], failed=[HOSTILE]))
    assert "<script>" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2


def test_junit_carries_the_log_paths_as_properties():
    root = ET.fromstring(render_junit(with_logs(make_report())))
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["container_log:harness-r-api-1"] == "logs/harness-r-api-1.log"
    assert props["container_log:harness-r-db_1"] == "logs/harness-r-db_1.log"
    assert props["container_logs_failed"] == "harness-r-cache-1"
    plain = {p.get("name") for p in ET.fromstring(render_junit(make_report())).iter("property")}
    assert not any(name.startswith("container_log") for name in plain)


SCENARIO = {
    "name": "logs",
    "proxies": [{"name": "catalog", "listen": "0.0.0.0:18080", "upstream": "catalog:8080"}],
    "load": {"host": "http://lb:8080", "duration_s": 2, "requests": [{"path": "/products/1"}]},
    "expectations": [{"name": "few errors", "window": "baseline", "metric": "error_rate", "<": 0.5}],
}


def test_a_report_built_from_a_run_directory_links_the_last_saved_logs(tmp_path):
    """build_report takes the journal's last ``logs.saved`` (a fast teardown's, after a graceful
    one was cut short), and report.md links what it lists."""
    t0 = 1_700_000_000.0
    first = {"files": [{"container": "old-1", "path": "logs/old-1.log", "size_bytes": 1, "truncated": False}],
             "failed": []}
    last = {"files": [{"container": "api-1", "path": "logs/api-1.log", "size_bytes": 2048, "truncated": True}],
            "failed": ["db-1"]}
    events = [("run.start", -1.0, {"run_id": "r", "seed": 1, "scenario": "logs"}), ("load.start", 0.0, {}),
              ("load.stop", 2.0, {"records": 2}), ("run.end", 2.5, {"status": "completed", "error": None}),
              ("logs.saved", 2.6, first), ("logs.saved", 2.7, last)]
    with (tmp_path / "journal.jsonl").open("w") as f:
        for name, at, fields in events:
            f.write(json.dumps({"event": name, "at": "2026-01-01T00:00:00.000Z", "t": t0 + at, **fields}) + "\n")
    (tmp_path / "requests.tsv").write_text(f"{t0 + 0.5:.6f}\t10.0\tGET /x\t200\t\t10\n"
                                           f"{t0 + 1.5:.6f}\t10.0\tGET /x\t200\t\t10\n")
    report = build_report(tmp_path, Scenario.model_validate(SCENARIO))
    assert [(c.container, c.path, c.size_bytes, c.truncated) for c in report.container_logs] == [
        ("api-1", "logs/api-1.log", 2048, True)]
    assert report.container_logs_failed == ["db-1"]
    md = render_markdown(report)
    assert "- [api-1](logs/api-1.log) 2.0 KiB (cut)" in md and "old-1" not in md
