"""Plots of a sweep for ``sweep.html``, drawn with matplotlib's object-oriented API (no pyplot) and
embedded as PNG ``data:`` URIs (see :mod:`harness.report.plots`).

- **One varied parameter** (a grid with one ``--vary``, or a search): per expectation, a *curve*:
  the observed value against the parameter, each point coloured by its verdict (held green,
  failed red, inconclusive amber), the threshold as a dashed line (a horizontal one when every
  cell has the same threshold), and the breaking point shaded: a band between the last value at
  which the expectation held and the first at which it failed (for a search's own expectation,
  :attr:`SearchResult.holds_at` / :attr:`SearchResult.breaks_at`; a lone line when only one is
  known).
- **Two**: per expectation, a *heat map*: the first parameter's values across, the second's up,
  each cell coloured by its verdict with the observed value written in it (grey: no cell, or the
  cell did not judge the expectation: its status is written instead, e.g. ``error``).
- **More than two**: no plot (the page says so; the table shows every cell).

Non-numeric values make a categorical axis (in the order given). The data of each plot
(:class:`Curve`, :class:`Heat`) is computed apart from its drawing, so it can be checked as data.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from harness.report.plots import _finish, data_uri, plain
from harness.report.sweep.cells import Axis, Change, axis_of, changes, fmt_observed, fmt_value, verdict_in
from harness.report.sweep.model import Sweep

VERDICT_COLOURS = {"held": "#2ca02c", "failed": "#d62728", "inconclusive": "#e0a000", "absent": "#d0d7de"}
THRESHOLD_COLOUR = "#555555"
BREAK_COLOUR = "#d62728"
MAX_PLOTTED = 2
"""Sweeps with more varied parameters than this get no plot."""


@dataclass(frozen=True)
class CurvePoint:
    """One cell on a curve: its ``x`` position, observed value (None: not measured, not drawn),
    verdict, threshold and the cell's ``index``."""

    x: float
    observed: float | None
    verdict: str
    threshold: float
    index: int


@dataclass(frozen=True)
class Curve:
    """One expectation against one parameter (see the module docstring): the ``axis``, the
    ``points`` in axis order, the ``threshold`` when every cell shares one (else None: each
    point's own is drawn), its ``operator``, and the ``breaks``: the spans marked as breaking
    points (a span with ``lo == hi`` is a line)."""

    expectation: str
    metric: str
    axis: Axis
    points: tuple[CurvePoint, ...]
    threshold: float | None
    operator: str
    breaks: tuple[Change, ...]


def curve_of(sweep: Sweep, expectation: str) -> Curve | None:
    """The curve of ``expectation`` along the sweep's one varied parameter; None when the sweep
    varies other than one parameter or no cell judged the expectation."""
    if len(sweep.varied) != 1:
        return None
    axis = axis_of(sweep, sweep.varied[0].path)
    points = []
    for cell in sweep.cells:
        e = cell.expectation(expectation)
        if e is not None and axis.path in cell.values:
            points.append(CurvePoint(axis.position(cell.values[axis.path]), e.observed, e.verdict, e.threshold,
                                     cell.index))
    if not points:
        return None
    points.sort(key=lambda p: (p.x, p.index))
    thresholds = {p.threshold for p in points}
    first = next(e for c in sweep.cells if (e := c.expectation(expectation)) is not None)
    s = sweep.search
    if s is not None and s.expectation == expectation and (s.holds_at is not None or s.breaks_at is not None):
        lo = s.holds_at if s.holds_at is not None else s.breaks_at
        hi = s.breaks_at if s.breaks_at is not None else s.holds_at
        breaks: tuple[Change, ...] = (Change(float(lo), float(hi), s.breaks_at is not None),)  # type: ignore[arg-type]
    else:
        breaks = tuple(changes([(p.x, p.verdict) for p in points]))
    return Curve(expectation, first.metric, axis, tuple(points), thresholds.pop() if len(thresholds) == 1 else None,
                 first.operator, breaks)


@dataclass(frozen=True)
class Heat:
    """One expectation over two parameters: ``x`` (the first varied parameter, across) and ``y``
    (the second, up); ``verdicts[row][col]`` and ``texts[row][col]`` (the observed value) for
    ``y.values[row]`` and ``x.values[col]``: ``absent`` where no cell judged it, with the cell's
    status as its text (empty where there is no cell)."""

    expectation: str
    metric: str
    x: Axis
    y: Axis
    verdicts: tuple[tuple[str, ...], ...]
    texts: tuple[tuple[str, ...], ...]


def heat_of(sweep: Sweep, expectation: str) -> Heat | None:
    """The heat map of ``expectation`` over the sweep's two varied parameters; None when the sweep
    varies other than two parameters or no cell judged the expectation. When cells repeat a pair
    of values, the last one shown wins."""
    if len(sweep.varied) != 2:
        return None
    x, y = axis_of(sweep, sweep.varied[0].path), axis_of(sweep, sweep.varied[1].path)
    verdicts = [["absent"] * len(x.values) for _ in y.values]
    texts = [[""] * len(x.values) for _ in y.values]
    metric = None
    for cell in sweep.cells:
        if x.path not in cell.values or y.path not in cell.values:
            continue
        col, row = x.index(cell.values[x.path]), y.index(cell.values[y.path])
        e = cell.expectation(expectation)
        verdicts[row][col] = verdict_in(cell, expectation)
        texts[row][col] = cell.status if e is None else fmt_observed(e.observed)
        metric = metric or (e.metric if e is not None else None)
    if metric is None:
        return None
    return Heat(expectation, metric, x, y, tuple(map(tuple, verdicts)), tuple(map(tuple, texts)))


