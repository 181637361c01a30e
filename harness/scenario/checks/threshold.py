"""The ``threshold`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.threshold`.
"""

from __future__ import annotations

import operator
import re
import typing
from typing import Any, Literal

from pydantic import Field, model_validator

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec

Metric = Literal[
    "requests",
    "rps",
    "error_rate",
    "success_rate",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "mean_ms",
]
"""Window metrics a threshold can name (see ``harness.analysis.metrics.WindowMetrics``)."""

METRICS: tuple[str, ...] = typing.get_args(Metric)
"""The names of :data:`Metric`, in order."""

OPERATORS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
"""Each operator a threshold may be written with -> the field that holds its bound."""

COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
"""Each operator -> its comparison ``(observed, bound) -> bool`` (thresholds, steady state, abort conditions)."""

THRESHOLD_TEXT = re.compile(
    r"^\s*(?P<metric>[a-z0-9_]+)\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+0-9.eE]+)\s*(?:in\s+(?P<window>\S+))?\s*$"
)
"""A threshold written as one string: ``"p99_ms < 800 in fault"``."""


@register_check_spec
class Threshold(CheckSpec):
    """A bound on one window metric: ``{window: fault, metric: p99_ms, "<": 800}``.

    Also written as a string: ``"p99_ms < 800 in fault"`` (``in WINDOW`` optional, default
    ``run``). Exactly one operator of ``<``, ``<=``, ``>``, ``>=``. ``request`` narrows the metric
    to one request name. A selector matching several windows yields one verdict per window.

    Evidence: on a fault or recovery window, the fault's effect (the verdict is inconclusive
    without it); the number of requests measured, which must reach
    :func:`harness.checks.base.needed_requests` for a bound to hold.
    """

    summary = "A plain bound on a window metric (error_rate, p99_ms, rps, ...)."

    check: Literal["threshold"] = "threshold"
    window: str = "run"
    metric: Metric
    lt: float | None = Field(default=None, alias="<")
    le: float | None = Field(default=None, alias="<=")
    gt: float | None = Field(default=None, alias=">")
    ge: float | None = Field(default=None, alias=">=")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            match = THRESHOLD_TEXT.match(data)
            if not match:
                raise ValueError(f"cannot read threshold {data!r}; write it like 'p99_ms < 800 in fault'")
            parsed: dict[str, Any] = {"metric": match["metric"], match["op"]: match["value"]}
            if match["window"]:
                parsed["window"] = match["window"]
            return parsed
        return data

    @model_validator(mode="after")
    def _one_operator(self) -> "Threshold":
        given = [op for op, attr in OPERATORS.items() if getattr(self, attr) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one operator of <, <=, >, >= (got {len(given)})")
        return self

    @property
    def operator(self) -> str:
        """The comparison, as written (``<``, ``<=``, ``>``, ``>=``)."""
        return next(op for op, attr in OPERATORS.items() if getattr(self, attr) is not None)

    @property
    def limit(self) -> float:
        """The threshold value."""
        return float(getattr(self, OPERATORS[self.operator]))

    def default_label(self) -> str:
        scope = f"[{self.request}] " if self.request else ""
        return f"{scope}{self.metric} {self.operator} {self.limit:g} in {self.window}"

    def holds(self, observed: float) -> bool:
        """Whether ``observed`` satisfies the bound."""
        return COMPARE[self.operator](observed, self.limit)
