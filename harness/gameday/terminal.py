"""Typing commands under a live view: the terminal in cbreak mode, the line being typed kept
here and shown by the live view as its prompt line.

A rich live line redraws itself several times a second; with the terminal echoing the keys
itself, what the operator types would be wiped at each redraw. So when both the input and the
console are terminals, the input is read key by key without the terminal's echo (cbreak mode:
Ctrl-C still sends SIGINT), the line is edited here (Backspace, Ctrl-U clears it, Ctrl-W
deletes a word, Enter sends it, Ctrl-D on an empty line ends the input like the end of a pipe),
and the live view shows it after a ``> ``. The terminal's settings are put back when the game
day ends, whatever ends it.
"""

from __future__ import annotations

import codecs
import os
import queue
import threading

ENTER = ("\r", "\n")
BACKSPACE = ("\x7f", "\b")
CTRL_D, CTRL_U, CTRL_W = "\x04", "\x15", "\x17"


class LineEditor:
    """The line being typed; :meth:`feed` takes keys, finished lines go to ``lines``.

    Args:
        lines: where each line goes when Enter is pressed (with its ``\\n``), and None at the
            end of the input (Ctrl-D on an empty line).
    """

    def __init__(self, lines: queue.Queue[str | None]):
        self.lines = lines
        self._typed: list[str] = []
        self._lock = threading.Lock()

    @property
    def typed(self) -> str:
        """The line typed so far (not sent yet)."""
        with self._lock:
            return "".join(self._typed)

    def feed(self, keys: str) -> bool:
        """Apply ``keys``; returns False once the input ended (Ctrl-D on an empty line)."""
        with self._lock:
            for key in keys:
                if key in ENTER:
                    self.lines.put("".join(self._typed) + "\n")
                    self._typed.clear()
                elif key in BACKSPACE:
                    if self._typed:
                        self._typed.pop()
                elif key == CTRL_U:
                    self._typed.clear()
                elif key == CTRL_W:
                    text = "".join(self._typed).rstrip()
                    self._typed = list(text[: text.rfind(" ") + 1] if " " in text else "")
                elif key == CTRL_D and not self._typed:
                    self.lines.put(None)
                    return False
                elif key.isprintable():
                    self._typed.append(key)
        return True


def read_keys(fd: int, editor: LineEditor) -> None:
    """Read keys from the terminal ``fd`` into ``editor`` until the input ends (Ctrl-D, or the
    terminal is lost: end of file or a read error, then None goes on its queue). For a daemon
    thread."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while chunk := os.read(fd, 1024):
            if not editor.feed(decoder.decode(chunk)):
                return
    except OSError:
        pass
    editor.lines.put(None)


class CbreakMode:
    """``with CbreakMode(fd):`` the terminal ``fd`` without line buffering and echo (signals
    still work), its settings put back at the end; nothing happens when ``fd`` is no terminal."""

    def __init__(self, fd: int):
        self.fd = fd
        self._saved: list | None = None

    def __enter__(self) -> "CbreakMode":
        import termios
        import tty

        try:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
            mode = termios.tcgetattr(self.fd)
            mode[3] &= ~termios.ECHO  # cbreak leaves echo on with some Pythons
            termios.tcsetattr(self.fd, termios.TCSADRAIN, mode)
        except termios.error:
            self._saved = None
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        if self._saved is not None:
            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            except termios.error:  # the terminal is gone
                pass
