"""Plots for the HTML reports, drawn with matplotlib from ``report.json``'s per-second ``series``
and returned as PNG bytes (embedded as ``data:`` URIs, so a report is one self-contained file).

Every plot shares one time axis (seconds from the load's start) and shades every fault window,
labelled with the fault's name; recovery windows get a lighter shade. Only the object-oriented
API is used (``Figure`` + the Agg canvas): no pyplot, no global state, no display needed.

Strings from a scenario or a service (fault, service and error-class names) go into the images
as text only: ``$`` is escaped so matplotlib never parses them as mathtext.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter
from matplotlib.transforms import blended_transform_factory

from harness.report.model import Report, WindowReport

WIDTH_IN = 12.0
LEGEND_X = 0.855
"""Right edge of the plotting area (figure fraction); legends go to its right."""
PANEL_HEIGHT_IN = 2.9
DPI = 100
FAULT_COLOURS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#ff7f0e", "#17becf")
ERROR_COLOURS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
LATENCY_LINES = (("p50_ms", "p50", "#2ca02c"), ("p95_ms", "p95", "#1f77b4"), ("p99_ms", "p99", "#d62728"))
LATENCY_METRICS = {"p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"}


def plain(text: object) -> str:
    """``text`` for a matplotlib label: dollar signs escaped (no mathtext), one line, bounded."""
    out = " ".join(str(text).split()).replace("$", r"\$")
    return out if len(out) <= 60 else out[:59] + "…"


@dataclass(frozen=True)
class Shade:
    """A span to shade on the time axis: ``label`` is drawn at the top of the span."""

    start_s: float
    end_s: float
    label: str
    colour: str
    alpha: float
    hatch: str | None = None


def fault_shades(windows: Sequence[WindowReport], hatch: str | None = None, prefix: str = "") -> list[Shade]:
    """One shade per fault window (strong, labelled) and per recovery window (light, unlabelled)."""
    colours: dict[str, str] = {}
    out = []
    for w in windows:
        if w.kind == "baseline":
            continue
        fault = w.fault or w.name.split(":", 1)[-1]
        colour = colours.setdefault(fault, FAULT_COLOURS[len(colours) % len(FAULT_COLOURS)])
        if w.kind == "fault":
            out.append(Shade(w.start_s, w.end_s, prefix + fault, colour, 0.16, hatch))
        else:
            out.append(Shade(w.start_s, w.end_s, "", colour, 0.05, hatch))
    return out


def shade(ax: Axes, shades: Sequence[Shade], label_row: int = 0) -> None:
    """Shade and label every span on ``ax`` (labels at the top, inside the axes)."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for s in shades:
        if s.hatch:
            ax.axvspan(s.start_s, s.end_s, facecolor="none", edgecolor=s.colour, alpha=min(1.0, 3 * s.alpha),
                       hatch=s.hatch, lw=0.8, zorder=0)
        else:
            ax.axvspan(s.start_s, s.end_s, color=s.colour, alpha=s.alpha, lw=0, zorder=0)
        if s.label:
            ax.text(s.start_s, 0.98 - 0.09 * label_row, " " + plain(s.label), transform=trans, va="top", ha="left",
                    fontsize=8, color=s.colour, fontweight="bold", clip_on=True, parse_math=False)


def _figure(rows: int, height_in: float = PANEL_HEIGHT_IN) -> tuple[Figure, list[Axes]]:
    """A figure of ``rows`` panels sharing the time axis. Margins are fixed (legends sit in the
    right margin), so the time axes of every plot on a page line up."""
    height = height_in * rows
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.07, right=LEGEND_X, bottom=0.5 / height, top=1 - 0.3 / height, hspace=0.12)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0].tolist()
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.set_axisbelow(True)
    axes[-1].set_xlabel("seconds from the load's start")
    return fig, axes


def _finish(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def warm_up_plots() -> None:
    """Draw and discard a small labelled figure: the first drawing loads the font and
    text-layout caches, which every later plot then shares (see :func:`harness.report.warm_up`)."""
    fig, (ax,) = _figure(1, height_in=1.0)
    ax.plot([0, 1], [0, 1], label="warm-up")
    _legend(ax)
    _finish(fig)


def data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _legend(ax: Axes, **kwargs: object) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        legend = ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False, **kwargs)
        for text in legend.get_texts():
            text.set_parse_math(False)


def _xlim(ax: Axes, report: Report) -> None:
    end = report.load.duration_s if report.load and report.load.duration_s else None
    if end is None and report.series.requests.t_s:
        end = report.series.requests.t_s[-1] + 1
    if end:
        ax.set_xlim(0, end)


def _full_seconds(report: Report) -> int:
    """How many leading seconds of the series to plot: a last second the load only began
    (e.g. 30.0-30.1 s of a 30.1 s load) would show as a false drop to zero."""
    n = len(report.series.requests.t_s)
    if report.load and report.load.duration_s:
        n = min(n, max(1, int(report.load.duration_s)))
    return n


