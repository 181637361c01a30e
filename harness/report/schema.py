"""JSON Schemas (draft 2020-12, from pydantic) of ``report.json`` and of a scenario file, printed
by ``harness schema report`` / ``harness schema scenario``.

The report schema describes what a run writes (serialization mode), for consumers of
``report.json``. The scenario schema describes what a scenario file may hold (validation mode),
for editors: e.g. with the YAML language server, put
``# yaml-language-server: $schema=./scenario.schema.json`` at the top of a scenario after
``harness schema scenario > scenario.schema.json``. Fault kinds registered by plugins are
included, since the schema is built from the live registry.
"""

from __future__ import annotations

from typing import Any, Literal

from harness.report.model import REPORT_SCHEMA_VERSION, Report

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TEXT_FORMS = {"Threshold": "p99_ms < 800 in fault", "AbortCondition": "error_rate > 0.5 for 10 s"}
"""Models the loader also accepts written as one string."""


def _one_of_to_any_of(node: Any) -> None:
    """pydantic writes discriminated unions as ``oneOf``; the discriminator (``check``, ``kind``)
    has a default in some members, so a plain mapping can match several and strict ``oneOf``
    validators would reject it. ``anyOf`` says what the loader does."""
    if isinstance(node, dict):
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
            node.pop("discriminator", None)
        for value in node.values():
            _one_of_to_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _one_of_to_any_of(value)


def report_schema() -> dict[str, Any]:
    """The JSON Schema of ``report.json`` (schema_version :data:`REPORT_SCHEMA_VERSION`)."""
    schema = Report.model_json_schema(mode="serialization")
    schema["title"] = f"harness report.json (schema_version {REPORT_SCHEMA_VERSION})"
    return {"$schema": DIALECT, **schema}


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (format version 1), for editors and validators."""
    from harness.scenario.models import Scenario

    schema = Scenario.model_json_schema(mode="validation")
    schema.get("properties", {}).pop("source_path", None)  # set by the loader, not by authors
    defs = schema.get("$defs", {})
    for name, example in TEXT_FORMS.items():
        if name in defs:  # the loader also reads these as one string
            defs[name] = {"anyOf": [defs[name], {"type": "string", "description": f"shorthand, e.g. {example!r}"}]}
    _one_of_to_any_of(schema)
    schema["title"] = "harness scenario (version 1)"
    return {"$schema": DIALECT, **schema}


def schema_for(kind: Literal["report", "scenario"]) -> dict[str, Any]:
    """The schema named ``kind``."""
    return report_schema() if kind == "report" else scenario_schema()
