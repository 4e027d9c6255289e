"""tomlpos: key paths of a TOML text mapped to the lines they are written on."""

from __future__ import annotations

import textwrap
import tomllib

import pytest

from styrhjul.tomlpos import dotted, key_lines, line_of
from styrhjul.workflows import definition_path


def toml(text: str) -> str:
    text = textwrap.dedent(text)
    tomllib.loads(text)  # every sample is valid TOML: the locator runs after the parser
    return text


def test_tables_and_keys() -> None:
    text = toml(
        """\
        top = 1

        [general]
        timezone = "Europe/Stockholm"
        language = "sv"

        [mail]
        transport = "smtp"

        [mail.smtp]
        port = 587
        """
    )
    lines = key_lines(text)
    assert lines[("top",)] == 1
    assert lines[("general",)] == 3
    assert lines[("general", "timezone")] == 4
    assert lines[("general", "language")] == 5
    assert lines[("mail",)] == 7
    assert lines[("mail", "transport")] == 8
    assert lines[("mail", "smtp")] == 10
    assert lines[("mail", "smtp", "port")] == 11


def test_line_of_falls_back_to_nearest_ancestor() -> None:
    text = toml(
        """\
        [mail]
        transport = "smtp"

        [mail.smtp]
        port = 587
        """
    )
    assert line_of(text, ("mail", "smtp", "port")) == 5
    assert line_of(text, ["mail", "smtp", "host"]) == 4  # not written: the table's line
    assert line_of(text, ("mail", "from_name")) == 1
    assert line_of(text, ("database", "url")) is None
    assert line_of(text, ()) is None


def test_header_whitespace_and_trailing_comment() -> None:
    text = toml(
        """\
        [ general ]  # the [general] table
        a = 1
        [ mail . smtp ]   # [[not an array]]
        b = 2
        """
    )
    lines = key_lines(text)
    assert lines[("general",)] == 1
    assert lines[("general", "a")] == 2
    assert lines[("mail", "smtp")] == 3
    assert lines[("mail", "smtp", "b")] == 4


def test_dotted_keys() -> None:
    text = toml(
        """\
        mail.smtp.port = 25
        [general]
        a.b.c = 1
        x . y = 2
        """
    )
    lines = key_lines(text)
    assert lines[("mail", "smtp", "port")] == 1
    assert lines[("general", "a", "b", "c")] == 3
    assert lines[("general", "x", "y")] == 4
    # the intermediate tables of a dotted key are not written anywhere: fall back
    assert line_of(text, ("general", "a", "b")) == 2


def test_quoted_keys() -> None:
    text = toml(
        """\
        "a.b" = 1
        'c d' = 2
        site."google.com" = true
        ["quoted table"]
        "key with = sign" = 3
        [dialogs.'x.y']
        z = 4
        """
    )
    lines = key_lines(text)
    assert lines[("a.b",)] == 1
    assert ("a", "b") not in lines
    assert lines[("c d",)] == 2
    assert lines[("site", "google.com")] == 3
    assert lines[("quoted table",)] == 4
    assert lines[("quoted table", "key with = sign")] == 5
    assert lines[("dialogs", "x.y")] == 6
    assert lines[("dialogs", "x.y", "z")] == 7


def test_arrays_of_tables_count_their_elements() -> None:
    text = toml(
        """\
        [[state]]
        name = "planned"

        [[state]]
        name = "held"
        final = false

        [[transition]]
        trigger = "hold"

        [[state]]
        name = "closed"
        """
    )
    lines = key_lines(text)
    assert lines[("state", 0)] == 1
    assert lines[("state", 0, "name")] == 2
    assert lines[("state", 1)] == 4
    assert lines[("state", 1, "name")] == 5
    assert lines[("state", 1, "final")] == 6
    assert lines[("transition", 0)] == 8
    assert lines[("transition", 0, "trigger")] == 9
    assert lines[("state", 2)] == 11
    assert lines[("state", 2, "name")] == 12
    assert line_of(text, ("state", 1, "title")) == 4
    assert line_of(text, ("state", 3, "name")) is None


def test_array_of_tables_under_a_table() -> None:
    text = toml(
        """\
        [schedule]
        level = "x"

        [[schedule.round]]
        number = 1

        [[schedule.round]]
        number = 2
        """
    )
    lines = key_lines(text)
    assert lines[("schedule",)] == 1
    assert lines[("schedule", "round", 0)] == 4
    assert lines[("schedule", "round", 0, "number")] == 5
    assert lines[("schedule", "round", 1, "number")] == 8


def test_nested_arrays_of_tables_within_first_parent() -> None:
    text = toml(
        """\
        [[area]]
        name = "Norr"

        [[area.unit]]
        name = "Ekskolan"

        [[area.unit]]
        name = "Björkskolan"

        [area.head]
        email = "a@example.se"
        """
    )
    lines = key_lines(text)
    assert lines[("area", 0, "name")] == 2
    assert lines[("area", 0, "unit", 0)] == 4
    assert lines[("area", 0, "unit", 0, "name")] == 5
    assert lines[("area", 0, "unit", 1, "name")] == 8
    assert lines[("area", 0, "head", "email")] == 11


def test_table_inside_array_element() -> None:
    text = toml(
        """\
        [[fruit]]
        name = "apple"
        [fruit.physical]
        color = "red"
        [[fruit]]
        name = "banana"
        [fruit.physical]
        color = "yellow"
        """
    )
    lines = key_lines(text)
    assert lines[("fruit", 0, "physical", "color")] == 4
    assert lines[("fruit", 1, "physical")] == 7
    assert lines[("fruit", 1, "physical", "color")] == 8


