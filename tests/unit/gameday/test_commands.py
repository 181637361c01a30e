"""One line into one command: every command, and every kind of bad line as one error line."""

from __future__ import annotations

import pytest

from harness.gameday.commands import MAX_LINE_CHARS, CommandError, End, Inject, Note, Revert, Status, parse


@pytest.mark.parametrize("line, command", [
    ("inject catalog-slow", Inject("catalog-slow")),
    ("  INJECT catalog-slow  \n", Inject("catalog-slow")),
    ("inject latency proxy=catalog latency_ms=800", Inject("latency", {"proxy": "catalog", "latency_ms": 800})),
    ("inject kill service=api count=1 signal=SIGKILL name=one-api",
     Inject("kill", {"service": "api", "count": 1, "signal": "SIGKILL", "name": "one-api"})),
    ("inject partition services=[api,catalog] toxicity=0.5",
     Inject("partition", {"services": ["api", "catalog"], "toxicity": 0.5})),
    ("inject partition 'services=[api, catalog]'", Inject("partition", {"services": ["api", "catalog"]})),
    ("inject latency proxy=catalog note='two words'", Inject("latency", {"proxy": "catalog", "note": "two words"})),
    ("revert catalog-slow", Revert("catalog-slow")),
    ("note the catalog team says: expect 1.5 s", Note("the catalog team says: expect 1.5 s")),
    ("note   spaces   kept inside  ", Note("spaces   kept inside")),
    ("status", Status()),
    ("end", End()),
    ("End\r\n", End()),
])
def test_each_command_parses(line, command):
    assert parse(line) == command


def test_ad_hoc_is_told_from_declared():
    assert parse("inject latency proxy=catalog").ad_hoc and not parse("inject catalog-slow").ad_hoc


@pytest.mark.parametrize("line", ["", "   ", "\n", "# a comment", "   # indented comment"])
def test_blank_lines_and_comments_are_no_command(line):
    assert parse(line) is None


@pytest.mark.parametrize("line, message", [
    ("injct catalog-slow", "unknown command 'injct'"),
    ("rm -rf /", "unknown command 'rm'"),
    ("inject", "inject needs a fault"),
    ("inject proxy=catalog", "is not a fault name or kind"),
    ("inject latency proxy", "'proxy' is not key=value"),
    ("inject latency =3", "'=3' is not key=value"),
    ("inject latency proxy=", "proxy= has no value"),
    ("inject latency a=1 a=2", "a given twice"),
    ("inject latency proxy='catalog", "No closing quotation"),
    ("revert", "revert takes one fault name"),
    ("revert a b", "revert takes one fault name"),
    ("note", "note needs a text"),
    ("status now", "status takes no argument"),
    ("end please", "end takes no argument"),
    ("x" * (MAX_LINE_CHARS + 1), "longer than"),
])
def test_a_bad_line_is_one_error_line(line, message):
    with pytest.raises(CommandError, match=message) as caught:
        parse(line)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_an_echoed_mistake_is_shortened_and_stripped_of_control_characters():
    with pytest.raises(CommandError) as caught:
        parse("\x1b[31mboom" + "x" * 100)
    assert "\x1b" not in str(caught.value) and "…" in str(caught.value)


def test_a_note_keeps_no_control_characters():
    assert parse("note red \x1b[31malert").text == "red  [31malert"
