"""Live progress on the terminal: phase, elapsed/total time, current RPS, error rate, active faults.

On a terminal this is a live-updating line (rich); elsewhere (CI logs) a plain line every
``PLAIN_EVERY_S`` seconds and at every phase change.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.text import Text

PLAIN_EVERY_S = 10.0


class Progress:
    """Shows what a run is doing; ``phase()`` on each step, ``tick()`` during the load."""

    def __init__(self, console: Console, scenario: str):
        self.console = console
        self.scenario = scenario
        self.live = Live(Text(""), console=console, refresh_per_second=4, transient=True) if console.is_terminal else None
        self._last_plain = 0.0
        self._phase = ""

    def __enter__(self) -> "Progress":
        if self.live:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.stop()

    def phase(self, name: str) -> None:
        """Announce a phase (printed once, kept above the live line)."""
        self._phase = name
        self.console.print(f"[bold]{self.scenario}[/]: {name}", highlight=False, soft_wrap=True)

    def tick(self, elapsed_s: float, total_s: float, rps: float, error_rate: float, active: list[str]) -> None:
        """Update the live line with the load's state."""
        faults = ", ".join(active) if active else "none"
        line = (
            f"{self._phase} {elapsed_s:5.1f}/{total_s:.0f} s | {rps:7.1f} rps | "
            f"errors {error_rate * 100:5.1f}% | active faults: {faults}"
        )
        if self.live:
            self.live.update(Text(line))
        elif time.monotonic() - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = time.monotonic()
            self.console.print(line, highlight=False, soft_wrap=True)