def test_nested_array_index_restarts_for_each_parent_element() -> None:
    text = toml(
        """\
        [[area]]
        name = "Norr"
        [[area.unit]]
        name = "Ekskolan"
        [[area.unit]]
        name = "Björkskolan"
        [[area]]
        name = "Syd"
        [[area.unit]]
        name = "Lindskolan"
        """
    )
    assert tomllib.loads(text)["area"][1]["unit"][0]["name"] == "Lindskolan"
    lines = key_lines(text)
    assert lines[("area", 1, "unit", 0)] == 9
    assert line_of(text, ("area", 1, "unit", 0, "name")) == 10


def test_multiline_arrays_are_skipped() -> None:
    text = toml(
        """\
        [schedule]
        slots = [
            "09:00",  # morning [first]
            "10:30",
            # fake = "key inside the array"
            [
                "nested",
            ],
        ]
        after = 1
        inline = { a = 1, b = [1, 2] }
        brackets_in_string = "[not [an [array"
        last = 2
        """
    )
    lines = key_lines(text)
    assert lines[("schedule", "slots")] == 2
    assert ("schedule", "fake") not in lines
    assert lines[("schedule", "after")] == 10
    assert lines[("schedule", "inline")] == 11
    assert line_of(text, ("schedule", "inline", "a")) == 11
    assert lines[("schedule", "brackets_in_string")] == 12
    assert lines[("schedule", "last")] == 13


def test_multiline_array_then_table_header() -> None:
    text = toml(
        """\
        [[transition]]
        source = [
          "planned",
          "preparing",
        ]
        roles = ["secretary"]  # ]
        [[transition]]
        dest = "held"
        """
    )
    lines = key_lines(text)
    assert lines[("transition", 0, "source")] == 2
    assert lines[("transition", 0, "roles")] == 6
    assert lines[("transition", 1)] == 7
    assert lines[("transition", 1, "dest")] == 8


def test_multiline_strings_are_skipped() -> None:
    text = toml(
        '''\
        [a]
        text = """
        fake = 1
        [not_a_table]
        """
        after = 1
        literal = \'\'\'
        [[also_not]]
        other = 2
        \'\'\'
        one_line = """kept on one line"""
        tail = 3
        closing_on_text = """first
        last line"""
        end = 4
        '''
    )
    lines = key_lines(text)
    assert lines[("a", "text")] == 2
    assert ("a", "fake") not in lines
    assert ("not_a_table",) not in lines
    assert lines[("a", "after")] == 6
    assert lines[("a", "literal")] == 7
    assert ("also_not", 0) not in lines
    assert ("a", "other") not in lines
    assert lines[("a", "one_line")] == 11
    assert lines[("a", "tail")] == 12
    assert lines[("a", "closing_on_text")] == 13
    assert lines[("a", "end")] == 15


def test_comments_with_brackets_are_not_headers() -> None:
    text = toml(
        """\
        # [[state]] is an array of tables; [general] is a table
        [[state]]
        # [[state]]
        name = "a"  # see [[transition]]
          # [ignored]
        [[state]]
        name = "b"
        """
    )
    lines = key_lines(text)
    assert lines[("state", 0)] == 2
    assert lines[("state", 0, "name")] == 4
    assert lines[("state", 1)] == 6
    assert lines[("state", 1, "name")] == 7
    assert ("general",) not in lines
    assert ("state", 2) not in lines
    assert ("transition", 0) not in lines


def test_first_occurrence_wins_and_no_keys_in_empty_text() -> None:
    assert key_lines("") == {}
    assert key_lines("# only a comment\n\n") == {}
    assert line_of("", ("a",)) is None


def test_key_lines_against_the_shipped_definition() -> None:
    text = definition_path("dialog_round").read_text(encoding="utf-8")
    lines = key_lines(text)
    numbered = text.splitlines()
    assert numbered[lines[("workflow", "initial")] - 1] == 'initial = "planned"'
    assert numbered[lines[("state", 6, "name")] - 1] == 'name = "cancelled"'
    assert numbered[lines[("transition", 5, "dest")] - 1] == 'dest = "="'
    assert numbered[lines[("step", 6, "key")] - 1] == 'key = "questions"'
    assert numbered[lines[("schedule", "slots")] - 1].startswith("slots = [")
    assert numbered[lines[("schedule", "round", 2, "number")] - 1] == "number = 3"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((), ""),
        (("workflow",), "workflow"),
        (("workflow", "initial"), "workflow.initial"),
        (("transition", 2, "dest"), "transition[2].dest"),
        (("schedule", "round", 0, "number"), "schedule.round[0].number"),
        (("state", 1), "state[1]"),
        (("slots", 0), "slots[0]"),
        ((0,), "[0]"),
        (("a", 1, 2, "b"), "a[1][2].b"),
        (["mail", "smtp", "port"], "mail.smtp.port"),
    ],
)
def test_dotted(path: tuple[str | int, ...], expected: str) -> None:
    assert dotted(path) == expected


@pytest.mark.parametrize(
    "first",
    ['a = 1  # docstrings use """', 'a = \'say """\''],
    ids=["comment", "literal-string"],
)
def test_triple_quote_outside_a_multiline_string(first: str) -> None:
    text = toml(f"{first}\nb = 2\n[t]\nc = 3\n")
    lines = key_lines(text)
    assert lines[("b",)] == 2
    assert lines[("t", "c")] == 4