def _figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def fmt_value_at(axis: Axis, x: float) -> str:
    """The value at position ``x`` of ``axis``, for a label (a categorical axis' own value)."""
    if axis.numeric or not 0 <= x < len(axis.values) or x != int(x):
        return f"{x:g}"
    return fmt_value(axis.values[int(x)])


def draw_curve(curve: Curve) -> Figure:
    """The figure of ``curve``: one axes with the observed line, the points by verdict, the
    threshold (a dashed line), and each breaking point (a red band, or a line)."""
    fig = _figure(9.0, 3.4)
    fig.subplots_adjust(left=0.09, right=0.78, bottom=0.17, top=0.88)
    ax = fig.add_subplot()
    ax.grid(True, alpha=0.3)
    ax.set_axisbelow(True)
    drawn = [p for p in curve.points if p.observed is not None]
    ax.plot([p.x for p in drawn], [p.observed for p in drawn], color="#8c8c8c", lw=1.0, zorder=1)
    for verdict in ("held", "failed", "inconclusive"):
        mine = [p for p in drawn if p.verdict == verdict]
        if mine:
            ax.scatter([p.x for p in mine], [p.observed for p in mine], s=36, color=VERDICT_COLOURS[verdict],
                       label=verdict, zorder=3, edgecolors="white", linewidths=0.6)
    label = plain(f"threshold ({curve.operator} {fmt_observed(curve.threshold)})" if curve.threshold is not None
                  else f"threshold ({curve.operator}, per cell)")
    if curve.threshold is not None:
        ax.axhline(curve.threshold, color=THRESHOLD_COLOUR, ls="--", lw=1.2, label=label, zorder=2)
    else:
        ax.plot([p.x for p in curve.points], [p.threshold for p in curve.points], color=THRESHOLD_COLOUR, ls="--",
                lw=1.2, label=label, zorder=2)
    for b in curve.breaks:
        span = fmt_value_at(curve.axis, b.lo) + ("" if b.lo == b.hi else "–" + fmt_value_at(curve.axis, b.hi))
        what = plain(f"{'breaking point' if b.breaks else 'holds again'} ({span})")
        if b.lo == b.hi:
            ax.axvline(b.lo, color=BREAK_COLOUR if b.breaks else VERDICT_COLOURS["held"], lw=1.5, label=what)
        else:
            ax.axvspan(b.lo, b.hi, color=BREAK_COLOUR if b.breaks else VERDICT_COLOURS["held"], alpha=0.15, lw=0,
                       label=what, zorder=0)
    if not curve.axis.numeric:
        ax.set_xticks(range(len(curve.axis.values)), [plain(v) for v in curve.axis.labels()])
    ax.set_xlabel(plain(curve.axis.path))
    ax.set_ylabel(plain(curve.metric))
    ax.set_title(plain(curve.expectation), loc="left", fontsize=10)
    _legend(ax)
    return fig


def draw_heat(heat: Heat) -> Figure:
    """The figure of ``heat``: a grid of cells coloured by verdict, the observed value in each."""
    nx, ny = len(heat.x.values), len(heat.y.values)
    width, height = min(12.0, 3.6 + 0.9 * nx), min(9.0, 1.3 + 0.5 * ny)
    fig = _figure(width, height)
    fig.subplots_adjust(left=1.1 / width, right=1 - 1.7 / width, bottom=0.7 / height, top=1 - 0.35 / height)
    ax = fig.add_subplot()
    colours = [[to_rgb(VERDICT_COLOURS[v]) for v in row] for row in heat.verdicts]
    ax.imshow(colours, origin="lower", aspect="auto", interpolation="nearest")
    for row in range(ny):
        for col in range(nx):
            if heat.texts[row][col]:
                ax.text(col, row, plain(heat.texts[row][col]), ha="center", va="center", fontsize=8,
                        color="#1f2328" if heat.verdicts[row][col] == "absent" else "white", fontweight="bold",
                        parse_math=False)
    ax.set_xticks(range(nx), [plain(v) for v in heat.x.labels()])
    ax.set_yticks(range(ny), [plain(v) for v in heat.y.labels()])
    ax.set_xlabel(plain(heat.x.path))
    ax.set_ylabel(plain(heat.y.path))
    ax.set_title(plain(f"{heat.expectation} ({heat.metric})"), loc="left", fontsize=10)
    for verdict in ("held", "failed", "inconclusive", "absent"):
        ax.scatter([], [], marker="s", s=60, color=VERDICT_COLOURS[verdict],
                   label="not judged" if verdict == "absent" else verdict)
    _legend(ax)
    return fig


def _legend(ax) -> None:  # noqa: ANN001
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        for text in legend.get_texts():
            text.set_parse_math(False)


@dataclass(frozen=True)
class SweepPlot:
    """A drawn plot: ``kind`` (``curve`` or ``heat``), the ``expectation`` and the PNG ``uri``."""

    kind: str
    expectation: str
    uri: str


def sweep_plots(sweep: Sweep) -> list[SweepPlot]:
    """Every plot of the sweep, one per expectation (in first-seen order): curves for one varied
    parameter, heat maps for two, none for more."""
    out = []
    for name in sweep.expectation_names():
        curve, heat = curve_of(sweep, name), heat_of(sweep, name)
        if curve is not None:
            out.append(SweepPlot("curve", name, data_uri(_finish(draw_curve(curve)))))
        elif heat is not None:
            out.append(SweepPlot("heat", name, data_uri(_finish(draw_heat(heat)))))
    return out
