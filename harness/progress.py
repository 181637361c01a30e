"""Live progress on the terminal: phase, elapsed/total time, current RPS, error rate, requests in
flight (and the oldest one's age), active faults.

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

    def tick(self, elapsed_s: float, total_s: float, rps: float, error_rate: float, active: list[str],
             in_flight: int = 0, oldest_in_flight_s: float | None = None) -> None:
        """Update the live line with the load's state.

        Args:
            elapsed_s: seconds since the load's t0; total_s: the load's duration, seconds.
            rps: requests per second that ended recently; error_rate: their error fraction (0..1).
            active: names of the faults active now.
            in_flight: requests sent and not answered yet (they count in ``rps`` and
                ``error_rate`` only once they end: a hung target shows here first).
            oldest_in_flight_s: age in seconds of the oldest of them (None: none in flight).
        """
        self.show(self.line(elapsed_s, total_s, rps, error_rate, active, in_flight, oldest_in_flight_s))

    def show(self, line: str, refresh: bool = False) -> None:
        """Show ``line`` as the live line (on a terminal; elsewhere printed every
        :data:`PLAIN_EVERY_S` seconds at most); ``refresh``: redraw it now rather than at the
        next of the live display's 4 refreshes a second (a key typed shows at once)."""
        if self.live:
            self.live.update(Text(line), refresh=refresh)
        elif time.monotonic() - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = time.monotonic()
            self.console.print(line, highlight=False, soft_wrap=True)

    def line(self, elapsed_s: float, total_s: float, rps: float, error_rate: float, active: list[str],
             in_flight: int = 0, oldest_in_flight_s: float | None = None) -> str:
        """The live line :meth:`tick` shows (same arguments), e.g. ``load running  12.3/60 s |
        250.0 rps | errors   0.0% | in flight 12 (oldest 4.1 s) | active faults: none``."""
        faults = ", ".join(active) if active else "none"
        oldest = f" (oldest {oldest_in_flight_s:.1f} s)" if in_flight and oldest_in_flight_s is not None else ""
        return (
            f"{self._phase} {elapsed_s:5.1f}/{total_s:.0f} s | {rps:7.1f} rps | "
            f"errors {error_rate * 100:5.1f}% | in flight {in_flight}{oldest} | active faults: {faults}"
        )