def _points(t_s: Sequence[int], values: Sequence[float | None]) -> tuple[list[float], list[float]]:
    """Plot points at the middle of each second; None becomes NaN (a gap in the line)."""
    return [t + 0.5 for t in t_s], [float("nan") if v is None else float(v) for v in values]


def latency_plot(report: Report) -> bytes | None:
    """p50/p95/p99 per second, log scale when they span more than a decade, with the latency
    expectations drawn as dashed limits over their windows."""
    s = report.series.requests
    if not s.t_s:
        return None
    fig, (ax,) = _figure(1)
    shade(ax, fault_shades(report.windows))
    values = []
    n = _full_seconds(report)
    for key, label, colour in LATENCY_LINES:
        x, y = _points(s.t_s[:n], getattr(s, key)[:n])
        values += [v for v in y if v == v]
        ax.plot(x, y, label=label, color=colour, lw=1.6, marker="o", ms=2.5)
    spans = {w.name: (w.start_s, w.end_s) for w in report.windows}
    if report.totals is not None and report.series.requests.t_s:
        spans["run"] = (0.0, float(report.series.requests.t_s[-1] + 1))
    for e in report.expectations:
        if e.metric in LATENCY_METRICS and e.window in spans:
            lo, hi = spans[e.window]
            colour = "#2ca02c" if e.held else "#d62728"
            ax.hlines(e.threshold, lo, hi, colors=colour, linestyles="--", lw=1.2)
            ax.text(hi, e.threshold, plain(f"{'held' if e.held else 'FAILED'}: {e.name}") + " ",
                    fontsize=7, color=colour, ha="right", va="top", parse_math=False, clip_on=True)
            values.append(e.threshold)
    positive = [v for v in values if v > 0]
    if positive and max(positive) / max(min(positive), 1e-3) > 20:
        ax.set_yscale("log")
        for axis_set in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis_set(LogFormatter(labelOnlyBase=False))  # "100", not mathtext's 10^2 (its parser: ~0.1 s a plot)
    else:
        ax.set_ylim(bottom=0)
    ax.set_ylabel("latency, ms")
    ax.set_title("Latency percentiles per second", loc="left", fontsize=10)
    _legend(ax)
    _xlim(ax, report)
    return _finish(fig)


BAR_WIDTH = 0.9
"""Width of a second's bar of errors (in seconds, the x axis' unit)."""


def _bars(ax: Axes, x: Sequence[float], heights: Sequence[float], bottom: Sequence[float], label: str,
          colour: str) -> None:
    """One error class's bars (``x``: bar centres, s; ``heights`` and ``bottom``: errors/s, one
    per bar, aligned with ``x``), stacked on ``bottom``: the picture of ``ax.bar(x, heights,
    bottom=bottom)``, in a fraction of its time.

    ``ax.bar`` makes, adds and draws one ``Rectangle`` per second (~1 ms each, most of a
    report's plotting time: 300 seconds with a few errors each are 300 bars a class). Here the
    bars that cover a pixel (height not 0) are one ``PolyCollection``: the same rectangles,
    drawn by one call of the Agg renderer. What ``ax.bar`` gives the axes besides is given
    too: every bar's corners to the data limits (the empty ones' as well) and every bottom to
    the sticky edges that stop the autoscale's margin. The collection is the legend's handle
    (a patch of its colour, as a bar is). The PNG is byte for byte the one ``ax.bar`` gives
    (tests/unit/analysis/test_fast_paths.py)."""
    rectangles = []
    corners = []
    for centre, height, base in zip(x, heights, bottom):
        left = centre - BAR_WIDTH / 2  # as ax.bar(align="center") places a bar
        right, top = left + BAR_WIDTH, base + height
        corners += [(left, base), (right, top)]
        if height != 0:
            rectangles.append([(left, base), (left, top), (right, top), (right, base)])
    bars = PolyCollection(rectangles, facecolors=colour, edgecolors="none", linewidths=0, alpha=0.85, label=label)
    ax.add_collection(bars, autolim=False)
    bars.sticky_edges.y.extend(bottom)
    if corners:
        ax.update_datalim(np.array(corners))
    ax.autoscale_view()


