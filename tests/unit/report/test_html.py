"""report.html: self-contained (no external asset, no script), plots embedded as PNG data with the
fault windows shaded and labelled, and every string from a scenario or service escaped."""

from __future__ import annotations

import base64
import re

import pytest
from html.parser import HTMLParser

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.checks import ExpectationResult
from harness.report.html import render_html
from harness.report.model import TimelineEntry
from harness.report.plots import fault_shades, plain, report_plots, shade
from tests.unit.report.conftest import HOSTILE, make_report

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "span", "div",
                "strong", "code", "br", "table", "tr", "th", "td", "figure", "img", "figcaption", "ul", "li", "ol",
                "dl", "dt", "dd", "details", "summary", "footer", "a"}


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def page() -> str:
    """The page of the default synthetic report (rendered once: plots take a second)."""
    return render_html(make_report())


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def hostile_report():
    report = make_report(name="<script>alert(1)</script>", error_class=HOSTILE, service=HOSTILE, fault_error_rate=0.1)
    exp = ExpectationResult(HOSTILE, False, 2.0, 1.0, "<", HOSTILE, "p99_ms", HOSTILE, request=HOSTILE)
    windows = [w.model_copy(update={"diagnosis": HOSTILE, "by_request": {HOSTILE: w.metrics}}) for w in report.windows]
    timeline = [TimelineEntry(at="2026-01-01T00:00:10.000Z", offset_s=10, action="inject_failed", fault=HOSTILE,
                              kind=HOSTILE, touched=[HOSTILE], error=HOSTILE)]
    return report.model_copy(update={
        "expectations": [exp], "status": "error", "error": HOSTILE, "windows": windows, "timeline": timeline,
        "scenario": report.scenario.model_copy(update={"overrides": [HOSTILE], "profile": "p"}),
        "environment": {**report.environment, "platform": HOSTILE, "images": {HOSTILE: HOSTILE}},
    })


def test_a_scenario_named_script_produces_no_script_element():
    html = render_html(make_report(name="<script>alert(1)</script>"))
    tags = parse(html)
    assert not [t for t, _ in tags.tags if t == "script"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in "".join(tags.text)  # shown as text


def test_every_hostile_string_is_escaped_so_only_our_own_tags_exist():
    html = render_html(hostile_report())
    tags = parse(html)
    assert {t for t, _ in tags.tags} <= ALLOWED_TAGS
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert set(attrs) == {"alt", "src"} and attrs["src"].startswith("data:image/png;base64,")
    assert "<img src=x" not in html
    assert html.count(HOSTILE) == 0  # never verbatim: always escaped
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_page_is_self_contained_with_no_external_asset(page):
    html = page
    tags = parse(html)
    for tag, attrs in tags.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, key, value)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "url(" not in html and "@import" not in html
    assert not [t for t, _ in tags.tags if t in ("script", "link", "iframe", "object", "embed")]


def test_plots_are_embedded_as_png_data(page):
    html = page
    images = [attrs["src"] for tag, attrs in parse(html).tags if tag == "img"]
    assert len(images) == 3  # latency, throughput + errors, containers
    for src in images:
        png = base64.b64decode(src.removeprefix("data:image/png;base64,"))
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_plots_without_container_series_leave_the_containers_plot_out():
    assert set(report_plots(make_report(containers=False))) == {"latency", "throughput"}


def test_every_fault_window_is_shaded_and_labelled():
    report = make_report(faults=("catalog-slow", "api-killed"))
    shades = fault_shades(report.windows)
    labelled = [(s.start_s, s.end_s, s.label) for s in shades if s.label]
    assert labelled == [(10, 20, "catalog-slow"), (30, 40, "api-killed")]
    assert [(s.start_s, s.end_s) for s in shades if not s.label] == [(20, 30), (40, 50)]  # recovery, lighter

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    shade(ax, shades)
    spans = sorted(round(p.get_x()) for p in ax.patches)  # one rectangle per shaded span
    assert spans == [10, 20, 30, 40]
    assert [t.get_text().strip() for t in ax.texts] == ["catalog-slow", "api-killed"]


def test_dollar_signs_in_names_never_reach_mathtext():
    assert plain("$\\frac{1}{0}$") == "\\$\\frac{1}{0}\\$"
    report = make_report(faults=("a$b$c",), error_class="$x^{$", service="$\\undefined$", window_s=3,
                         fault_error_rate=0.2)
    assert len(report_plots(report)) == 3  # rendering did not raise on broken mathtext


def test_page_shows_the_postmortem_fingerprint_and_explanations(page):
    report = make_report()
    html = page
    failed = [e for e in report.expectations if not e.held]
    assert failed and failed[0].explanation in html
    for text in ("Timeline of events", "Findings", "Fault catalog-slow (latency) injected", "compose_sha256",
                 "cd" * 32, "sha256:" + "ef" * 32, "2.47.0", "2.12.0", "3.11.7", "seed"):
        assert text in html, text
