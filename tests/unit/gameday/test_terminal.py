"""Typing under the live view: the line editor's keys, keys read from a real pseudo-terminal,
and the terminal's settings put back."""

from __future__ import annotations

import os
import pty
import queue
import termios
import threading

from harness.gameday.terminal import CbreakMode, LineEditor, read_keys


def drained(lines: queue.Queue) -> list:
    out = []
    while not lines.empty():
        out.append(lines.get_nowait())
    return out


def test_the_editor_builds_lines_from_keys():
    lines: queue.Queue = queue.Queue()
    editor = LineEditor(lines)
    assert editor.feed("inject catalog-slox\x7fw")
    assert editor.typed == "inject catalog-slow"
    assert editor.feed("\rnote one two\x17three\n")
    assert editor.feed("garbage\x15status\x1b\r")  # Ctrl-U clears; an escape key is dropped
    assert drained(lines) == ["inject catalog-slow\n", "note one three\n", "status\n"]
    assert editor.feed("x\x04") and editor.typed == "x"  # Ctrl-D with text typed: nothing
    assert not editor.feed("\x15\x04")  # on an empty line: the end of the input
    assert drained(lines) == [None]


def test_keys_are_read_from_a_terminal_and_its_loss_ends_the_input():
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    lines: queue.Queue = queue.Queue()
    editor = LineEditor(lines)
    with CbreakMode(slave):
        mode = termios.tcgetattr(slave)
        assert not mode[3] & termios.ICANON and not mode[3] & termios.ECHO
        reader = threading.Thread(target=read_keys, args=(slave, editor), daemon=True)
        reader.start()
        os.write(master, "note café\r".encode())
        assert lines.get(timeout=5) == "note café\n"
        os.write(master, b"end\r")
        assert lines.get(timeout=5) == "end\n"
    assert termios.tcgetattr(slave) == before  # put back
    os.close(master)  # the terminal is lost
    assert lines.get(timeout=5) is None
    reader.join(5)
    os.close(slave)


def test_cbreak_mode_does_nothing_to_what_is_no_terminal(tmp_path):
    with (tmp_path / "f").open("w") as f, CbreakMode(f.fileno()):
        pass


def test_a_game_day_at_a_terminal_reads_keys_in_cbreak_mode_and_puts_the_terminal_back(monkeypatch):
    import io

    from rich.console import Console

    import harness.gameday as gameday
    from harness.scenario import load_scenario
    from tests.unit.run.fakes import QUICKSTART

    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    seen = {}

    def execute(loaded, out_dir, seed, console, strict, phases):
        seen["lflag"] = termios.tcgetattr(slave)[3]
        os.write(master, b"statx\x7fus\r")
        seen["line"] = phases.drive.lines.get(timeout=5)
        seen["typed"] = phases.drive.typed
        return "result"

    monkeypatch.setattr(gameday, "execute", execute)
    console = Console(file=io.StringIO(), force_terminal=True)
    with open(slave, closefd=False) as stream:
        assert gameday.play(load_scenario(QUICKSTART), console=console, stream=stream) == "result"
    assert not seen["lflag"] & termios.ECHO and seen["line"] == "status\n" and seen["typed"] is not None
    assert termios.tcgetattr(slave) == before
    os.close(master)
    os.close(slave)
