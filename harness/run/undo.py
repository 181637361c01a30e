"""A stack of named undo steps, like :class:`contextlib.ExitStack` with names: as a run starts
each thing, it pushes what undoes it; the teardown runs the steps last pushed first (LIFO).

Each step carries two actions: the graceful one (the normal teardown) and the fast one (after a
second Ctrl-C: no waiting; None when the fast teardown skips the step). Running them, and what
happens when one raises, is the teardown's business (:mod:`harness.run.teardown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Action = Callable[[], object]
"""An undo action: called with no argument, its result ignored."""

TeardownStep = tuple[str, Action]
"""A named teardown step, ``(name, call)``; ``teardown.error`` journals the name."""


@dataclass(frozen=True)
class UndoStep:
    """One pushed step: its ``name`` (journalled when it raises), its ``graceful`` action and
    its ``fast`` one (None: the fast teardown skips it)."""

    name: str
    graceful: Action
    fast: Action | None = None


class UndoStack:
    """Undo steps in the order they were pushed; the teardown reads them last first."""

    def __init__(self) -> None:
        self._steps: list[UndoStep] = []

    def push(self, name: str, graceful: Action, fast: Action | None = None) -> None:
        """Push the undo of something just started (or about to be: push before a start that
        may fail half-way, when undoing a half-started thing is safe)."""
        self._steps.append(UndoStep(name, graceful, fast))

    def graceful_steps(self) -> list[TeardownStep]:
        """Every step's graceful action, last pushed first."""
        return [(step.name, step.graceful) for step in reversed(self._steps)]

    def fast_steps(self) -> list[TeardownStep]:
        """The fast actions, last pushed first; steps without one are left out."""
        return [(step.name, step.fast) for step in reversed(self._steps) if step.fast is not None]

    def names(self) -> list[str]:
        """The steps' names in teardown order (last pushed first)."""
        return [step.name for step in reversed(self._steps)]

    def __len__(self) -> int:
        return len(self._steps)
