"""The yearly plan from the årshjul: materialised, idempotent, moved with identity kept."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.governance import Meeting
from styrhjul.db.models import CalendarEvent, Dialog, Instance, OrgUnit, OutboxMessage
from styrhjul.errors import DefinitionError
from styrhjul.services.calendar_events import list_events, wheel_svg
from styrhjul.services.context import App
from styrhjul.services.runner import run_due
from styrhjul.services.yearplan import compare_years, plan_year

DIRECTOR = "utbildningsdirektor@example.se"

SMALL = """
[arshjul]
title = "Litet årshjul"
unit = "sff"
invite_working_days_ahead = 10

[[ring]]
key = "ledning"
title = "Ledning"

[[ring]]
key = "enhet"
title = "Enheter"

[[event]]
id = "vp_joint_check"
title = "Gemensam avstämning av VP-utkastet"
ring = "ledning"
when = {{ nth = 3, weekday = "tisdag", month = 5 }}
move = "earlier"
at = "13:00"
minutes = 120
meeting = "lg"

[[event]]
id = "vp_proposals"
title = "Förslag på VP-uppdrag"
ring = "ledning"
when = {{ before = "vp_joint_check", working_days = {proposal_days} }}
move = "earlier"

[[event]]
id = "round"
title = "Dialogrunda 1"
ring = "enhet"
when = {{ month = 10, part = "{round_part}", weekday = "måndag" }}
move = "later"
days = 10
dialogs = {{ level = "director_area", round = 1 }}
{extra}
"""


def use_arshjul(app: App, tmp_path: Path, text: str | None = None, **values: object) -> Path:
    """Point the app at ``text`` (default: the small årshjul) written into ``tmp_path``."""
    if text is None:
        text = SMALL.format(
            proposal_days=values.get("proposal_days", 8),
            round_part=values.get("round_part", "early"),
            extra=values.get("extra", ""),
        )
    path = tmp_path / "arshjul.toml"
    path.write_text(text, encoding="utf-8")
    app.settings = app.settings.__class__(
        file=app.settings.file.model_copy(
            update={
                "calendar": app.settings.file.calendar.model_copy(update={"arshjul": str(path)})
            }
        ),
        path=app.settings.path,
        database_url=app.settings.database_url,
        secrets=app.settings.secrets,
    )
    return path


def events_of(app: App, year: int) -> dict[str, CalendarEvent]:
    with app.db.session() as session:
        rows = list(session.scalars(select(CalendarEvent).where(CalendarEvent.year == year)))
        session.expunge_all()
    return {row.key: row for row in rows}


def count(app: App, model: type) -> int:
    with app.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def invites(app: App) -> int:
    with app.db.session() as session:
        query = select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "invite")
        return session.scalar(query) or 0


def test_the_example_plan_of_2022_has_the_vp_dates_of_the_minutes(app: App) -> None:
    plan = plan_year(app, 2022)
    assert plan.applied
    assert plan.first_plan
    days = {
        row.rule: row.starts_at.astimezone(STOCKHOLM).date()
        for row in events_of(app, 2022).values()
    }
    assert days["vp_proposals"] == date(2022, 5, 5)
    assert days["vp_joint_check"] == date(2022, 5, 17)
    assert days["vp_lg_check"] == date(2022, 5, 31)
    assert date(2022, 8, 1) <= days["vp_done"] <= date(2022, 8, 10)
    # 2022 lies before the clock (September 2026): history is recorded, nothing is started.
    assert plan.started == []
    assert count(app, Instance) == 0


def test_the_example_year_2027_is_planned_once_with_every_level(app: App) -> None:
    plan = plan_year(app, 2027)
    assert plan.applied
    with app.db.session() as session:
        levels = dict(
            session.execute(
                select(Dialog.level, func.count(Dialog.id)).group_by(Dialog.level)
            ).all()
        )
        meetings = session.scalar(select(func.count(Meeting.id)))
        processes = session.scalar(
            select(func.count(Instance.id)).where(Instance.kind == "process")
        )
        units = session.scalar(select(func.count(OrgUnit.id)).where(OrgUnit.kind == "unit"))
        invites = session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "invite")
        )
    # Area head ↔ rektor: rounds 2 and 3 of 2026/27 and round 1 of 2027/28.
    assert levels["area_rektor"] == 3 * units
    assert {"director_area", "director_department", "rektor_team", "council_board"} <= set(levels)
    assert (meetings or 0) > 30  # the management group every Tuesday outside holidays
    # budget cycle, VP process, one quality report per unit
    assert processes == 2 + units
    # invites wait until 20 working days before each dialog: none is due in September 2026
    assert invites == 0
    before = (count(app, Instance), count(app, CalendarEvent), count(app, OutboxMessage))
    again = plan_year(app, 2027, apply=True)
    assert again.changes == []
    assert again.unchanged == plan.occurrences
    assert (count(app, Instance), count(app, CalendarEvent), count(app, OutboxMessage)) == before


def test_a_dialog_planned_ahead_is_invited_once_when_its_time_comes(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    use_arshjul(app, tmp_path)
    plan_year(app, 2026)
    with app.db.session() as session:
        dialogs = list(session.scalars(select(Dialog).order_by(Dialog.starts_at)))
        first_invite = min(d.invite_at for d in dialogs if d.invite_at)
        session.expunge_all()
    assert dialogs
    assert all(d.invite_at is not None for d in dialogs)
    assert count(app, OutboxMessage) == 0
    clock.set(first_invite - timedelta(minutes=1))
    assert run_due(app).invited == []
    clock.set(first_invite)
    invited = run_due(app).invited
    assert invited
    sent = invites(app)
    assert sent == 2 * len(invited)  # organiser and participant
    clock.advance(timedelta(hours=1))
    assert run_due(app).invited == []
    assert invites(app) == sent


def test_a_changed_rule_is_shown_then_applied_and_moved_events_keep_their_identity(
    app: App, tmp_path: Path
) -> None:
    use_arshjul(app, tmp_path)
    plan_year(app, 2027)
    before = events_of(app, 2027)
    with app.db.session() as session:
        round_days = {
            d.id: d.starts_at for d in session.scalars(select(Dialog).where(Dialog.round_no == 1))
        }
    use_arshjul(app, tmp_path, proposal_days=3, round_part="mid")
    shown = plan_year(app, 2027)
    assert not shown.applied
    moved = {c.key for c in shown.changes if c.action == "move"}
    assert moved == {"vp_proposals:2027:0", "round:2027:0"}
    assert (
        events_of(app, 2027)["vp_proposals:2027:0"].starts_at
        == before["vp_proposals:2027:0"].starts_at
    )  # nothing written without apply

    applied = plan_year(app, 2027, apply=True)
    assert applied.applied
    after = events_of(app, 2027)
    for key in moved:
        assert after[key].id == before[key].id
        assert after[key].ical_uid == before[key].ical_uid
        assert after[key].ical_sequence == before[key].ical_sequence + 1
    assert after["vp_proposals:2027:0"].starts_at.astimezone(STOCKHOLM).date() == date(2027, 5, 13)
    with app.db.session() as session:
        for dialog in session.scalars(select(Dialog).where(Dialog.round_no == 1)):
            assert dialog.starts_at > round_days[dialog.id]  # moved into mid October
            assert dialog.invite_at is not None  # still not invited: no update was sent
    assert invites(app) == 0
    assert plan_year(app, 2027).changes == []


def test_a_removed_rule_cancels_its_event_and_its_meeting(app: App, tmp_path: Path) -> None:
    path = use_arshjul(
        app,
        tmp_path,
        extra='\n[[event]]\nid = "extra_lg"\ntitle = "Extra LG"\nring = "ledning"\n'
        'when = { on = "03-02" }\nmove = "later"\nat = "13:00"\nminutes = 60\nmeeting = "lg"\n',
    )
    plan_year(app, 2027)
    extra = events_of(app, 2027)["extra_lg:2027:0"]
    assert extra.instance_id is not None
    path.write_text(path.read_text(encoding="utf-8").split('\n[[event]]\nid = "extra_lg"')[0])
    shown = plan_year(app, 2027)
    assert [(c.action, c.key) for c in shown.changes] == [("cancel", "extra_lg:2027:0")]
    # The system may not cancel a meeting: it says so and leaves it to the secretary ...
    by_system = plan_year(app, 2027, apply=True)
    assert any("meeting not cancelled" in note for note in by_system.notes)
    with app.db.session() as session:
        assert session.get(Meeting, extra.instance_id).state != "cancelled"
    # ... while the director applying the plan cancels it with the event.
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n[[event]]\nid = "extra_lg"\ntitle = "Extra LG"\nring = "ledning"\n'
        'when = { on = "03-02" }\nmove = "later"\nat = "13:00"\nminutes = 60\nmeeting = "lg"\n'
    )
    plan_year(app, 2027, apply=True)
    path.write_text(path.read_text(encoding="utf-8").split('\n[[event]]\nid = "extra_lg"')[0])
    plan_year(app, 2027, apply=True, actor=DIRECTOR)
    assert events_of(app, 2027)["extra_lg:2027:0"].status == "cancelled"
    with app.db.session() as session:
        meeting = session.get(Meeting, extra.instance_id)
        assert meeting is not None
        assert meeting.state == "cancelled"


def test_a_unit_added_later_is_shown_and_gets_its_dialog(app: App, tmp_path: Path) -> None:
    use_arshjul(app, tmp_path)
    plan_year(app, 2027)
    with app.db.session() as session:
        area = session.scalar(select(OrgUnit).where(OrgUnit.kind == "area"))
        assert area is not None
        session.add(
            OrgUnit(code="nytt-omrade", name="Nytt område", kind="area", parent_id=area.parent_id)
        )
    shown = plan_year(app, 2027)
    # the new area has no area head yet, so planning reports it rather than inventing one
    (change,) = [c for c in shown.changes if c.what == "dialogs"]
    assert "nytt-omrade" in change.detail
    applied = plan_year(app, 2027, apply=True)
    assert any("nytt-omrade" in note for note in applied.notes)


def test_an_unknown_dialog_level_names_the_line(app: App, tmp_path: Path) -> None:
    path = use_arshjul(app, tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace('level = "director_area"', 'level = "nope"')
    )
    with pytest.raises(DefinitionError) as raised:
        plan_year(app, 2027)
    assert raised.value.line is not None
    assert "dialogs = {" in path.read_text().splitlines()[raised.value.line - 1]
    assert "unknown dialog level 'nope'" in str(raised.value)
    assert count(app, CalendarEvent) == 0


def test_compare_explains_kept_weekdays_and_moved_dates(app: App) -> None:
    rows = {r.rule: r for r in compare_years(app, 2027, 2026)}
    assert rows["vp_joint_check"].why == "weekday kept (tisdag)"
    assert rows["vp_joint_check"].after == [date(2027, 5, 18)]
    assert "söndag: moved earlier" in rows["term:autumn_end"].why  # 19 Dec 2027 is a Sunday
    assert rows["lg_spring"].why.startswith(f"{len(rows['lg_spring'].after)} times")


def test_events_lists_the_plan_for_a_unit_and_a_person(app: App, tmp_path: Path) -> None:
    use_arshjul(app, tmp_path)
    plan_year(app, 2027)
    everything = list_events(app, date(2027, 1, 1), date(2027, 12, 31))
    kinds = {row.kind for row in everything}
    assert kinds == {"event", "dialog", "meeting"}
    with app.db.session() as session:
        dialog = session.scalars(select(Dialog)).first()
        assert dialog is not None
        unit, organizer = dialog.unit.code, dialog.organizer.email
    for_unit = list_events(app, date(2027, 1, 1), date(2027, 12, 31), unit=unit)
    assert [r.kind for r in for_unit if r.kind == "dialog"] == ["dialog"]
    assert any(r.kind == "event" for r in for_unit)  # the administration's events concern it
    assert not any(r.kind == "meeting" for r in for_unit)
    mine = list_events(app, date(2027, 1, 1), date(2027, 12, 31), person=organizer)
    assert {r.key for r in mine if r.kind == "dialog"} >= {dialog.key}


def test_the_wheel_draws_the_stored_plan_with_today(app: App, clock: FixedClock) -> None:
    plan_year(app, 2026)
    svg = wheel_svg(app, 2026, today=clock.today())
    assert svg.startswith("<svg")
    assert "Gemensam avstämning av VP-utkastet i LG och SG" in svg
    assert "idag" in svg
    assert "Höstlov" in svg


EVENTS_ONLY = """
[arshjul]
title = "Bara händelser"
unit = "sff"

