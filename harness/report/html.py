"""``report.html``: one self-contained page for a game-day lead, rendered from ``report.json``.

No external asset: the CSS is inline and the plots are PNG ``data:`` URIs (see
:mod:`harness.report.plots`); the page loads no script. Jinja2 runs with autoescape on, so every
string from a scenario or a service (names, explanations, error messages, container names) is
HTML-escaped; nothing is marked safe except the base64 data URIs we generate.

Sections: the verdict and summary; the plots (latency percentiles, throughput and errors by
class, container CPU and memory, every fault window shaded and labelled); the expectations with
held or failed and their explanation; the windows table; the faults (time to detect and recover,
availability); the steady state; the postmortem (impact, timeline of events with what was
observed, findings); the container logs (a relative link to each ``logs/<container>.log`` saved
next to the page, its size, whether it was cut, and the containers whose logs could not be
saved); the environment fingerprint.
"""

from __future__ import annotations

from jinja2 import select_autoescape

from harness import __version__
from harness.report.formats import report_format
from harness.report.markdown import kib, link_target, num
from harness.report.model import Report
from harness.report.plots import report_plots, warm_up_plots
from harness.report.postmortem import build_postmortem
from harness.report.template_env import template_environment

STATUS_LABEL = {"passed": "PASSED", "failed": "FAILED", "inconclusive": "INCONCLUSIVE", "measured": "MEASURED",
                "error": "ERROR", "aborted": "ABORTED", "interrupted": "INTERRUPTED"}

ENV = template_environment(autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True,
                                                      default_for_string=True))
ENV.filters["link"] = link_target
ENV.globals.update(num=num, kib=kib, pct=lambda x: "–" if x is None else f"{x * 100:.2f}%", status_label=STATUS_LABEL,
                   harness_version=__version__)

ENVIRONMENT_ORDER = ("harness", "python", "locust", "toxiproxy", "platform", "compose_sha256", "compose_file")


def fingerprint_rows(report: Report) -> list[tuple[str, str]]:
    """The environment fingerprint as (name, value) rows: versions, compose hash, seed, scenario
    hash and overrides, image ids (one row per service), anything else the run recorded."""
    env = report.environment
    rows: list[tuple[str, str]] = [("seed", str(report.seed)), ("run id", report.run_id),
                                   ("report schema", f"v{report.schema_version}")]
    for key in ENVIRONMENT_ORDER:
        if isinstance(env.get(key), str):
            rows.append((key, env[key]))  # type: ignore[arg-type]
    rows += [("scenario sha256", report.scenario.sha256), ("scenario file", report.scenario.path)]
    if report.scenario.overrides:
        rows.append(("overrides", " ".join(report.scenario.overrides)))
    for key, value in sorted(env.items()):
        if key in ENVIRONMENT_ORDER:
            continue
        if isinstance(value, dict):
            rows += [(f"{key}: {k}", v) for k, v in sorted(value.items())]
        else:
            rows.append((key, value))
    missing = [k for k in ("locust", "compose_sha256", "toxiproxy") if k not in env]
    if missing:
        rows.append(("not recorded", ", ".join(missing)))
    return rows


def warm_up() -> None:
    """Compile the page's template (cached by Jinja2) and draw a throwaway plot (loads fonts)."""
    ENV.get_template("report.html.j2")
    warm_up_plots()


@report_format("html", "report.html", warm_up=warm_up)
def render_html(report: Report) -> str:
    """The HTML page of ``report``."""
    return ENV.get_template("report.html.j2").render(
        r=report,
        plots=report_plots(report),
        pm=build_postmortem(report),
        fingerprint=fingerprint_rows(report),
        failed=[e for e in report.expectations if not e.held],
    )
