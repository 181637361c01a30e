"""``report.md``: a short summary fit to paste as a pull-request comment, rendered from the
:class:`Report` with Jinja2.

It holds a status line, the expectations table (with the explanation of each failed one), the
windows table and, when they fit, the faults table, the steady state, the timeline and the
container logs (a relative link to each ``logs/<container>.log`` saved in the run directory, its
size, whether it was cut, and the containers whose logs could not be saved). It never
exceeds :data:`MAX_LINES` lines: for a long run the optional sections go first, then rows of the
windows and expectations tables (failed expectations are kept first), each cut replaced by one
note line pointing at ``report.html`` / ``report.json``.

Every string from a scenario or a service goes through the ``md`` filter, which escapes what
would break a table cell or inject markup (HTML included: GitHub renders inline HTML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from harness.report.formats import report_format
from harness.report.model import Report
from harness.report.template_env import template_environment

MAX_LINES = 60
"""report.md never has more lines than this (GitHub comments stay readable)."""

_ENV = template_environment(keep_trailing_newline=True, autoescape=False)


def md_escape(text: object) -> str:
    """Escape characters that would break a Markdown table cell or inject markup."""
    out = str(text)
    for ch in ("\\", "|", "`", "*", "_", "<", ">", "[", "]"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r", " ").replace("\n", " ")


def num(value: float | None) -> str:
    """A number for a table cell: ``–`` for None, 3 significant digits below 100."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:.3g}"


def code_span(text: object) -> str:
    """Text for inside a Markdown code span: no backtick can close it, no pipe can split a cell."""
    return str(text).replace("`", "'").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def kib(size_bytes: int) -> str:
    """A file size in KiB for a report: ``12.3 KiB`` (one decimal)."""
    return f"{size_bytes / 1024:,.1f} KiB"


def link_target(path: str) -> str:
    """A relative path made safe as a Markdown or HTML link target: everything but letters,
    digits, ``/``, ``_``, ``.``, ``-`` and ``~`` percent-encoded (no space, parenthesis or quote
    can end the link)."""
    return quote(str(path), safe="/")


_ENV.filters["md"] = md_escape
_ENV.filters["code"] = code_span
_ENV.filters["link"] = link_target
_ENV.filters["errors"] = lambda errors: ", ".join(f"{k} {v}" for k, v in errors.items())
_ENV.globals.update(num=num, kib=kib, pct=lambda x: f"{x * 100:.2f}%")


@dataclass(frozen=True)
class _Budget:
    """What one rendering includes."""

    expectations: int
    windows: int
    explanations: int
    faults: bool = True
    steady: bool = True
    timeline: bool = True
    logs: bool = True


def warm_up() -> None:
    """Compile the template (Jinja2 caches it), as :func:`harness.report.warm_up` asks."""
    _ENV.get_template("report.md.j2")


def _render(report: Report, budget: _Budget, max_lines: int = MAX_LINES) -> str:
    expectations = sorted(report.expectations, key=lambda e: e.held)  # failed first, stable otherwise
    shown_exp = expectations[: budget.expectations]
    if budget.expectations >= len(expectations):
        shown_exp = list(report.expectations)  # nothing cut: keep the scenario's order
    failed = [e for e in report.expectations if not e.held]
    keep = _window_priority(report)[: budget.windows]
    shown_win = [w for w in report.windows if w.name in keep]
    text = _ENV.get_template("report.md.j2").render(
        r=report,
        max_lines=max_lines,
        expectations=shown_exp,
        hidden_expectations=len(report.expectations) - len(shown_exp),
        explained=failed[: budget.explanations],
        hidden_explanations=max(0, len(failed) - budget.explanations),
        windows=shown_win,
        hidden_windows=len(report.windows) - len(shown_win),
        show_faults=budget.faults,
        show_steady=budget.steady,
        show_timeline=budget.timeline,
        show_logs=budget.logs,
        hidden_sections=[name for name, shown in (("faults", budget.faults), ("steady state", budget.steady),
                                                  ("timeline", budget.timeline), ("container logs", budget.logs))
                         if not shown and _has(report, name)],
    )
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"  # one blank line between blocks


def _has(report: Report, section: str) -> bool:
    return bool({"faults": report.faults, "steady state": report.steady_state, "timeline": report.timeline,
                 "container logs": report.container_logs or report.container_logs_failed}[section])


def _window_priority(report: Report) -> list[str]:
    """Window names, most worth showing first: the baseline, windows an expectation failed in,
    windows with a diagnosis, then the rest in time order."""
    failed = {e.window for e in report.expectations if not e.held}
    ranked = sorted(
        report.windows,
        key=lambda w: (w.kind != "baseline", w.name not in failed, w.diagnosis is None, w.start_s),
    )
    return [w.name for w in ranked]


def _lines(text: str) -> int:
    return len(text.splitlines())


@report_format("md", "report.md", warm_up=warm_up)
def render_markdown(report: Report, max_lines: int = MAX_LINES) -> str:
    """The Markdown text of ``report``, at most ``max_lines`` lines (see the module docstring)."""
    n_exp, n_win = len(report.expectations), len(report.windows)
    n_failed = sum(1 for e in report.expectations if not e.held)
    budget = _Budget(n_exp, n_win, n_failed)
    text = _render(report, budget, max_lines)
    for drop in ("logs", "timeline", "steady", "faults"):
        if _lines(text) <= max_lines:
            return text
        budget = _Budget(**{**budget.__dict__, drop: False})
        text = _render(report, budget, max_lines)
    # still too long: cut explanation bullets, then table rows, largest first, until it fits
    while _lines(text) > max_lines:
        over = _lines(text) - max_lines
        e, w, x = budget.expectations, budget.windows, budget.explanations
        if x > 3:
            x = max(3, x - over)
        elif max(e, w) > 3:
            if e >= w:
                e = max(3, e - over)
            else:
                w = max(3, w - over)
        elif x > 0:
            x -= 1
        elif e > 1 or w > 1:
            e, w = max(1, e - 1), max(1, w - 1)
        else:
            break
        budget = _Budget(e, w, x, False, False, False, False)
        text = _render(report, budget, max_lines)
    if _lines(text) > max_lines:  # a pathological header (cannot happen with one-line fields)
        text = "\n".join(text.splitlines()[: max_lines - 1]) + "\n… (cut to fit; see report.html)\n"
    return text
