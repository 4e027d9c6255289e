"""The overdue listing, a person's steps and an instance's timeline, over a planned round.

Three dialogs of round 1 are kept: Västra skolan and Norrbackaskolan (area Grundskola
norr) and Ekbackens förskoleområde (area Förskola). Their area heads' ``quality_criteria``
steps fall due first: Thursday 17 September (the preschool) and Friday 18 September (the
two schools), at 16.00.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlcount import statements
from support import dialog_id_of, keep_dialogs

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.errors import InputError, NotFound
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import cancel, open_due_preparations
from styrhjul.services.escalation import send_due_notices
from styrhjul.services.overdue import StepRow, list_steps, overdue_steps
from styrhjul.services.views import instance_detail

KEPT = ("vastra-skolan", "norrbackaskolan", "ekbackens-forskoleomrade")
HEAD = "verksamhetschef.grundskola-norr@example.se"
PRESCHOOL_HEAD = "verksamhetschef.forskola@example.se"
RECTOR = "rektor.vastra-skolan@example.se"
DIRECTOR = "utbildningsdirektor@example.se"


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=STOCKHOLM)


@pytest.fixture
def school_app(planned_app: App) -> App:
    keep_dialogs(planned_app, *KEPT)
    return planned_app


def _keys(rows: list[StepRow]) -> list[tuple[str, str]]:
    return [(r.unit, r.key) for r in rows]


def _step(rows: list[StepRow], unit: str, key: str) -> StepRow:
    (found,) = [r for r in rows if (r.unit, r.key) == (unit, key)]
    return found


def test_overdue_steps_most_overdue_first_in_working_days(
    school_app: App, clock: FixedClock
) -> None:
    clock.set(at(9, 17, 15))
    assert overdue_steps(school_app) == []

    clock.set(at(9, 21))  # Monday: the weekend is not counted
    rows = overdue_steps(school_app)
    assert _keys(rows) == [
        ("ekbackens-forskoleomrade", "quality_criteria"),
        ("norrbackaskolan", "quality_criteria"),
        ("vastra-skolan", "quality_criteria"),
    ]
    assert [r.days_overdue for r in rows] == [2, 1, 1]
    vastra = rows[2]
    assert vastra.title == "Fastställ kvalitetskriterier och valda indikatorer för dialogen"
    assert (vastra.instance_kind, vastra.instance_id) == ("dialog", dialog_id_of(school_app))
    assert vastra.instance_title == "Verksamhetsdialog Västra skolan"
    assert (vastra.level, vastra.unit_name) == ("area_rektor", "Västra skolan")
    assert (vastra.area, vastra.area_name) == ("grundskola-norr", "Grundskola norr")
    assert (vastra.assignee, vastra.assignee_title) == (HEAD, "Verksamhetschef grundskola norr")
    assert vastra.due_at == at(9, 18, 16)
    assert vastra.escalation_level == 0

    clock.set(at(9, 25, 12))
    send_due_notices(school_app)
    rows = overdue_steps(school_app)
    assert [r.days_overdue for r in rows] == sorted((r.days_overdue for r in rows), reverse=True)
    assert [r.due_at for r in rows] == sorted(r.due_at for r in rows)
    for row in rows:
        due_day = row.due_at.date()
        assert row.days_overdue == school_app.calendar.working_days_between(
            due_day, at(9, 25).date()
        )
    assert _step(rows, "vastra-skolan", "quality_criteria").days_overdue == 5
    assert _step(rows, "vastra-skolan", "quality_criteria").escalation_level == 1
    assert _step(rows, "vastra-skolan", "facts").days_overdue == 1
    assert len(rows) == 3 * 3  # quality_criteria, quality_report, facts of each dialog


def test_done_steps_and_ended_dialogs_are_not_overdue(school_app: App, clock: FixedClock) -> None:
    clock.set(at(9, 21))
    complete_step(
        school_app, _step(overdue_steps(school_app), "vastra-skolan", "quality_criteria").id,
        actor=HEAD,
    )  # fmt: skip
    cancel(
        school_app, dialog_id_of(school_app, "ekbackens-forskoleomrade"),
        actor=PRESCHOOL_HEAD, reason="Flyttas till nästa runda",
    )  # fmt: skip
    assert _keys(overdue_steps(school_app)) == [("norrbackaskolan", "quality_criteria")]


def test_filters_by_unit_subtree_and_level(school_app: App, clock: FixedClock) -> None:
    clock.set(at(9, 25, 12))
    everything = overdue_steps(school_app)
    assert {r.unit for r in everything} == set(KEPT)

    def units(**filters: Any) -> set[str]:
        return {r.unit for r in overdue_steps(school_app, **filters)}

    assert units(unit="vastra-skolan") == {"vastra-skolan"}
    assert units(unit="grundskola-norr") == {"vastra-skolan", "norrbackaskolan"}
    assert units(unit="forskola") == {"ekbackens-forskoleomrade"}
    assert units(unit="sff") == set(KEPT)
    assert units(unit="vastra-skolan-f-3") == set()  # a team under the school: nothing of its own
    assert overdue_steps(school_app, level="area_rektor") == everything
    assert overdue_steps(school_app, level="dialog") == everything
    assert overdue_steps(school_app, level="assignment") == []
    assert units(unit="grundskola-norr", level="area_rektor") == {
        "vastra-skolan",
        "norrbackaskolan",
    }
    assert len(overdue_steps(school_app, limit=2)) == 2
    with pytest.raises(NotFound, match="'nowhere'"):
        overdue_steps(school_app, unit="nowhere")
    with pytest.raises(InputError, match=r"unknown level 'principal'; levels are: .*area_rektor"):
        overdue_steps(school_app, level="principal")


def test_the_listing_is_one_query_however_many_steps(planned_app: App, clock: FixedClock) -> None:
    """40 dialogs or 3, the listing reads the units and the steps: no query per step."""
    clock.set(at(10, 2, 12))
    with statements(planned_app) as many:
        big = overdue_steps(planned_app, unit="sff", level="area_rektor")
    keep_dialogs(planned_app, *KEPT)
    with statements(planned_app) as few:
        small = overdue_steps(planned_app, unit="sff", level="area_rektor")
    assert len(big) > 10 * len(small) > 0
    assert len(many) == len(few) <= 3  # the unit tree, the unit, the steps


def test_a_person_lists_their_steps(school_app: App, clock: FixedClock) -> None:
    clock.set(at(9, 21))
    mine = list_steps(school_app, RECTOR, mine=True)
    assert _keys(mine) == [
        ("vastra-skolan", key) for key in ("quality_report", "facts", "material", "observations")
    ]
    assert [r.due_at for r in mine] == sorted(r.due_at for r in mine)
    assert {r.unit for r in list_steps(school_app, RECTOR)} == {"vastra-skolan"}
    assert len(list_steps(school_app, RECTOR)) == 7
    assert {r.unit for r in list_steps(school_app, HEAD)} == {"vastra-skolan", "norrbackaskolan"}
    assert {r.assignee for r in list_steps(school_app, HEAD, mine=True)} == {HEAD}
    assert len(list_steps(school_app, DIRECTOR)) == 21

    complete_step(school_app, mine[0].id, actor=RECTOR)
    assert len(list_steps(school_app, RECTOR, mine=True)) == 4
    still_open = list_steps(school_app, RECTOR, mine=True, open_only=True)
    assert [r.key for r in still_open] == ["facts", "material", "observations"]
    done = _step(list_steps(school_app, RECTOR, mine=True), "vastra-skolan", "quality_report")
    assert done.done_at == at(9, 21)
    assert done.days_overdue == 0
    with pytest.raises(NotFound, match=r"nobody@example\.se"):
        list_steps(school_app, "nobody@example.se")


def test_the_timeline_of_an_instance(school_app: App, clock: FixedClock) -> None:
    dialog_id = dialog_id_of(school_app)
    clock.set(at(9, 21))
    complete_step(school_app, _step(list_steps(school_app, HEAD), "vastra-skolan", "facts").id,
                  actor=HEAD)  # fmt: skip
    clock.set(at(9, 25, 12))
    open_due_preparations(school_app)
    send_due_notices(school_app)
    timeline = instance_detail(school_app, dialog_id)
    assert (timeline.kind, timeline.id, timeline.unit) == ("dialog", dialog_id, "vastra-skolan")
    assert (timeline.workflow, timeline.state_title) == ("dialog_round", "Förberedelser pågår")
    triggers = [(e.trigger, e.actor) for e in timeline.history]
    assert triggers[0] == ("plan", "system")
    assert ("open_preparation", "system") in triggers
    assert ("step_done", HEAD) in triggers
    escalated = [e for e in timeline.history if e.trigger == "escalate"]
    assert [e.at for e in escalated] == [at(9, 25, 12)] * 2
    assert all(e.at.tzinfo is not None for e in timeline.history)
    assert [e.at for e in timeline.history] == sorted(e.at for e in timeline.history)
    with pytest.raises(NotFound, match="instance 999999"):
        instance_detail(school_app, 999999)
