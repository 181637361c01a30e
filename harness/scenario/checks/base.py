"""The envelope every expectation shares: what a scenario's ``expectations:`` entry may say,
apart from how it is judged (that is :mod:`harness.checks`, one judge per check of the same
module name).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

MIN_REQUESTS = 20
"""No bound holds on fewer requests than this, whatever the rule of three allows."""


class CheckSpec(BaseModel):
    """Envelope of every expectation.

    Fields:
        check: the registered check name (subclasses narrow it to a Literal with a default).
        name: the expectation's name in reports (default: generated from the parameters).
        window: window selector: ``baseline``, ``fault``, ``recovery``, ``run``,
            ``fault:<fault>``, ``recovery:<fault>``.
        request: narrow to one request name of the mix (where the check uses request metrics).

    Class attributes: ``summary``, one line saying what the check verifies (for docs);
    ``fault_windows_only``, true for checks that only judge fault windows (the scenario must
    select ``fault`` or ``fault:<name>``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    summary: ClassVar[str] = ""
    fault_windows_only: ClassVar[bool] = False

    check: str
    name: str | None = None
    window: str = "fault"
    request: str | None = None

    @property
    def label(self) -> str:
        """The expectation's name in reports."""
        return self.name or self.default_label()

    def default_label(self) -> str:
        """A name built from the parameters when the scenario gives none."""
        return f"{self.check} in {self.window}"


__all__ = ["MIN_REQUESTS", "CheckSpec"]
