"""A dialog round from planning to close: dates, slots, the life of one dialog, its audit trail."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from support import dialog_id_of

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import AuditEvent, Dialog, OutboxMessage
from styrhjul.errors import InputError, NotFound, PermissionDenied, TransitionRefused
from styrhjul.services.checklist import complete_agreement, complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import (
    AgreementInput,
    cancel,
    carry_agreement_on,
    close,
    hold,
    open_due_preparations,
    postpone,
)
from styrhjul.services.planning import next_round, plan_round
from styrhjul.services.views import dialog_detail

YEAR = SchoolYear(2026)
UNIT = "vastra-skolan"
RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
SECRETARY = "sekreterare.ledningsgrupp@example.se"
DIRECTOR = "utbildningsdirektor@example.se"
OTHER_RECTOR = "rektor.bergaskolan@example.se"
STEP_KEYS = ["quality_report", "quality_criteria", "facts", "material", "observations",
             "area_coordination", "questions"]  # fmt: skip


def _dialogs(app: App) -> list[Dialog]:
    with app.db.session() as session:
        found = list(session.scalars(select(Dialog).order_by(Dialog.id)))
        for dialog in found:  # load what the assertions read before the session ends
            _ = dialog.checklist, dialog.organizer, dialog.unit
        return found


def _local(instant: datetime) -> datetime:
    return instant.astimezone(STOCKHOLM)


def _outbox(app: App) -> list[OutboxMessage]:
    with app.db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _audit(app: App, dialog_id: int) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (e.actor, e.trigger, e.from_state, e.to_state)
        for e in dialog_detail(app, dialog_id).history
    ]


# -- planning -----------------------------------------------------------------------------


def test_plan_round_creates_forty_dialogs_with_seven_steps(app: App) -> None:
    result = plan_round(app, YEAR, 1)
    assert len(result.created) == 40
    assert result.skipped == []
    assert result.existing == 0
    assert result.invites == 80
    dialogs = _dialogs(app)
    assert sorted(d.id for d in dialogs) == sorted(result.created)
    for dialog in dialogs:
        assert dialog.state == "planned"
        assert dialog.school_year == "2026/27"
        assert dialog.round_no == 1
        assert dialog.ical_sequence == 0
        assert [i.key for i in dialog.checklist] == STEP_KEYS
        assert dialog.ends_at - dialog.starts_at == timedelta(minutes=75)
        start = _local(dialog.starts_at)
        assert start.date() >= date(2026, 10, 5)
        assert app.calendar.is_working_day(start.date())
        assert start.time() in {time(9, 0), time(10, 30), time(13, 0), time(14, 30)}
    # Östra skolan's rektor is the one who took over on 2025-08-01.
    ostra = next(d for d in dialogs if d.unit.code == "ostra-skolan")
    detail = dialog_detail(app, ostra.id)
    assert detail.dialog.participant == "rektor.ostra-skolan@example.se"
    assert detail.dialog.organizer == "verksamhetschef.grundskola-soder@example.se"


def test_due_dates_fall_on_working_days_before_the_dialog(planned_app: App) -> None:
    app = planned_app
    for dialog in _dialogs(app):
        assert app.calendar.is_working_day(_local(dialog.prepare_at).date())
        assert _local(dialog.prepare_at).time() == time(8, 0)
        for item in dialog.checklist:
            due = _local(item.due_at)
            assert app.calendar.is_working_day(due.date()), item.key
            assert due.date() < _local(dialog.starts_at).date(), item.key
            assert dialog.prepare_at < item.due_at, item.key
            assert item.remind_at <= item.due_at <= item.escalate_at, item.key
            assert dialog.prepare_at <= item.remind_at, item.key
            assert app.calendar.is_working_day(_local(item.escalate_at).date()), item.key
        days = {i.key: _local(i.due_at).date() for i in dialog.checklist}
        start_day = _local(dialog.starts_at).date()
        assert app.calendar.working_days_between(days["quality_report"], start_day) == 10
        assert app.calendar.working_days_between(days["questions"], start_day) == 2


def test_assignees_are_the_rektor_and_the_area_head(planned_app: App) -> None:
    app = planned_app
    detail = dialog_detail(app, dialog_id_of(app))
    by_key = {s.key: s.assignee for s in detail.checklist}
    assert by_key == {
        "quality_report": RECTOR,
        "quality_criteria": HEAD,
        "facts": RECTOR,
        "material": RECTOR,
        "observations": RECTOR,
        "area_coordination": HEAD,
        "questions": HEAD,
    }
    assert {s.key for s in detail.checklist if not s.required} == {"area_coordination"}


def test_no_organiser_has_two_dialogs_at_once(planned_app: App) -> None:
    app = planned_app
    by_organiser: dict[int, list[Dialog]] = defaultdict(list)
    for dialog in _dialogs(app):
        by_organiser[dialog.organizer_id].append(dialog)
    assert len(by_organiser) == 5
    for dialogs in by_organiser.values():
        dialogs.sort(key=lambda d: d.starts_at)
        for earlier, later in itertools.pairwise(dialogs):
            assert earlier.ends_at <= later.starts_at, (earlier.id, later.id)


def test_planning_again_creates_nothing(planned_app: App) -> None:
    app = planned_app
    before = len(_outbox(app))
    again = plan_round(app, YEAR, 1)
    assert again.created == []
    assert again.existing == 40
    assert again.invites == 0
    assert len(_dialogs(app)) == 40
    assert len(_outbox(app)) == before == 80


def test_an_unknown_round_is_refused(app: App) -> None:
    with pytest.raises(InputError, match="round 4 is not defined"):
        plan_round(app, YEAR, 4)


def test_next_round(app: App, clock: FixedClock) -> None:
    assert next_round(app) == (YEAR, 1)
    clock.set(datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM))
    assert next_round(app) == (YEAR, 2)
    clock.set(datetime(2027, 6, 1, 9, 0, tzinfo=STOCKHOLM))
    assert next_round(app) == (YEAR.next(), 1)


# -- the life of one dialog ---------------------------------------------------------------


def test_the_whole_life_of_a_dialog(planned_app: App, clock: FixedClock) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    detail = dialog_detail(app, dialog_id)
    prepare_at = detail.prepare_at
    starts_at = detail.dialog.starts_at

    # Preparation opens at prepare_at, not a minute before.
    clock.set(prepare_at - timedelta(minutes=1))
    assert dialog_id not in open_due_preparations(app)
    assert dialog_detail(app, dialog_id).dialog.state == "planned"
    clock.set(prepare_at)
    assert dialog_id in open_due_preparations(app)
    assert dialog_detail(app, dialog_id).dialog.state == "preparing"
    assert dialog_id not in open_due_preparations(app)

    # The steps are ticked by their assignees; the optional one is left open.
    clock.advance(timedelta(days=1))
    steps = {s.key: s for s in dialog_detail(app, dialog_id).checklist}
    with pytest.raises(PermissionDenied, match=f"checklist step {steps['facts'].id}"):
        complete_step(app, steps["facts"].id, actor=OTHER_RECTOR)
    with pytest.raises(NotFound, match=re.escape("person 'nobody@example.se'")):
        complete_step(app, steps["facts"].id, actor="nobody@example.se")
    with pytest.raises(NotFound, match="checklist step 999999"):
        complete_step(app, 999999, actor=RECTOR)
    required = [k for k in STEP_KEYS if k != "area_coordination"]
    for key in required:
        assert dialog_detail(app, dialog_id).dialog.state == "preparing"
        item = complete_step(app, steps[key].id, actor=steps[key].assignee or "")
        assert item.done_at == clock.now()
        assert item.done_by == steps[key].assignee
    assert dialog_detail(app, dialog_id).dialog.state == "ready"
    # Ticking a step twice changes nothing: same done_at, no audit row, same version.
    ticked_at = clock.now()
    audit_before = _audit(app, dialog_id)
    version = dialog_detail(app, dialog_id).dialog.version
    clock.advance(timedelta(hours=1))
    again = complete_step(app, steps["facts"].id, actor=RECTOR)
    assert (again.done_at, again.done_by) == (ticked_at, RECTOR)
    assert _audit(app, dialog_id) == audit_before
    assert dialog_detail(app, dialog_id).dialog.version == version

    # Holding before the start is refused, naming state and reason.
    with pytest.raises(TransitionRefused) as refused:
        hold(app, dialog_id, actor=SECRETARY, minutes="Protokoll")
    assert "'hold' in state 'ready'" in str(refused.value)
    assert "has not started yet" in str(refused.value)

    clock.set(starts_at + timedelta(minutes=80))
    with pytest.raises(PermissionDenied, match="needs one of the roles area_head, secretary"):
        hold(app, dialog_id, actor=RECTOR, minutes="Protokoll")
    with pytest.raises(NotFound, match=re.escape("person 'stranger@example.se'")):
        hold(app, dialog_id, actor="stranger@example.se", minutes="Protokoll")
    with pytest.raises(InputError, match="minutes are required"):
        hold(app, dialog_id, actor=SECRETARY, minutes="   ")
    with pytest.raises(InputError, match="agreement 1"):
        hold(
            app,
            dialog_id,
            actor=SECRETARY,
            minutes="Protokoll",
            agreements=[AgreementInput("Gör något", "ghost@example.se", date(2026, 12, 1))],
        )
    assert dialog_detail(app, dialog_id).dialog.state == "ready"

    state = hold(
        app,
        dialog_id,
        actor=SECRETARY,
        minutes="  Resultaten i matematik diskuterades.  ",
        agreements=[
            AgreementInput("Analysera resultaten i åk 6", RECTOR, date(2026, 12, 1)),
            AgreementInput("Stöd från Pedagogiskt center", HEAD, date(2026, 12, 15)),
        ],
    )
    assert state == "following_up"
    detail = dialog_detail(app, dialog_id)
    assert detail.minutes == "Resultaten i matematik diskuterades."
    assert [(a.owner, a.due_on) for a in detail.agreements] == [
        (RECTOR, date(2026, 12, 1)),
        (HEAD, date(2026, 12, 15)),
    ]
    first, second = (a.id for a in detail.agreements)

    # Close is refused while agreements are open; the message lists their ids.
    with pytest.raises(TransitionRefused) as refused:
        close(app, dialog_id, actor=SECRETARY)
    assert f"2 agreement(s) still open (ids {first}, {second})" in str(refused.value)
    with pytest.raises(PermissionDenied):
        complete_agreement(app, first, actor=OTHER_RECTOR)
    with pytest.raises(NotFound, match="agreement 999999"):
        complete_agreement(app, 999999, actor=RECTOR)
    assert complete_agreement(app, first, actor=RECTOR).done_by == RECTOR
    with pytest.raises(
        TransitionRefused, match=f"1 agreement\\(s\\) still open \\(ids {second}\\)"
    ):
        close(app, dialog_id, actor=SECRETARY)
    assert complete_agreement(app, second, actor=HEAD).done_by == HEAD

    clock.advance(timedelta(days=30))
    assert close(app, dialog_id, actor=SECRETARY, reason="allt klart") == "closed"
    detail = dialog_detail(app, dialog_id)
    assert detail.dialog.state == "closed"
    assert detail.allowed == []

    for attempt in (
        lambda: close(app, dialog_id, actor=SECRETARY),
        lambda: cancel(app, dialog_id, actor=SECRETARY, reason="för sent"),
        lambda: hold(app, dialog_id, actor=SECRETARY, minutes="igen"),
    ):
        with pytest.raises(TransitionRefused, match="in state 'closed'; allowed: none"):
            attempt()

    steps_done = [("step_done", k) for k in required]
    assert _audit(app, dialog_id) == [
        ("system", "plan", None, "planned"),
        ("system", "open_preparation", "planned", "preparing"),
        *[(steps[k].assignee, t, "preparing", "preparing") for t, k in steps_done[:-1]],
        (steps[required[-1]].assignee, "step_done", "preparing", "preparing"),
        ("system", "mark_ready", "preparing", "ready"),
        (SECRETARY, "hold", "ready", "held"),
        ("system", "follow_up", "held", "following_up"),
        (RECTOR, "agreement_done", "following_up", "following_up"),
        (HEAD, "agreement_done", "following_up", "following_up"),
        (SECRETARY, "close", "following_up", "closed"),
    ]
    history = dialog_detail(app, dialog_id).history
    assert [h.at for h in history] == sorted(h.at for h in history)
    assert history[-1].reason == "allt klart"


def test_a_dialog_without_agreements_closes_after_it_is_held(
    planned_app: App, clock: FixedClock
) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    detail = dialog_detail(app, dialog_id)
    clock.set(detail.prepare_at)
    open_due_preparations(app)
    clock.set(detail.dialog.starts_at)
    # Held straight from 'preparing': the checklist need not be complete to hold.
    assert hold(app, dialog_id, actor=HEAD, minutes="Inget att följa upp") == "held"
    assert close(app, dialog_id, actor=HEAD) == "closed"
    assert [t for _, t, _, _ in _audit(app, dialog_id)] == [
        "plan", "open_preparation", "hold", "close",
    ]  # fmt: skip


def test_unknown_dialog_is_not_found(app: App) -> None:
    with pytest.raises(NotFound, match="dialog 424242"):
        cancel(app, 424242, actor=SECRETARY, reason="finns inte")
    with pytest.raises(NotFound, match="dialog 424242"):
        dialog_detail(app, 424242)


def test_audit_rows_cannot_be_changed_or_deleted(planned_app: App) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    before = _audit(app, dialog_id)
    engine = app.db.engine
    for statement in (
        text("UPDATE audit_event SET actor = 'someone else'"),
        text("DELETE FROM audit_event"),
        update(AuditEvent).where(AuditEvent.entity_id == dialog_id).values(reason="rewritten"),
        delete(AuditEvent).where(AuditEvent.entity_id == dialog_id),
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)
    assert _audit(app, dialog_id) == before
    # Appending is still allowed.
    with engine.begin() as connection:
        connection.execute(
            AuditEvent.__table__.insert().values(
                entity="dialog", entity_id=dialog_id, at=datetime(2026, 9, 1, tzinfo=STOCKHOLM),
                actor="test", trigger="note", from_state=None, to_state=None, reason="",
            )
        )  # fmt: skip
    assert len(_audit(app, dialog_id)) == len(before) + 1


# -- postpone and cancel ------------------------------------------------------------------


def test_postpone_moves_times_and_sends_updated_invites(
    planned_app: App, clock: FixedClock
) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    old = dialog_detail(app, dialog_id)
    # Across the change to winter time (25 October 2026): still 13:00 on the wall clock.
    new_start = datetime(2026, 11, 3, 13, 0, tzinfo=STOCKHOLM)
    moved = postpone(app, dialog_id, actor=HEAD, starts_at=new_start, reason="Krockar med APT")
    assert moved.ical_sequence == 1
    detail = dialog_detail(app, dialog_id)
    assert detail.dialog.state == "planned"
    assert detail.dialog.starts_at == new_start
    assert detail.dialog.starts_at.utcoffset() == timedelta(hours=1)
    assert detail.ends_at - detail.dialog.starts_at == timedelta(minutes=75)
    assert detail.ical_sequence == 1
    assert detail.ical_uid == old.ical_uid
    assert detail.prepare_at > old.prepare_at
    assert detail.prepare_at.time() == time(8, 0)
    assert app.calendar.working_days_between(detail.prepare_at.date(), new_start.date()) == 20
    for before, after in zip(old.checklist, detail.checklist, strict=True):
        assert after.due_at > before.due_at, after.key
        assert after.due_at.date() < new_start.date()
        assert app.calendar.is_working_day(after.due_at.date())
        assert detail.prepare_at <= after.remind_at <= after.due_at <= after.escalate_at
    report = next(s for s in detail.checklist if s.key == "quality_report")
    assert app.calendar.working_days_between(report.due_at.date(), new_start.date()) == 10

    updates = [r for r in _outbox(app) if f"{old.ical_uid}:1:" in r.key]
    assert sorted(r.recipient.split("<")[-1].rstrip(">") for r in updates) == sorted([HEAD, RECTOR])
    assert {r.kind for r in updates} == {"invite"}
    assert all(r.key.startswith(f"meeting:{old.ical_uid}:1:REQUEST:") for r in updates)
    assert all(r.status == "pending" for r in updates)
    assert _audit(app, dialog_id)[-1] == (HEAD, "postpone", "planned", "planned")
    assert "Krockar med APT" in dialog_detail(app, dialog_id).history[-1].reason


def test_postpone_keeps_the_dates_of_steps_already_done(
    planned_app: App, clock: FixedClock
) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    old = dialog_detail(app, dialog_id)
    clock.set(old.prepare_at)
    open_due_preparations(app)
    done = next(s for s in old.checklist if s.key == "quality_criteria")
    complete_step(app, done.id, actor=HEAD)
    postpone(
        app,
        dialog_id,
        actor=SECRETARY,
        starts_at=datetime(2026, 11, 10, 9, 0, tzinfo=STOCKHOLM),
        reason="Sjukdom",
    )
    after = {s.key: s for s in dialog_detail(app, dialog_id).checklist}
    assert after["quality_criteria"].due_at == done.due_at
    assert after["facts"].due_at > next(s for s in old.checklist if s.key == "facts").due_at
    assert dialog_detail(app, dialog_id).dialog.state == "preparing"


def test_postpone_refusals(planned_app: App, clock: FixedClock) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    saturday = datetime(2026, 10, 24, 9, 0, tzinfo=STOCKHOLM)
    with pytest.raises(InputError, match="2026-10-24 is not a working day") as caught:
        postpone(app, dialog_id, actor=HEAD, starts_at=saturday, reason="helg")
    assert caught.value.key == "starts_at"
    with pytest.raises(InputError, match="time zone"):
        postpone(app, dialog_id, actor=HEAD, starts_at=datetime(2026, 11, 3, 9), reason="x")  # noqa: DTZ001
    with pytest.raises(InputError, match="reason"):
        postpone(
            app,
            dialog_id,
            actor=HEAD,
            starts_at=datetime(2026, 11, 3, 9, tzinfo=STOCKHOLM),
            reason=" ",
        )
    with pytest.raises(TransitionRefused, match="must lie in the future"):
        postpone(
            app,
            dialog_id,
            actor=HEAD,
            starts_at=datetime(2026, 8, 31, 9, tzinfo=STOCKHOLM),
            reason="bakåt",
        )
    with pytest.raises(PermissionDenied):
        postpone(
            app,
            dialog_id,
            actor=RECTOR,
            starts_at=datetime(2026, 11, 3, 9, tzinfo=STOCKHOLM),
            reason="rektorn vill",
        )
    detail = dialog_detail(app, dialog_id)
    assert detail.ical_sequence == 0
    assert [t for _, t, _, _ in _audit(app, dialog_id)] == ["plan"]
    assert not [r for r in _outbox(app) if f"{detail.ical_uid}:1:" in r.key]


def test_cancel_queues_cancellations(planned_app: App) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    uid = dialog_detail(app, dialog_id).ical_uid
    with pytest.raises(InputError, match="reason"):
        cancel(app, dialog_id, actor=DIRECTOR, reason="")
    assert cancel(app, dialog_id, actor=DIRECTOR, reason="Skolan stängd") == "cancelled"
    detail = dialog_detail(app, dialog_id)
    assert detail.dialog.state == "cancelled"
    assert detail.ical_sequence == 1
    assert detail.allowed == []
    cancels = [r for r in _outbox(app) if r.kind == "cancel"]
    assert sorted(r.key for r in cancels) == sorted(
        f"meeting:{uid}:1:CANCEL:{who}" for who in (HEAD, RECTOR)
    )
    assert _audit(app, dialog_id)[-1] == (DIRECTOR, "cancel", "planned", "cancelled")
    with pytest.raises(TransitionRefused, match="in state 'cancelled'"):
        cancel(app, dialog_id, actor=DIRECTOR, reason="igen")


def test_an_agreement_carried_to_the_next_round_no_longer_holds_the_follow_up(
    planned_app: App, clock: FixedClock
) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app, UNIT)
    detail = dialog_detail(app, dialog_id)
    clock.set(detail.dialog.starts_at + timedelta(minutes=80))
    open_due_preparations(app)
    hold(app, dialog_id, actor=SECRETARY, minutes="Läsförståelsen diskuterades.", agreements=[
        AgreementInput("Kartlägg läsförståelsen i åk 3", RECTOR, date(2026, 12, 1)),
        AgreementInput("Bjud in Pedagogiskt center", HEAD, date(2026, 12, 15)),
    ])  # fmt: skip
    carried, done = (a.id for a in dialog_detail(app, dialog_id).agreements)
    with pytest.raises(InputError, match="no later area_rektor dialog planned"):
        carry_agreement_on(app, carried, actor=SECRETARY)
    plan_round(app, YEAR, 2)
    with pytest.raises(PermissionDenied, match="may carry its agreements"):
        carry_agreement_on(app, carried, actor=RECTOR)
    with pytest.raises(NotFound, match="agreement of a dialog 999999"):
        carry_agreement_on(app, 999999, actor=SECRETARY)
    copy = carry_agreement_on(app, carried, actor=SECRETARY, due_on=date(2027, 2, 26))
    with pytest.raises(InputError, match=f"already carried to dialog {copy.instance_id}"):
        carry_agreement_on(app, carried, actor=SECRETARY)
    later = dialog_detail(app, copy.instance_id)
    assert later.dialog.round_no == 2
    assert later.dialog.unit == UNIT
    assert [(a.text, a.owner, a.due_on) for a in later.agreements] == [
        ("Kartlägg läsförståelsen i åk 3", RECTOR, date(2027, 2, 26))
    ]
    with pytest.raises(TransitionRefused, match=rf"1 agreement\(s\) still open \(ids {done}\)"):
        close(app, dialog_id, actor=SECRETARY)
    complete_agreement(app, done, actor=HEAD)
    assert close(app, dialog_id, actor=SECRETARY) == "closed"
    reasons = [h.reason for h in dialog_detail(app, dialog_id).history]
    assert f"överenskommelse {carried} förd till dialog {copy.instance_id}" in reasons