[[ring]]
key = "ledning"
title = "Ledning"

[[school_holiday]]
name = "Höstlov"
week = 44

[[event]]
id = "joint"
title = "Gemensam avstämning"
ring = "ledning"
when = { nth = 3, weekday = "tisdag", month = 5 }
move = "earlier"
at = "02:30"
minutes = 60

[[event]]
id = "proposals"
title = "Förslag"
ring = "ledning"
when = { before = "joint", working_days = 8 }
move = "earlier"

[[event]]
id = "autumn"
title = "Höstmöte"
ring = "ledning"
when = { week = 44, weekday = "onsdag" }
move = "later"
avoid_school_holidays = true
at = "09:00"
minutes = 60

[[event]]
id = "series"
title = "Varannan tisdag"
ring = "ledning"
when = { every = "tisdag", from = "03-01", to = "11-30", weeks = 2 }
move = "skip"
at = "13:00"
minutes = 90
"""


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(year=st.integers(min_value=1990, max_value=2150))
def test_replanning_any_year_changes_nothing(app: App, tmp_path: Path, year: int) -> None:
    use_arshjul(app, tmp_path, EVENTS_ONLY)
    first = plan_year(app, year)
    stored = {k: (e.starts_at, e.ical_sequence) for k, e in events_of(app, year).items()}
    again = plan_year(app, year, apply=True)
    assert again.changes == []
    assert {k: (e.starts_at, e.ical_sequence) for k, e in events_of(app, year).items()} == stored
    assert len(stored) == first.occurrences
    for row in events_of(app, year).values():
        local = row.starts_at.astimezone(STOCKHOLM)
        assert app.calendar.is_working_day(local.date()), row.key
        if not row.all_day:
            assert local.utcoffset() == STOCKHOLM.utcoffset(local.replace(tzinfo=None))
