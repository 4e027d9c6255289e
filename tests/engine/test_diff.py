"""Comparing two definition versions: every kind of change is reported, and nothing else.

The old version is the shipped ``dialog_round.toml``; each test edits one part of it and
checks the change records (section, action, item, field, old, new) and their lines.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from styrhjul.engine.definition import WorkflowDefinition, load_definition
from styrhjul.engine.diff import Change, diff_definitions
from styrhjul.workflows import definition_path

SHIPPED_TEXT = definition_path("dialog_round").read_text(encoding="utf-8")
OLD = load_definition(Path("old.toml"), text=SHIPPED_TEXT)


def edit(text: str, marker: str, old: str, new: str) -> str:
    """Replace ``old`` inside the table that contains the (unique) line ``marker``."""
    assert text.count(marker) == 1, marker
    at = text.index(marker)
    start = text.rfind("\n[", 0, at) + 1
    found = re.compile(r"^\[", re.MULTILINE).search(text, at + len(marker))
    end = found.start() if found else len(text)
    table = text[start:end]
    assert table.count(old) == 1, f"{old!r} in the table of {marker!r}"
    return text[:start] + table.replace(old, new) + text[end:]


def new(text: str) -> WorkflowDefinition:
    return load_definition(Path("new.toml"), text=text)


def changes(text: str) -> list[Change]:
    return diff_definitions(OLD, new(text))


def lines(text: str) -> list[str]:
    return [c.line for c in changes(text)]


def test_identical_definitions_have_no_changes() -> None:
    assert diff_definitions(OLD, new(SHIPPED_TEXT)) == []
    # comments are not part of the definition
    assert changes("# a new comment\n" + SHIPPED_TEXT) == []


def test_header() -> None:
    text = edit(SHIPPED_TEXT, "[workflow]", "version = 1", "version = 2")
    text = edit(text, "[workflow]", 'title = "Verksamhetsdialog"', 'title = "Dialog"')
    assert changes(text) == [
        Change("workflow", "changed", "", "version", 1, 2, "workflow version: 1 → 2"),
        Change(
            "workflow",
            "changed",
            "",
            "title",
            "Verksamhetsdialog",
            "Dialog",
            'workflow title: "Verksamhetsdialog" → "Dialog"',
        ),
    ]


def test_state_added_and_transition_added() -> None:
    text = SHIPPED_TEXT.replace(
        "[[transition]]",
        '[[state]]\nname = "archived"\ntitle = "Arkiverad"\nfinal = true\n\n[[transition]]',
        1,
    ).replace(
        "[timing]",
        '[[transition]]\ntrigger = "archive"\ntitle = "Arkivera"\n'
        'source = ["closed", "cancelled"]\n'
        'dest = "archived"\nroles = ["secretary"]\n\n[timing]',
        1,
    )
    text = edit(text, 'name = "closed"', "final = true", "final = false")
    text = edit(text, 'name = "cancelled"', "final = true", "final = false")
    assert lines(text) == [
        "state closed is no longer final",
        "state cancelled is no longer final",
        'state archived added: final, "Arkiverad"',
        'transition archive added: "Arkivera" from closed, cancelled to archived, roles secretary',
    ]
    added = changes(text)[2]
    assert (added.section, added.action, added.item, added.field) == (
        "state",
        "added",
        "archived",
        "",
    )


def test_state_removed_and_transition_removed() -> None:
    text = SHIPPED_TEXT.replace(
        '[[state]]\nname = "cancelled"\ntitle = "Inställd"\nfinal = true\n', ""
    )
    start = text.index('[[transition]]\ntrigger = "cancel"')
    text = text[:start] + text[text.index("[timing]") :]
    found = changes(text)
    assert [(c.section, c.action, c.item) for c in found] == [
        ("state", "removed", "cancelled"),
        ("transition", "removed", "cancel"),
    ]
    assert found[0].line == 'state cancelled removed: final, "Inställd"'
    assert found[1].line.startswith('transition cancel removed: "Ställ in" from planned, ')


def test_state_retitled_and_made_final() -> None:
    text = edit(SHIPPED_TEXT, 'name = "ready"', 'title = "Förberedd"', 'title = "Klar för dialog"')
    assert changes(text) == [
        Change(
            "state",
            "changed",
            "ready",
            "title",
            "Förberedd",
            "Klar för dialog",
            'state ready retitled: "Förberedd" → "Klar för dialog"',
        )
    ]
    # a state that becomes final: 'held' loses its ways out first
    final = SHIPPED_TEXT.replace(
        'name = "following_up"\ntitle', 'name = "following_up"\nfinal = true\ntitle'
    )
    final = edit(final, 'trigger = "close"', '"held", "following_up"]', '"held"]')
    final = edit(final, 'trigger = "cancel"', ', "following_up"]', "]")
    assert "state following_up is now final" in lines(final)


def test_transition_changed_field_by_field() -> None:
    text = edit(SHIPPED_TEXT, 'trigger = "hold"', '"preparing", "ready"]', '"ready"]')
    text = edit(text, 'trigger = "hold"', 'title = "Dialogen genomförd"', 'title = "Genomför"')
    text = edit(text, 'trigger = "postpone"', 'dest = "="', 'dest = "planned"')
    text = edit(
        text, 'trigger = "close"', '["agreements_done"]', '["agreements_done", "has_agreements"]'
    )
    text = edit(text, 'trigger = "cancel"', '"director"]', '"director", "rektor"]')
    text = edit(
        text,
        'trigger = "postpone"',
        'conditions = ["new_time_given"]',
        'conditions = ["new_time_given"]\noverride_roles = ["director"]',
    )
    found = {(c.item, c.field): c for c in changes(text)}
    assert found[("hold", "source")].line == "transition hold source: removed preparing"
    assert found[("hold", "source")].old == ["preparing", "ready"]
    assert found[("hold", "source")].new == ["ready"]
    assert found[("hold", "title")].line == (
        'transition hold title: "Dialogen genomförd" → "Genomför"'
    )
    assert found[("postpone", "dest")].line == 'transition postpone dest: "=" → "planned"'
    assert found[("close", "conditions")].line == (
        "transition close conditions: added has_agreements"
    )
    assert found[("cancel", "roles")].line == "transition cancel roles: added rektor"
    assert found[("postpone", "override_roles")].line == (
        "transition postpone override_roles: added director"
    )
    assert set(found) == {
        ("hold", "source"),
        ("hold", "title"),
        ("postpone", "dest"),
        ("close", "conditions"),
        ("cancel", "roles"),
        ("postpone", "override_roles"),
    }
    assert all(c.section == "transition" and c.action == "changed" for c in found.values())


def test_a_trigger_declared_twice_is_matched_by_occurrence() -> None:
    second = (
        '[[transition]]\ntrigger = "cancel"\ntitle = "Ställ in efteråt"\nsource = ["closed"]\n'
        'dest = "cancelled"\nroles = ["director"]\n\n[timing]'
    )
    text = SHIPPED_TEXT.replace("[timing]", second, 1)
    text = edit(text, 'name = "closed"', "final = true", "final = false")
    found = changes(text)
    assert [(c.section, c.action, c.item) for c in found] == [
        ("state", "changed", "closed"),
        ("transition", "added", "cancel#2"),
    ]


def test_timing() -> None:
    text = re.sub(
        r"prepare_working_days_before = \d+", "prepare_working_days_before = 25", SHIPPED_TEXT
    )
    text = re.sub(r"\nescalate_again_working_days_after_due = \d+", "", text)
    text = re.sub(
        r"escalate_working_days_after_due = \d+",
        "escalate_working_days_after_due = 3\nescalate_again_working_days_after_due = 6",
        text,
    )
    old_timing = OLD.spec.timing
    found = {c.field: c for c in changes(text)}
    assert found["prepare_working_days_before"].line == (
        f"timing prepare_working_days_before: {old_timing.prepare_working_days_before} → 25"
    )
    if old_timing.escalate_working_days_after_due != 3:
        assert found["escalate_working_days_after_due"].new == 3
    again = found["escalate_again_working_days_after_due"]
    assert (again.old, again.new) == (old_timing.escalate_again_working_days_after_due, 6)
    if again.old is None:
        assert again.line == "timing escalate_again_working_days_after_due: (not set) → 6"
    assert {c.section for c in found.values()} == {"timing"}


def test_step_added_and_removed() -> None:
    block = SHIPPED_TEXT[SHIPPED_TEXT.index('[[step]]\nkey = "area_coordination"') :]
    block = block[: block.index("\n[") + 1]
    text = SHIPPED_TEXT.replace(block, "")
    text = text.replace(
        "[schedule]",
        '[[step]]\nkey = "agenda"\ntitle = "Skicka dagordningen"\nassignee = "area_head"\n'
        "due_working_days_before = 3\nrequired = false\n\n[schedule]",
        1,
    )
    found = changes(text)
    assert [(c.action, c.item) for c in found] == [
        ("removed", "area_coordination"),
        ("added", "agenda"),
    ]
    assert found[1].line == (
        'step agenda added: "Skicka dagordningen", area_head of unit, '
        "due 3 working days before start, optional"
    )


def test_step_changed_field_by_field() -> None:
    text = edit(
        SHIPPED_TEXT, 'key = "facts"', 'assignee = "rektor"', 'assignee = "area_head"\nof = "lg"'
    )
    text = edit(text, 'key = "facts"', "due_working_days_before = 8", "due_working_days_before = 9")
    text = edit(text, 'key = "material"', "required = true", "required = false")
    text = edit(
        text,
        'key = "questions"',
        "due_working_days_before = 2",
        'due_working_days_after = 1\nanchor = "state:preparing"',
    )
    text = edit(
        text,
        'key = "quality_report"',
        'title = "Uppdatera kvalitetsrapporten med analys och bedömning"',
        'title = "Uppdatera kvalitetsrapporten"',
    )
    found = {(c.item, c.field): c.line for c in changes(text)}
    assert found == {
        ("quality_report", "title"): 'step quality_report title: "Uppdatera kvalitetsrapporten '
        'med analys och bedömning" → "Uppdatera kvalitetsrapporten"',
        ("facts", "assignee"): 'step facts assignee: "rektor" → "area_head"',
        ("facts", "of"): 'step facts of: "unit" → "lg"',
        ("facts", "due_working_days_before"): "step facts due_working_days_before: 8 → 9",
        ("material", "required"): "step material required: true → false",
        ("questions", "anchor"): 'step questions anchor: "start" → "state:preparing"',
        ("questions", "due_working_days_before"): (
            "step questions due_working_days_before: 2 → (not set)"
        ),
        ("questions", "due_working_days_after"): (
            "step questions due_working_days_after: (not set) → 1"
        ),
    }


def test_schedule_fields_and_rounds() -> None:
    text = re.sub(r"duration_minutes = \d+", "duration_minutes = 60", SHIPPED_TEXT)
    text = edit(text, "[schedule]", '"14:30"]', '"14:30", "15:45"]')
    text = edit(text, "number = 2", 'window_start = "02-01"', 'window_start = "02-08"')
    text = edit(
        text, "number = 3", 'title = "Dialogrunda 3 (läsårets slut)"', 'title = "Dialogrunda 3"'
    )
    text += '\n[[schedule.round]]\nnumber = 4\ntitle = "Extra runda"\nwindow_start = "06-01"\n'
    found = changes(text)
    by_key = {(c.section, c.item, c.field): c for c in found}
    old_minutes = OLD.schedule.duration_minutes
    assert by_key[("schedule", "", "duration_minutes")].line == (
        f"schedule duration_minutes: {old_minutes} → 60"
    )
    assert by_key[("schedule", "", "slots")].line == "schedule slots: added 15:45"
    assert by_key[("round", "2", "window_start")].line == 'round 2 window_start: "02-01" → "02-08"'
    assert by_key[("round", "3", "title")].line == (
        'round 3 title: "Dialogrunda 3 (läsårets slut)" → "Dialogrunda 3"'
    )
    assert by_key[("round", "4", "")].line == 'round 4 added: "Extra runda" opening 06-01'
    assert len(found) == 5

    fewer = text[: text.index("[[schedule.round]]\nnumber = 3")]
    removed = {(c.section, c.action, c.item) for c in diff_definitions(new(text), new(fewer))}
    assert removed == {("round", "removed", "3"), ("round", "removed", "4")}


def test_schedule_removed_when_the_workflow_is_no_dialog() -> None:
    text = edit(SHIPPED_TEXT, "[workflow]", 'kind = "dialog"', 'kind = "process"')
    text = text[: text.index("[schedule]")]
    found = changes(text)
    assert [(c.section, c.action, c.field) for c in found] == [
        ("workflow", "changed", "kind"),
        ("schedule", "removed", ""),
    ]
    assert found[1].line.startswith(f"schedule removed: level {OLD.schedule.level}, rounds 1, 2, 3")


def test_changes_are_plain_data() -> None:
    text = edit(SHIPPED_TEXT, 'trigger = "cancel"', '"director"]', '"director", "rektor"]')
    (change,) = changes(text)
    assert asdict(change) == {
        "section": "transition",
        "action": "changed",
        "item": "cancel",
        "field": "roles",
        "old": ["secretary", "area_head", "director"],
        "new": ["secretary", "area_head", "director", "rektor"],
        "line": "transition cancel roles: added rektor",
    }


YEARLY = (
    '\n[[recurring]]\nkey = "yearly_check"\ntitle = "Årlig kontroll"\nassignee = "rektor"\n'
    'states = ["planned"]\ndue = "05-15"\nraise_working_days_before = 10\n'
)


def test_a_further_section_is_compared_generically() -> None:
    """``[[recurring]]`` has no special wording here: items by key, then field by field."""
    with_rule = SHIPPED_TEXT + YEARLY
    (added,) = changes(with_rule)
    assert (added.section, added.action, added.item) == ("recurring", "added", "yearly_check")
    assert added.line.startswith('recurring yearly_check added: key "yearly_check", ')
    assert 'title "Årlig kontroll"' in added.line

    moved = with_rule.replace('due = "05-15"', 'due = "05-20"').replace(
        'states = ["planned"]', 'states = ["planned", "preparing"]'
    )
    found = diff_definitions(new(with_rule), new(moved))
    assert [c.line for c in found] == [
        "recurring yearly_check states: added preparing",
        'recurring yearly_check due: "05-15" → "05-20"',
    ]
    (removed,) = diff_definitions(new(with_rule), OLD)
    assert (removed.action, removed.item) == ("removed", "yearly_check")
