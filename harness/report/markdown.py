"""``report.md``: a short summary fit to paste as a pull-request comment (status, expectations,
windows, timeline), rendered from the :class:`Report` with Jinja2."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from harness.report.model import Report

_ENV = Environment(loader=PackageLoader("harness.report", "templates"), undefined=StrictUndefined,
                   keep_trailing_newline=True, autoescape=False)


def _md(text: object) -> str:
    """Escape characters that would break a Markdown table cell or inject markup."""
    out = str(text)
    for ch in ("\\", "|", "`", "*", "_", "<", ">", "[", "]"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:.3g}"


_ENV.filters["md"] = _md
_ENV.filters["errors"] = lambda errors: ", ".join(f"{k} {v}" for k, v in errors.items())
_ENV.globals.update(num=_num, pct=lambda x: f"{x * 100:.2f}%")


def render_markdown(report: Report) -> str:
    """The Markdown text of ``report``."""
    return _ENV.get_template("report.md.j2").render(r=report)
