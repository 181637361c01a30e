"""Reports: ``report.json`` (the source of truth) and renderings of it (Markdown)."""

from pathlib import Path

from harness.report.build import build_report
from harness.report.markdown import render_markdown
from harness.report.model import Report


def write_reports(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``report.json`` and ``report.md`` into ``out_dir``; return their paths by format."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md"}
    paths["json"].write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    return paths


__all__ = ["Report", "build_report", "render_markdown", "write_reports"]
