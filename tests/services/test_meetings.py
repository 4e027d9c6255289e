"""Meetings of LG and SG through their whole life on the injected clock, on both databases.

Scheduling (working days only, who is called, chair and secretary), the agenda, sending it,
recording the meeting (attendance, items, actions; validated before anything is written),
approval, carrying unresolved items and open actions to the next meeting, closing, and the
refusals on the way: wrong state, wrong role, an open action, a holiday.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.governance import Meeting
from styrhjul.db.models import Agreement, OutboxMessage
from styrhjul.errors import InputError, NotFound, PermissionDenied, TransitionRefused
from styrhjul.services.checklist import complete_agreement
from styrhjul.services.context import App
from styrhjul.services.meeting_agenda import (
    add_agenda_item,
    move_agenda_item,
    remove_agenda_item,
)
from styrhjul.services.meeting_minutes import (
    ActionInput,
    ItemRecord,
    MeetingRecord,
    carry_action,
    hold_meeting,
    hold_meeting_from_file,
)
from styrhjul.services.meeting_views import list_meetings, meeting_detail
from styrhjul.services.meetings import (
    approve_minutes,
    cancel_meeting,
    close_meeting,
    postpone_meeting,
    schedule_meeting,
    schedule_series,
    send_agenda,
)

SECRETARY = "sekreterare.ledningsgrupp@example.se"
DIRECTOR = "utbildningsdirektor@example.se"
MEMBER = "verksamhetschef.forskola@example.se"
PC_HEAD = "avdelningschef.pedagogiskt-center@example.se"
HEALTH_HEAD = "avdelningschef.elevhalsan@example.se"
CONTROLLER = "chefscontroller@example.se"
RECTOR = "rektor.vastra-skolan@example.se"
LG_MEMBERS = sorted(
    [
        DIRECTOR,
        MEMBER,
        "verksamhetschef.grundskola-norr@example.se",
        "verksamhetschef.grundskola-soder@example.se",
        "verksamhetschef.grundskola-centrum@example.se",
        "verksamhetschef.gymnasie-och-anpassad@example.se",
        HEALTH_HEAD,
        PC_HEAD,
        "avdelningschef.modersmalsenheten@example.se",
        "avdelningschef.gymnasieplanering@example.se",
    ]
)
PLACE = "Jupiter"


def _at(day: int, month: int = 9, hour: int = 13, minute: int = 0) -> datetime:
    """A local time in 2026 (the clock starts on Tuesday 1 September 2026, 09:00)."""
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


def _schedule(app: App, day: int, month: int = 9, group: str = "lg") -> int:
    return schedule_meeting(app, group, _at(day, month), actor=SECRETARY, place=PLACE).meeting_id


def _ready(app: App, day: int, month: int = 9) -> tuple[int, list[int]]:
    """A meeting of LG with three items and its agenda sent: (meeting id, item ids)."""
    meeting_id = _schedule(app, day, month)
    items = [
        add_agenda_item(
            app,
            meeting_id,
            actor=SECRETARY,
            kind="information",
            title="Introduktion av chefscontrollerfunktionen",
            presenter=DIRECTOR,
        ),
        add_agenda_item(
            app,
            meeting_id,
            actor=SECRETARY,
            kind="dialog",
            title="FoU: hypotesförslag om självstyrande team",
            presenter=PC_HEAD,
        ),
        add_agenda_item(
            app, meeting_id, actor=DIRECTOR, kind="decision", title="Tidplan för VP 2027/28"
        ),
    ]
    send_agenda(app, meeting_id, actor=SECRETARY)
    return meeting_id, items


def _outbox(app: App) -> list[OutboxMessage]:
    with app.db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _text_of(row: OutboxMessage) -> str:
    message = email.message_from_bytes(row.payload, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def _hold_simply(app: App, clock: FixedClock, meeting_id: int, **record: object) -> None:
    start = meeting_detail(app, meeting_id).meeting.starts_at
    if clock.now() < start:
        clock.set(start.replace(hour=16))
    hold_meeting(app, meeting_id, MeetingRecord(**record), actor=SECRETARY)  # type: ignore[arg-type]


# --- the whole life ------------------------------------------------------------------------


def test_a_meeting_of_lg_from_schedule_to_close(app: App, clock: FixedClock) -> None:
    scheduled = schedule_meeting(app, "lg", _at(8), actor=SECRETARY, place=PLACE)
    assert scheduled.attendees == LG_MEMBERS
    assert scheduled.resumed_items == []
    assert scheduled.open_actions == []
    meeting_id = scheduled.meeting_id
    detail = meeting_detail(app, meeting_id)
    row = detail.meeting
    assert (row.group, row.state, row.state_title) == ("lg", "planned", "Planerat")
    assert (row.chair, row.secretary, row.location) == (DIRECTOR, SECRETARY, PLACE)
    assert row.ends_at - row.starts_at == _at(8, hour=16) - _at(8)
    assert [a.email for a in detail.attendance] == LG_MEMBERS
    assert all(a.present is None for a in detail.attendance)
    steps = {s.key: s for s in detail.checklist}
    assert list(steps) == ["call_for_items", "send_agenda"]
    # Five and two working days before Tuesday 8 September, at the end of the day.
    assert steps["call_for_items"].due_at == _at(1, hour=16)
    assert steps["send_agenda"].due_at == _at(4, hour=16)
    assert {s.assignee for s in steps.values()} == {SECRETARY}
    with app.db.session() as session:
        assert session.get(Meeting, meeting_id).key == "meeting:lg:2026-09-08"  # type: ignore[union-attr]

    info = add_agenda_item(
        app, meeting_id, actor=SECRETARY, kind="information", title="Lokaler", presenter=MEMBER
    )
    dialog = add_agenda_item(app, meeting_id, actor=SECRETARY, kind="dialog", title="Uppföljning")
    first = add_agenda_item(
        app, meeting_id, actor=DIRECTOR, kind="decision", title="Tidplan för VP", position=1
    )
    extra = add_agenda_item(app, meeting_id, actor=SECRETARY, kind="dialog", title="Övrigt")
    move_agenda_item(app, dialog, 1, actor=SECRETARY)
    assert remove_agenda_item(app, extra, actor=SECRETARY) is None
    agenda = meeting_detail(app, meeting_id).agenda
    assert [(i.id, i.position) for i in agenda] == [(dialog, 1), (first, 2), (info, 3)]
    assert [i.kind_title for i in agenda] == ["Dialog", "Beslut", "Information"]
    assert agenda[2].presenter == MEMBER

    queued = send_agenda(app, meeting_id, actor=SECRETARY)
    assert queued == 11  # ten members (the chair among them) and the secretary
    detail = meeting_detail(app, meeting_id)
    assert detail.meeting.state == "agenda_sent"
    assert all(s.done_by == SECRETARY for s in detail.checklist)
    mails = _outbox(app)
    assert sorted(m.recipient.split("<")[-1].rstrip(">") for m in mails) == sorted(
        [*LG_MEMBERS, SECRETARY]
    )
    body = _text_of(mails[0])
    assert "Dagordning:" in body
    assert "1. Dialog: Uppföljning" in body
    assert "3. Information: Lokaler (föredragande: Verksamhetschef förskola)" in body

    with pytest.raises(TransitionRefused, match="has not started yet"):
        hold_meeting(app, meeting_id, MeetingRecord(), actor=SECRETARY)
    clock.set(_at(8, hour=16, minute=5))
    held = hold_meeting(
        app,
        meeting_id,
        MeetingRecord(
            notes="Tema: verksamhetsplanering",
            absent=[MEMBER],
            guests=[CONTROLLER],
            items=[
                ItemRecord(first, decision="Tidplanen fastställs."),
                ItemRecord(info, notes="Inga nyproduktioner planeras."),
            ],
            actions=[
                ActionInput(
                    "Skickar mer information om förslaget via mejl till ledningsgruppen",
                    PC_HEAD,
                    date(2026, 9, 15),
                )
            ],
        ),
        actor=SECRETARY,
    )
    assert (held.state, held.present, held.absent, held.resumed_at) == ("held", 10, 1, None)
    detail = meeting_detail(app, meeting_id)
    presence = {a.email: a.present for a in detail.attendance}
    assert presence[MEMBER] is False
    assert presence[CONTROLLER] is True
    assert presence[DIRECTOR] is True
    assert detail.minutes == "Tema: verksamhetsplanering"
    by_id = {i.id: i for i in detail.agenda}
    assert by_id[first].decision == "Tidplanen fastställs."
    assert by_id[info].notes == "Inga nyproduktioner planeras."
    assert by_id[dialog].notes is None
    (action,) = detail.actions
    assert (action.owner, action.due_on, action.is_open) == (PC_HEAD, date(2026, 9, 15), True)
    approve = next(s for s in detail.checklist if s.key == "approve_minutes")
    assert approve.assignee == DIRECTOR
    assert approve.due_at == _at(15, hour=16)  # five working days after it was held

    with pytest.raises(TransitionRefused, match="cannot 'close' in state 'held'"):
        close_meeting(app, meeting_id, actor=SECRETARY)
    with pytest.raises(PermissionDenied, match="'approve' needs one of the roles director"):
        approve_minutes(app, meeting_id, actor=SECRETARY)
    clock.set(_at(10, hour=10))
    assert approve_minutes(app, meeting_id, actor=DIRECTOR) == "approved"
    with pytest.raises(TransitionRefused, match=r"1 agreement\(s\) still open"):
        close_meeting(app, meeting_id, actor=SECRETARY)
    complete_agreement(app, action.id, actor=PC_HEAD)
    assert close_meeting(app, meeting_id, actor=SECRETARY) == "closed"

    detail = meeting_detail(app, meeting_id)
    assert detail.meeting.state_title == "Avslutat"
    assert detail.allowed == []
    assert all(s.done_at is not None for s in detail.checklist)
    assert [(e.trigger, e.to_state) for e in detail.history] == [
        ("schedule", "planned"),
        ("agenda_add", "planned"),
        ("agenda_add", "planned"),
        ("agenda_add", "planned"),
        ("agenda_add", "planned"),
        ("agenda_move", "planned"),
        ("agenda_remove", "planned"),
        ("send_agenda", "agenda_sent"),
        ("hold", "held"),
        ("approve", "approved"),
        ("agreement_done", "approved"),
        ("close", "closed"),
    ]
    assert detail.history[-2].actor == PC_HEAD
    assert detail.history[8].reason == "10 närvarande, 1 frånvarande, 1 åtgärder"


def test_a_meeting_of_sg_calls_the_steering_group(app: App) -> None:
    scheduled = schedule_meeting(app, "sg", _at(9), actor=DIRECTOR, place="Stadshuset")
    assert len(scheduled.attendees) == 10
    assert "avdelningschef.ekonomi@example.se" in scheduled.attendees
    assert PC_HEAD not in scheduled.attendees
    lg_id = _schedule(app, 8)
    rows = list_meetings(app, group="sg")
    assert [(r.id, r.group, r.chair) for r in rows] == [(scheduled.meeting_id, "sg", DIRECTOR)]
    assert [r.id for r in list_meetings(app)] == [lg_id, scheduled.meeting_id]
    assert [r.id for r in list_meetings(app, from_day=date(2026, 9, 9))] == [scheduled.meeting_id]
    assert [r.id for r in list_meetings(app, to_day=date(2026, 9, 8))] == [lg_id]
    assert list_meetings(app, state="held") == []


# --- refusals ------------------------------------------------------------------------------


def test_a_meeting_on_a_holiday_or_weekend_or_in_the_past_is_refused(app: App) -> None:
    with pytest.raises(InputError, match=r"2026-12-24 is not a working day \(Julafton\)"):
        schedule_meeting(app, "lg", _at(24, 12), actor=SECRETARY, place=PLACE)
    with pytest.raises(InputError, match=r"2026-09-12 is not a working day \(lördag\)"):
        schedule_meeting(app, "lg", _at(12), actor=SECRETARY, place=PLACE)
    with pytest.raises(InputError, match="has passed"):
        schedule_meeting(app, "lg", _at(1, hour=8), actor=SECRETARY, place=PLACE)
    with pytest.raises(InputError, match="'vastra-skolan' is a unit, not a group"):
        schedule_meeting(app, "vastra-skolan", _at(8), actor=SECRETARY, place=PLACE)
    with pytest.raises(NotFound, match="unit 'xx' not found"):
        schedule_meeting(app, "xx", _at(8), actor=SECRETARY, place=PLACE)
    with pytest.raises(InputError, match="place is required"):
        schedule_meeting(app, "lg", _at(8), actor=SECRETARY, place=" ")
    meeting_id = _schedule(app, 8)
    with pytest.raises(InputError, match=f"lg already meets on 2026-09-08: meeting {meeting_id}"):
        schedule_meeting(app, "lg", _at(8, hour=9), actor=SECRETARY, place=PLACE)
    assert [r.id for r in list_meetings(app)] == [meeting_id]


def test_members_read_and_only_the_secretary_and_director_run(app: App) -> None:
    with pytest.raises(PermissionDenied, match="may schedule meetings of lg"):
        schedule_meeting(app, "lg", _at(8), actor=MEMBER, place=PLACE)
    with pytest.raises(PermissionDenied):
        schedule_meeting(app, "lg", _at(8), actor=RECTOR, place=PLACE)
    meeting_id = _schedule(app, 8)
    with pytest.raises(PermissionDenied, match="only director, secretary may edit the agenda"):
        add_agenda_item(app, meeting_id, actor=MEMBER, kind="dialog", title="Något")
    item = add_agenda_item(app, meeting_id, actor=SECRETARY, kind="dialog", title="Något")
    with pytest.raises(PermissionDenied):
        remove_agenda_item(app, item, actor=MEMBER)
    with pytest.raises(PermissionDenied, match="'send_agenda' needs one of the roles"):
        send_agenda(app, meeting_id, actor=MEMBER)
    with pytest.raises(InputError, match="needs a presenter"):
        add_agenda_item(app, meeting_id, actor=SECRETARY, kind="information", title="Info")
    with pytest.raises(InputError, match="unknown kind 'beslut'"):
        add_agenda_item(app, meeting_id, actor=SECRETARY, kind="beslut", title="X")
    with pytest.raises(InputError, match=r"position 5 is outside 1\.\.2"):
        add_agenda_item(app, meeting_id, actor=SECRETARY, kind="dialog", title="X", position=5)
    with pytest.raises(NotFound, match=r"person 'nobody@example\.se' not found"):
        add_agenda_item(
            app,
            meeting_id,
            actor=SECRETARY,
            kind="dialog",
            title="X",
            presenter="nobody@example.se",
        )
    # Wrong state: held before the agenda was sent, closed before held.
    with pytest.raises(TransitionRefused, match="cannot 'hold' in state 'planned'"):
        hold_meeting(app, meeting_id, MeetingRecord(), actor=SECRETARY)
    with pytest.raises(TransitionRefused, match="cannot 'close' in state 'planned'"):
        close_meeting(app, meeting_id, actor=DIRECTOR)
    assert meeting_detail(app, meeting_id).meeting.agenda_items == 1


def test_the_agenda_is_fixed_once_the_meeting_is_held(app: App, clock: FixedClock) -> None:
    meeting_id, items = _ready(app, 8)
    empty = _schedule(app, 15)
    with pytest.raises(InputError, match="the agenda is empty"):
        send_agenda(app, empty, actor=SECRETARY)
    _hold_simply(app, clock, meeting_id)
    with pytest.raises(TransitionRefused, match="only possible before it is held"):
        add_agenda_item(app, meeting_id, actor=SECRETARY, kind="dialog", title="Sent")
    with pytest.raises(TransitionRefused, match="cannot 'edit the agenda' in state 'held'"):
        remove_agenda_item(app, items[0], actor=SECRETARY)
    with pytest.raises(TransitionRefused):
        move_agenda_item(app, items[0], 2, actor=SECRETARY)
    with pytest.raises(TransitionRefused, match="cannot 'cancel' in state 'held'"):
        cancel_meeting(app, meeting_id, actor=SECRETARY, reason="för sent")


def test_the_record_is_validated_fully_before_anything_is_written(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    meeting_id, items = _ready(app, 8)
    clock.set(_at(8, hour=16))
    good = ActionInput("Skickar underlag", PC_HEAD, date(2026, 9, 15))
    cases = [
        (MeetingRecord(absent=["nobody@example.se"]), "absent[0]", "person 'nobody@example.se'"),
        (MeetingRecord(absent=[RECTOR]), "absent[0]", "was not called"),
        (MeetingRecord(guests=[MEMBER]), "guests[0]", "already called"),
        (MeetingRecord(items=[ItemRecord(999)]), "item[0].id", "has no agenda item 999"),
        (
            MeetingRecord(items=[ItemRecord(items[0]), ItemRecord(items[0])]),
            "item[1].id",
            "named twice",
        ),
        (
            MeetingRecord(actions=[good, ActionInput("Ringer", "x@example.se", date(2026, 9, 9))]),
            "action[1].owner",
            "action 2 ('Ringer'): person 'x@example.se' not found",
        ),
        (
            MeetingRecord(actions=[ActionInput("Ringer", PC_HEAD, date(2026, 9, 7))]),
            "action[0].due",
            "due date 2026-09-07 is in the past",
        ),
        (
            MeetingRecord(actions=[ActionInput(" ", PC_HEAD, date(2026, 9, 9))]),
            "action[0].text",
            "has no text",
        ),
    ]
    for record, key, message in cases:
        with pytest.raises(InputError, match=re.escape(message)) as refused:
            hold_meeting(app, meeting_id, record, actor=SECRETARY)
        assert refused.value.key == key
    detail = meeting_detail(app, meeting_id)
    assert detail.meeting.state == "agenda_sent"
    assert detail.actions == []
    assert all(a.present is None for a in detail.attendance)

    minutes = tmp_path / "protokoll.toml"
    minutes.write_text(
        f'absent = ["{MEMBER}"]\n\n'
        f"[[item]]\nid = {items[0]}\nnotes = 'Presenterades.'\n\n"
        '[[action]]\ntext = "Skickar underlag"\nowner = "okand@example.se"\ndue = 2026-09-15\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as refused:
        hold_meeting_from_file(app, meeting_id, minutes, actor=SECRETARY)
    assert (refused.value.file, refused.value.line, refused.value.key) == (
        str(minutes),
        9,
        "action[0].owner",
    )
    minutes.write_text(minutes.read_text().replace("okand@", "avdelningschef.hr@"))
    held = hold_meeting_from_file(app, meeting_id, minutes, actor=SECRETARY)
    assert (held.state, held.present, held.absent, len(held.actions)) == ("held", 9, 1, 1)


# --- carrying over -------------------------------------------------------------------------


def test_an_item_taken_up_again_lands_on_the_meeting_scheduled_afterwards(
    app: App, clock: FixedClock
) -> None:
    first, items = _ready(app, 8)
    clock.set(_at(8, hour=16))
    held = hold_meeting(
        app,
        first,
        MeetingRecord(items=[ItemRecord(items[1], notes="Frågan bordläggs.", take_up_again=True)]),
        actor=SECRETARY,
    )
    assert held.resumed_at is None
    assert held.take_up_again == ["FoU: hypotesförslag om självstyrande team"]

    scheduled = schedule_meeting(app, "lg", _at(15), actor=SECRETARY, place=PLACE)
    assert scheduled.resumed_items == ["Återupptas: FoU: hypotesförslag om självstyrande team"]
    (resumed,) = meeting_detail(app, scheduled.meeting_id).agenda
    assert (resumed.kind, resumed.presenter) == ("dialog", PC_HEAD)
    assert (resumed.carried_from_item, resumed.carried_from_meeting) == (items[1], first)
    origin = next(i for i in meeting_detail(app, first).agenda if i.id == items[1])
    assert (origin.carried_to_item, origin.carried_to_meeting) == (resumed.id, scheduled.meeting_id)
    # Carried once: the meeting after that does not get it again.
    assert schedule_meeting(app, "lg", _at(22), actor=SECRETARY, place=PLACE).resumed_items == []

    # Marked again at the second meeting, it comes back once more, without a double prefix.
    send_agenda(app, scheduled.meeting_id, actor=SECRETARY)
    clock.set(_at(15, hour=16))
    again = hold_meeting(
        app,
        scheduled.meeting_id,
        MeetingRecord(items=[ItemRecord(resumed.id, take_up_again=True)]),
        actor=SECRETARY,
    )
    third = meeting_detail(app, again.resumed_at or 0)
    assert third.meeting.starts_at == _at(22)
    assert [i.title for i in third.agenda] == [resumed.title]


def test_a_series_takes_up_waiting_items_at_its_first_meeting_only(
    app: App, clock: FixedClock
) -> None:
    first, items = _ready(app, 8)
    clock.set(_at(8, hour=16))
    hold_meeting(
        app,
        first,
        MeetingRecord(items=[ItemRecord(items[1], take_up_again=True)]),
        actor=SECRETARY,
    )
    series = schedule_series(
        app,
        "lg",
        [(_at(day), _at(day, hour=15)) for day in (29, 15, 22)],  # given out of order
        actor=SECRETARY,
        place=PLACE,
    )
    assert [s.starts_at.day for s in series] == [15, 22, 29]
    assert [s.resumed_items for s in series] == [
        ["Återupptas: FoU: hypotesförslag om självstyrande team"],
        [],
        [],
    ]
    # one refused slot (a Saturday) saves none of the series
    with pytest.raises(InputError, match="not a working day"):
        schedule_series(
            app,
            "lg",
            [(_at(6, 10), _at(6, 10, 15)), (_at(10, 10), _at(10, 10, 15))],
            actor=SECRETARY,
            place=PLACE,
        )
    with app.db.session() as session:
        keys = set(session.scalars(select(Meeting.key)))
    assert keys.isdisjoint({"meeting:lg:2026-10-06", "meeting:lg:2026-10-10"})


def test_an_item_taken_up_again_goes_at_once_to_the_next_scheduled_meeting(
    app: App, clock: FixedClock
) -> None:
    first, items = _ready(app, 8)
    later = _schedule(app, 22)
    following = _schedule(app, 15)  # scheduled last, but the next one in time
    add_agenda_item(app, following, actor=SECRETARY, kind="dialog", title="Elevnärvaro")
    send_agenda(app, following, actor=SECRETARY)  # an agenda already sent still takes it
    clock.set(_at(8, hour=16))
    held = hold_meeting(
        app,
        first,
        MeetingRecord(items=[ItemRecord(items[2], take_up_again=True)]),
        actor=SECRETARY,
    )
    assert held.resumed_at == following
    agenda = meeting_detail(app, following).agenda
    assert [(i.position, i.title) for i in agenda] == [
        (1, "Elevnärvaro"),
        (2, "Återupptas: Tidplan för VP 2027/28"),
    ]
    assert agenda[1].carried_from_item == items[2]
    assert meeting_detail(app, later).agenda == []
    history = meeting_detail(app, following).history
    assert history[-1].trigger == "carry_item"
    assert history[-1].actor == SECRETARY


def test_a_resumed_item_is_handed_on_when_removed_or_its_meeting_cancelled(
    app: App, clock: FixedClock
) -> None:
    first, items = _ready(app, 8)
    _hold_simply(app, clock, first, items=[ItemRecord(items[0], take_up_again=True)])
    second = _schedule(app, 15)
    third = _schedule(app, 22)
    (resumed,) = meeting_detail(app, second).agenda
    moved_to = remove_agenda_item(app, resumed.id, actor=SECRETARY)
    assert moved_to is not None
    assert moved_to.id == third
    assert meeting_detail(app, second).agenda == []
    (at_third,) = meeting_detail(app, third).agenda
    assert at_third.carried_from_item == items[0]

    # The third meeting is cancelled: nothing after it yet, so the item waits ...
    assert cancel_meeting(app, third, actor=DIRECTOR, reason="Krockar med nämnden") == "cancelled"
    assert meeting_detail(app, third).agenda == []
    assert _outbox(app)[-1].kind == "invite"  # never invited, so no cancellation was sent
    # ... and its date is free again; the new meeting that day gets the item.
    replacement = schedule_meeting(app, "lg", _at(22, hour=9), actor=SECRETARY, place=PLACE)
    assert replacement.resumed_items == ["Återupptas: Introduktion av chefscontrollerfunktionen"]


def test_an_open_action_is_carried_to_the_next_meeting(app: App, clock: FixedClock) -> None:
    first, _ = _ready(app, 8)
    _hold_simply(
        app,
        clock,
        first,
        actions=[
            ActionInput("Skickar ut förslaget", PC_HEAD, date(2026, 9, 11)),
            ActionInput("Bokar lokal", SECRETARY, date(2026, 9, 11)),
        ],
    )
    pending, booked = (a.id for a in meeting_detail(app, first).actions)
    with pytest.raises(InputError, match="no later meeting of lg is scheduled"):
        carry_action(app, pending, actor=SECRETARY)
    complete_agreement(app, booked, actor=SECRETARY)

    scheduled = schedule_meeting(app, "lg", _at(15), actor=SECRETARY, place=PLACE)
    assert [(a.id, a.meeting_id, a.owner) for a in scheduled.open_actions] == [
        (pending, first, PC_HEAD)
    ]
    second = scheduled.meeting_id
    assert [a.id for a in meeting_detail(app, second).earlier_open_actions] == [pending]
    with pytest.raises(PermissionDenied):
        carry_action(app, pending, actor=PC_HEAD)
    with pytest.raises(InputError, match="in the past"):
        carry_action(app, pending, actor=SECRETARY, due_on=date(2026, 9, 1))
    with pytest.raises(InputError, match="already done"):
        carry_action(app, booked, actor=SECRETARY)
    with pytest.raises(InputError, match="not a later meeting still to be held"):
        carry_action(app, pending, actor=SECRETARY, to_meeting=first)

    carried = carry_action(app, pending, actor=SECRETARY, due_on=date(2026, 9, 22))
    assert (carried.from_meeting, carried.to_meeting) == (first, second)
    with pytest.raises(InputError, match=f"already carried to meeting {second}"):
        carry_action(app, pending, actor=SECRETARY)
    original = meeting_detail(app, first).actions[0]
    assert (original.carried_to_meeting, original.is_open) == (second, False)
    (copy,) = meeting_detail(app, second).actions
    assert (copy.id, copy.carried_from_meeting, copy.due_on) == (
        carried.new_action_id,
        first,
        date(2026, 9, 22),
    )
    assert meeting_detail(app, second).earlier_open_actions == []

    # The first meeting may close: its open action went on. The second may not, yet.
    approve_minutes(app, first, actor=DIRECTOR)
    assert close_meeting(app, first, actor=SECRETARY) == "closed"
    add_agenda_item(app, second, actor=SECRETARY, kind="dialog", title="Förslaget")
    send_agenda(app, second, actor=SECRETARY)
    _hold_simply(app, clock, second)
    approve_minutes(app, second, actor=DIRECTOR)
    with pytest.raises(TransitionRefused, match=f"still open \\(ids {copy.id}\\)"):
        close_meeting(app, second, actor=DIRECTOR)
    complete_agreement(app, copy.id, actor=PC_HEAD)
    assert close_meeting(app, second, actor=DIRECTOR) == "closed"
    with app.db.session() as session:
        assert session.scalar(select(Agreement.carried_to_id).where(Agreement.id == pending)) == (
            second
        )


# --- moving and cancelling -----------------------------------------------------------------


def test_postponing_moves_the_steps_and_updates_invitees(app: App) -> None:
    meeting_id = _schedule(app, 15)
    moved = postpone_meeting(
        app, meeting_id, actor=SECRETARY, starts_at=_at(16, hour=9), reason="Nämndmöte"
    )
    assert moved.key == "meeting:lg:2026-09-16"
    steps = {s.key: s.due_at for s in meeting_detail(app, meeting_id).checklist}
    assert steps == {"call_for_items": _at(9, hour=16), "send_agenda": _at(14, hour=16)}
    assert _outbox(app) == []  # nobody was invited yet
    with pytest.raises(InputError, match=r"not a working day \(söndag\)"):
        postpone_meeting(app, meeting_id, actor=SECRETARY, starts_at=_at(20), reason="x")
    other = _schedule(app, 22)
    with pytest.raises(InputError, match="lg already meets on 2026-09-22"):
        postpone_meeting(app, meeting_id, actor=SECRETARY, starts_at=_at(22), reason="x")
    with pytest.raises(TransitionRefused, match="the same as the current one"):
        postpone_meeting(
            app, meeting_id, actor=SECRETARY, starts_at=_at(16, hour=9), reason="ingen ändring"
        )

    add_agenda_item(app, meeting_id, actor=SECRETARY, kind="dialog", title="Budget")
    send_agenda(app, meeting_id, actor=SECRETARY)
    postpone_meeting(app, meeting_id, actor=DIRECTOR, starts_at=_at(17), reason="Sjukdom")
    updates = [m for m in _outbox(app) if "Ändrad tid" in m.subject]
    assert len(updates) == 11
    assert "Sjukdom (flyttat från 2026-09-16 09:00)" in _text_of(updates[0])
    assert meeting_detail(app, meeting_id).meeting.starts_at.time() == time(13, 0)

    cancel_meeting(app, meeting_id, actor=SECRETARY, reason="Ersätts av mötet den 22 september")
    assert sum(1 for m in _outbox(app) if m.kind == "cancel") == 11
    assert meeting_detail(app, other).meeting.state == "planned"
    with pytest.raises(InputError, match="a reason is required"):
        cancel_meeting(app, other, actor=SECRETARY, reason=" ")
