"""A report format is one module: a renderer registered with ``report_format`` is written, and
regenerated, like the built-in ones, with nothing else changed."""

from __future__ import annotations

import pytest

from harness.report import regenerate, rendered_files, write_reports
from harness.report.formats import FORMATS, report_format, report_formats
from tests.unit.report.conftest import make_report


def test_the_built_in_formats_register_themselves():
    assert rendered_files() == {"html": "report.html", "junit": "junit.xml", "md": "report.md"}
    assert {f.name for f in report_formats() if f.warm_up is not None} == {"html", "md"}


def test_a_new_format_is_written_and_regenerated_from_report_json(tmp_path, monkeypatch):
    monkeypatch.setattr(FORMATS, "_items", dict(FORMATS.items()))  # forget the new format afterwards

    @report_format("csv", "verdicts.csv")
    def render_csv(report):
        return "".join(f"{e.name},{e.held}\n" for e in report.expectations)

    paths = write_reports(make_report(), tmp_path)
    assert paths["csv"] == tmp_path / "verdicts.csv"
    first = paths["csv"].read_text()
    assert first and first.count("\n") == len(make_report().expectations)
    paths["csv"].unlink()
    regenerate(tmp_path)
    assert (tmp_path / "verdicts.csv").read_text() == first


def test_a_format_name_is_taken_once():
    with pytest.raises(TypeError, match="registered twice"):
        report_format("md", "other.md")(lambda report: "")