def throughput_plot(report: Report) -> bytes | None:
    """Requests per second (top) and failed requests per second stacked by error class (bottom,
    its own scale, so a few errors among many requests still show)."""
    s = report.series.requests
    if not s.t_s:
        return None
    n = _full_seconds(report)
    fig, (top, bottom_ax) = _figure(2, height_in=2.3)
    for ax in (top, bottom_ax):
        shade(ax, fault_shades(report.windows))
    x, y = _points(s.t_s[:n], s.requests[:n])
    top.plot(x, y, label="requests/s", color="#1f77b4", lw=1.6, marker="o", ms=2.5)
    ok = [r - sum(c[i] for c in s.errors.values()) for i, r in enumerate(s.requests[:n])]
    top.plot(x, ok, label="succeeded/s", color="#2ca02c", lw=1.0, ls="--")
    bottom = [0.0] * len(x)
    for i, (cls, counts) in enumerate(sorted(s.errors.items())):
        heights = [float(c) for c in counts[:n]]
        _bars(bottom_ax, x, heights, bottom, label=plain(cls), colour=ERROR_COLOURS[i % len(ERROR_COLOURS)])
        bottom = [b + h for b, h in zip(bottom, heights)]
    if not s.errors:
        bottom_ax.text(0.5, 0.5, "no failed requests", transform=bottom_ax.transAxes, ha="center", va="center",
                       color="#555555")
        bottom_ax.set_ylim(0, 1)
    top.set_ylim(bottom=0)
    bottom_ax.set_ylim(bottom=0)
    top.set_ylabel("requests/s")
    bottom_ax.set_ylabel("errors/s by class")
    top.set_title("Throughput and errors by class", loc="left", fontsize=10)
    _legend(top)
    _legend(bottom_ax)
    _xlim(top, report)
    return _finish(fig)


def containers_plot(report: Report) -> bytes | None:
    """CPU (percent of one core) and memory (MiB) per service, one line per service."""
    services = report.series.containers
    if not services:
        return None
    fig, (cpu, mem) = _figure(2)
    for ax in (cpu, mem):
        shade(ax, fault_shades(report.windows))
    for name, svc in sorted(services.items()):
        x, y = _points(svc.t_s, svc.cpu_pct)
        line = cpu.plot(x, y, label=plain(name), lw=1.3)[0]
        x, y = _points(svc.t_s, svc.mem_mib)
        mem.plot(x, y, label=plain(name), lw=1.3, color=line.get_color())
    cpu.set_ylabel("CPU, % of a core")
    mem.set_ylabel("memory, MiB")
    cpu.set_ylim(bottom=0)
    mem.set_ylim(bottom=0)
    cpu.set_title("Containers: CPU and memory per service", loc="left", fontsize=10)
    _legend(cpu)
    _xlim(cpu, report)
    return _finish(fig)


def _inputs(report: Report, name: str) -> str:
    """Everything plot ``name`` reads from ``report``, as one JSON text: the plot is a function
    of it, so two reports with the same inputs get the same PNG (:data:`DRAWN`)."""
    parts: dict[str, object] = {
        "series": report.series.model_dump(mode="json", include={"containers" if name == "containers" else "requests"}),
        "windows": [w.model_dump(mode="json", include={"name", "kind", "fault", "start_s", "end_s"})
                    for w in report.windows],
        "duration_s": report.load.duration_s if report.load else None,
    }
    if name == "latency":
        parts["totals"] = report.totals is not None
        parts["expectations"] = [[e.name, e.metric, e.window, e.held, e.threshold] for e in report.expectations]
    return json.dumps(parts, sort_keys=True)


class PlotMemo:
    """PNGs already drawn, by plot name and :func:`_inputs`; the last :attr:`KEEP` are kept.

    ``harness run`` draws a provisional report's plots while the stack goes down
    (:mod:`harness.run.report`); the final report then finds them here when its plots' inputs
    are the same, and draws only those that differ. Use it from one thread at a time
    (matplotlib is not thread-safe)."""

    KEEP = 6

    def __init__(self) -> None:
        self._drawn: dict[tuple[str, str], bytes | None] = {}
        self.hits = 0
        """Plots found already drawn (tests and benchmarks read it)."""

    def draw(self, name: str, plot: Callable[[Report], bytes | None], report: Report) -> bytes | None:
        """``plot(report)``, or the PNG drawn before from the same inputs."""
        key = (name, _inputs(report, name))
        if key in self._drawn:
            self.hits += 1
            return self._drawn[key]
        png = plot(report)
        self._drawn[key] = png
        while len(self._drawn) > self.KEEP:
            del self._drawn[next(iter(self._drawn))]
        return png


DRAWN = PlotMemo()
"""The process's memo of drawn plots (see :class:`PlotMemo`)."""

PLOTS: tuple[tuple[str, Callable[[Report], bytes | None]], ...] = (
    ("latency", latency_plot), ("throughput", throughput_plot), ("containers", containers_plot))
"""Every plot of a report, by name, in page order."""


def report_plots(report: Report) -> dict[str, str]:
    """The report's plots as data URIs, by name (``latency``, ``throughput``, ``containers``);
    a plot without data is left out. Plots already drawn from the same inputs are reused
    (:data:`DRAWN`)."""
    out = {}
    for name, plot in PLOTS:
        png = DRAWN.draw(name, plot, report)
        if png:
            out[name] = data_uri(png)
    return out
