"""Renderings of a :class:`~harness.compare.core.Comparison`: ``compare.md`` (a PR comment),
``compare.html`` (self-contained, with the overlay plot) and ``compare.json``.

The overlay plot puts both runs on one time axis (seconds from each load's start): p50 and p99
per second on top, failed requests per second below, BEFORE in blue and AFTER in orange, fault
windows shaded (BEFORE's; AFTER's are hatched on top when they differ by more than half a
second).
"""

from __future__ import annotations

from pathlib import Path

from harness.compare.core import SIGNIFICANCE_METRICS, Comparison, MetricChange
from harness.report.files import write_files
from harness.report.html import ENV
from harness.report.markdown import code_span, md_escape
from harness.report.model import Report
from harness.report.plots import _figure, _finish, _legend, _points, data_uri, fault_shades, shade

BEFORE_COLOUR = "#1f77b4"
AFTER_COLOUR = "#ff7f0e"
MD_MAX_ROWS = 30
KEY_METRICS = ("rps", "error_rate", "p50_ms", "p95_ms", "p99_ms")


def _same_windows(before: Report, after: Report) -> bool:
    b = [(w.name, w.start_s, w.end_s) for w in before.windows if w.kind == "fault"]
    a = [(w.name, w.start_s, w.end_s) for w in after.windows if w.kind == "fault"]
    return [n for n, *_ in b] == [n for n, *_ in a] and all(
        abs(x[1] - y[1]) <= 0.5 and abs(x[2] - y[2]) <= 0.5 for x, y in zip(b, a))


def overlay_plot(before: Report, after: Report) -> bytes | None:
    """Both runs' latency (p50, p99) and errors per second on one time axis, faults shaded."""
    if not before.series.requests.t_s and not after.series.requests.t_s:
        return None
    fig, (lat, err) = _figure(2, height_in=2.8)
    same = _same_windows(before, after)
    shades = fault_shades(before.windows, prefix="" if same else "before: ")
    if not same:
        shades += fault_shades(after.windows, hatch="//", prefix="after: ")
    for ax in (lat, err):
        shade(ax, shades)
    values = []
    ends = []
    for label, report, colour in (("before", before, BEFORE_COLOUR), ("after", after, AFTER_COLOUR)):
        s = report.series.requests
        n = len(s.t_s)
        if report.load and report.load.duration_s:
            n = min(n, max(1, int(report.load.duration_s)))
            ends.append(report.load.duration_s)
        x, p99 = _points(s.t_s[:n], s.p99_ms[:n])
        _, p50 = _points(s.t_s[:n], s.p50_ms[:n])
        lat.plot(x, p99, color=colour, lw=1.8, marker="o", ms=2.5, label=f"{label} p99")
        lat.plot(x, p50, color=colour, lw=1.0, ls="--", label=f"{label} p50")
        values += [v for v in p99 + p50 if v == v and v > 0]
        errors = [sum(c[i] for c in s.errors.values()) for i in range(n)]
        err.plot(x, errors, color=colour, lw=1.6, marker="o", ms=2.5, label=f"{label} errors/s",
                 drawstyle="steps-mid")
    if values and max(values) / max(min(values), 1e-3) > 20:
        lat.set_yscale("log")
    else:
        lat.set_ylim(bottom=0)
    err.set_ylim(bottom=0)
    lat.set_ylabel("latency, ms")
    err.set_ylabel("failed requests/s")
    lat.set_title("Before vs after: latency and errors per second", loc="left", fontsize=10)
    _legend(lat)
    _legend(err)
    if ends:
        lat.set_xlim(0, max(ends))
    return _finish(fig)


def fmt_value(metric: str, value: float | None) -> str:
    """A metric value for a table."""
    if value is None:
        return "–"
    if metric in ("error_rate", "success_rate"):
        return f"{value * 100:.2f}%"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def fmt_delta(m: MetricChange) -> str:
    """The delta with its sign, in the metric's unit."""
    if m.delta is None:
        return "–"
    if m.metric in ("error_rate", "success_rate"):
        return f"{m.delta * 100:+.2f} pp"
    return f"{m.delta:+,.0f}" if abs(m.delta) >= 100 else f"{m.delta:+.3g}"


def fmt_relative(m: MetricChange) -> str:
    """The relative change in percent."""
    return "–" if m.relative is None else f"{m.relative:+.1%}"


def fmt_ci(m: MetricChange) -> str:
    """The bootstrap interval of the difference (after - before) of the resampled statistic."""
    if m.ci_low is None or m.ci_high is None:
        return "–"
    if m.metric in ("error_rate", "success_rate"):
        return f"[{m.ci_low * 100:+.2f}, {m.ci_high * 100:+.2f}] pp"
    return f"[{m.ci_low:+.3g}, {m.ci_high:+.3g}]"


