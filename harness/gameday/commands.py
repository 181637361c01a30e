"""An operator's commands: one line of text in, one command out (pure; nothing is touched).

The commands (one a line, from a terminal or a pipe)::

    inject NAME                  a fault the scenario declares (its at_s/duration_s are ignored)
    inject KIND key=value...     an ad-hoc fault, validated like a scenario's (name=... names it)
    revert NAME                  an active fault
    note TEXT                    a note into the journal and the report's timeline
    status                       active faults, rps / errors / p99, the windows so far
    end                          revert everything, stop the load, tear down, report

Blank lines and lines starting with ``#`` are skipped (a script may carry comments). A line
that is none of these raises :class:`CommandError`, whose message is one line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

import yaml

MAX_LINE_CHARS = 4096
"""A longer line is refused (a note is a sentence, not a file)."""

VERBS = ("inject", "revert", "note", "status", "end")
USAGE = "commands: inject NAME | inject KIND key=value... | revert NAME | note TEXT | status | end"


class CommandError(ValueError):
    """A line that is not a valid command; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class Inject:
    """``inject NAME`` (``params`` empty: a declared fault) or ``inject KIND key=value...``
    (``name`` is the kind, ``params`` the parameters, values parsed as YAML scalars or flow
    lists: ``latency_ms=800``, ``stream=upstream``, ``services=[api,worker]``; words split as a
    shell does, so a value with spaces is quoted: ``'services=[api, worker]'``)."""

    name: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def ad_hoc(self) -> bool:
        """True for ``inject KIND key=value...``."""
        return bool(self.params)


@dataclass(frozen=True)
class Revert:
    """``revert NAME``: revert the active fault ``name``."""

    name: str


@dataclass(frozen=True)
class Note:
    """``note TEXT``: ``text`` as typed (stripped, never empty)."""

    text: str


@dataclass(frozen=True)
class Status:
    """``status``: print the game's state."""


@dataclass(frozen=True)
class End:
    """``end``: end the game day."""


Command = Inject | Revert | Note | Status | End
"""One parsed command."""


def parse(line: str) -> Command | None:
    """Parse one line.

    Returns:
        The command, or None for a blank line or a ``#`` comment.

    Raises:
        CommandError: an unknown verb, missing or extra arguments, a malformed ``key=value``,
            a line longer than :data:`MAX_LINE_CHARS`; the message is one line.
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if len(text) > MAX_LINE_CHARS:
        raise CommandError(f"line longer than {MAX_LINE_CHARS} characters")
    verb, _, rest = text.partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb == "note":
        if not rest:
            raise CommandError("note needs a text: note TEXT")
        return Note(_one_line(rest))
    if verb in ("status", "end"):
        if rest:
            raise CommandError(f"{verb} takes no argument (got {_shorten(rest)!r})")
        return Status() if verb == "status" else End()
    if verb == "revert":
        words = rest.split()
        if len(words) != 1:
            raise CommandError("revert takes one fault name: revert NAME")
        return Revert(words[0])
    if verb == "inject":
        return _inject(rest)
    raise CommandError(f"unknown command {_shorten(verb)!r}; {USAGE}")


def _inject(rest: str) -> Inject:
    """``inject`` with its arguments ``rest``. Raises CommandError."""
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise CommandError(f"inject: {exc}") from None
    if not words:
        raise CommandError("inject needs a fault: inject NAME, or inject KIND key=value...")
    head, pairs = words[0], words[1:]
    if "=" in head:
        raise CommandError(f"inject: {_shorten(head)!r} is not a fault name or kind; inject KIND key=value...")
    params: dict[str, object] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise CommandError(f"inject {head}: {_shorten(pair)!r} is not key=value")
        if key in params:
            raise CommandError(f"inject {head}: {key} given twice")
        params[key] = _value(head, key, value)
    return Inject(head, params)


def _value(kind: str, key: str, text: str) -> object:
    """A parameter's value: a YAML scalar or flow list/map (``800``, ``true``, ``[a, b]``),
    the text itself when it is no valid YAML. Raises CommandError for an empty value."""
    if text == "":
        raise CommandError(f"inject {kind}: {key}= has no value")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _one_line(text: str) -> str:
    """``text`` with control characters (a pasted escape sequence) replaced by spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


def _shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (an echoed mistake stays one short line)."""
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