def fmt_significance(m: MetricChange) -> str:
    """``yes (p=…)``, ``no (p=…)`` or ``n/a``."""
    if m.significant is None:
        return "n/a"
    p = "" if m.p is None else (" (p<0.001)" if m.p < 0.001 else f" (p={m.p:.3f})")
    return ("yes" if m.significant else "no") + p


ENV.globals.update(series_metrics=sorted(SIGNIFICANCE_METRICS), fmt_value=fmt_value, fmt_delta=fmt_delta, fmt_relative=fmt_relative, fmt_ci=fmt_ci,
                   fmt_significance=fmt_significance)


def _md_rows(c: Comparison) -> tuple[list[MetricChange], int]:
    """Rows for compare.md: gated or regressed first, then significant, then the key metrics;
    at most :data:`MD_MAX_ROWS`."""
    ranked = sorted(
        (m for m in c.metrics if m.metric in KEY_METRICS or m.limit or m.regressed),
        key=lambda m: (not m.regressed, not m.significant, m.limit is None),
    )
    order = {id(m): i for i, m in enumerate(c.metrics)}
    shown = sorted(ranked[:MD_MAX_ROWS], key=lambda m: order[id(m)])
    return shown, len(ranked) - len(shown)


def render_compare_md(c: Comparison) -> str:
    """compare.md: outcome, reasons, flipped verdicts, and the metric table."""
    label = {"ok": "OK (no regression)", "regressed": "REGRESSED", "inconclusive": "INCONCLUSIVE"}[c.outcome]
    lines = [f"# Compare {md_escape(c.after.scenario)}: {label}", "",
             f"BEFORE `{code_span(c.before.run_id)}` ({c.before.status}"
             + (f", profile `{code_span(c.before.profile)}`" if c.before.profile else "") + ") → "
             f"AFTER `{code_span(c.after.run_id)}` ({c.after.status}"
             + (f", profile `{code_span(c.after.profile)}`" if c.after.profile else "") + ")"
             + (f" · limits: {', '.join(code_span(x) for x in c.limits)}" if c.limits else " · no metric limits"), ""]
    for reason in c.reasons:
        lines.append(f"- **{md_escape(reason)}**")
    for w in c.warnings:
        lines.append(f"- warning: {md_escape(w)}")
    flipped = c.flipped
    if flipped:
        lines += ["", "## Flipped verdicts", "", "| expectation | before | after |", "|---|---|---|"]
        for v in flipped:
            after = f"**{v.after}**" if v.regression else v.after
            lines.append(f"| {md_escape(v.name)} | {v.before} | {after} |")
    rows, hidden = _md_rows(c)
    lines += ["", "## Metrics", "",
              "| window | metric | before | after | delta | change | 95% CI of delta | significant | gate |",
              "|---|---|---|---|---|---|---|---|---|"]
    for m in rows:
        gate = ("**REGRESSED**" if m.regressed else "ok") if m.limit else ""
        sig = fmt_significance(m)
        lines.append(f"| {md_escape(m.window)} | {m.metric} | {fmt_value(m.metric, m.before)} | "
                     f"{fmt_value(m.metric, m.after)} | {fmt_delta(m)} | {fmt_relative(m)} | {fmt_ci(m)} | "
                     f"{'**' + sig + '**' if m.significant else sig} | {gate} |")
    if hidden:
        lines += ["", f"… {hidden} more rows in compare.html and compare.json"]
    lines += ["", f"_Method: {md_escape(c.method)}_"]
    return "\n".join(lines) + "\n"


def render_compare_html(c: Comparison, before: Report, after: Report) -> str:
    """compare.html: one self-contained page with the overlay plot."""
    png = overlay_plot(before, after)
    return ENV.get_template("compare.html.j2").render(c=c, overlay=data_uri(png) if png else None)


def write_comparison(c: Comparison, before: Report, after: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``compare.json``, ``compare.md`` and ``compare.html`` into ``out_dir`` (created if
    missing), each whole or not at all (everything is rendered first); return their paths by
    format (``json``, ``md``, ``html``).

    Raises:
        harness.report.ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    texts = {"json": c.model_dump_json(indent=2) + "\n", "md": render_compare_md(c),
             "html": render_compare_html(c, before, after)}
    written = write_files(out_dir, {f"compare.{fmt}": text for fmt, text in texts.items()})
    return {fmt: written[f"compare.{fmt}"] for fmt in texts}
