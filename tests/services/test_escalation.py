"""Reminders, overdue notices and escalation up the chain, on the injected clock walked over days.

Round 1 of 2026/27 is planned and three of its dialogs kept (``school_app``: the shipped
dialog definition, which escalates once, two working days after due). ``escalating_app``
runs the same dialogs under a copy of the definition that also escalates a second time,
five working days after due. The dialog of Västra skolan starts Tuesday 6 October 14.30;
its rektor's step ``quality_report`` is reminded Friday 18 September 08.00, due Tuesday
22 September 16.00, escalated Thursday 24 September 08.00 (with M = 5, again Tuesday
29 September 08.00).
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select, update
from support import body_of, dialog_id_of, keep_dialogs, write_config

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.db.models import AuditEvent, ChecklistItem, OutboxMessage
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import cancel, postpone
from styrhjul.services.escalation import NoticeReport, send_due_notices
from styrhjul.services.runner import run_due
from styrhjul.wiring import build
from styrhjul.workflows import definition_path

RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
DIRECTOR = "utbildningsdirektor@example.se"
BOARD_CHAIR = "ordforande.bun@example.se"
SECOND_ESCALATION = "escalate_again_working_days_after_due = 5\n"


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


KEPT = ("vastra-skolan", "norrbackaskolan", "ekbackens-forskoleomrade")


@pytest.fixture
def school_app(planned_app: App) -> App:
    """The planned round with three of its dialogs kept: two in Grundskola norr, one preschool."""
    keep_dialogs(planned_app, *KEPT)
    return planned_app


@pytest.fixture
def escalating_app(planned_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[App]:
    """The same three dialogs, run under a definition with a second escalation (M = 5)."""
    folder = tmp_path / "escalating"
    (folder / "workflows").mkdir(parents=True)
    text = definition_path("dialog_round").read_text(encoding="utf-8")
    first = "escalate_working_days_after_due = 2\n"
    assert first in text
    (folder / "workflows" / "dialog_round.toml").write_text(
        text.replace(first, first + SECOND_ESCALATION), encoding="utf-8"
    )
    settings = load_settings(write_config(folder, planned_url), environ={})
    app = build(
        settings,
        clock=clock,
        transport=MaildirTransport(settings.maildir_path),
        workflows_dir=folder / "workflows",
    )
    assert (
        app.machine("dialog_round", 1).definition.spec.timing.escalate_again_working_days_after_due
        == 5
    )
    keep_dialogs(app, *KEPT)
    yield app
    app.close()


def step_id(app: App, key: str, unit: str = "vastra-skolan") -> int:
    dialog_id = dialog_id_of(app, unit)
    with app.db.session() as session:
        found = session.scalar(
            select(ChecklistItem.id).where(
                ChecklistItem.instance_id == dialog_id, ChecklistItem.key == key
            )
        )
    assert found is not None
    return found


def step(app: App, ident: int) -> ChecklistItem:
    with app.db.session() as session:
        item = session.get(ChecklistItem, ident)
        assert item is not None
        return item


def outbox(app: App, prefix: str = "") -> list[OutboxMessage]:
    """Outbox rows whose key starts with ``prefix``, in the order they were written."""
    with app.db.session() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key.startswith(prefix))
                .order_by(OutboxMessage.id)
            )
        )


def mail(row: OutboxMessage) -> EmailMessage:
    parsed = email.message_from_bytes(row.payload, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def to(row: OutboxMessage) -> str:
    """The address a row goes to (the outbox keeps the whole To header)."""
    (address,) = mail(row)["To"].addresses
    return str(address.addr_spec)


def walk(app: App, clock: FixedClock, moment: datetime) -> NoticeReport:
    clock.set(moment)
    return send_due_notices(app)


def escalations(app: App, dialog_id: int) -> list[str]:
    with app.db.session() as session:
        return list(
            session.scalars(
                select(AuditEvent.reason)
                .where(AuditEvent.entity_id == dialog_id, AuditEvent.trigger == "escalate")
                .order_by(AuditEvent.id)
            )
        )


# -- reminders and overdue notices --------------------------------------------------------


def test_a_reminder_goes_out_once_and_only_once(school_app: App, clock: FixedClock) -> None:
    ident = step_id(school_app, "quality_report")
    key = f"reminder:{ident}"
    assert ident not in walk(school_app, clock, at(9, 18, 7, 59)).reminded
    assert outbox(school_app, key) == []

    report = walk(school_app, clock, at(9, 18, 8, 0))
    assert ident in report.reminded
    (row,) = outbox(school_app, key)
    assert to(row) == RECTOR
    assert row.kind == "reminder"
    assert step(school_app, ident).reminded_at == at(9, 18, 8, 0)
    message = mail(row)
    assert message["Subject"] == (
        "Påminnelse: Uppdatera kvalitetsrapporten med analys och bedömning,"
        " senast tisdag 22 september 2026"
    )
    assert "Inför mötet: tisdag 6 oktober 2026 kl. 14.30" in body_of(message)

    for moment in (at(9, 18, 8, 0), at(9, 18, 12, 0), at(9, 21, 8, 0)):
        assert ident not in walk(school_app, clock, moment).reminded
    assert len(outbox(school_app, key)) == 1
    keys = [r.key for r in outbox(school_app, "reminder:")]
    assert len(keys) == len(set(keys))


def test_an_overdue_notice_when_the_due_instant_passes(school_app: App, clock: FixedClock) -> None:
    ident = step_id(school_app, "quality_report")
    key = f"overdue:{ident}"
    assert ident not in walk(school_app, clock, at(9, 22, 15, 59)).overdue
    report = walk(school_app, clock, at(9, 22, 16, 0))
    assert ident in report.overdue
    (row,) = outbox(school_app, key)
    assert to(row) == RECTOR
    assert row.kind == "overdue"
    assert mail(row)["Subject"].startswith("Försenat: Uppdatera kvalitetsrapporten")
    assert step(school_app, ident).overdue_notified_at == at(9, 22, 16, 0)
    assert ident not in walk(school_app, clock, at(9, 23, 9, 0)).overdue
    assert len(outbox(school_app, key)) == 1


# -- escalation ---------------------------------------------------------------------------


def test_escalation_reaches_the_superior_after_n_days_and_stops_without_m(
    school_app: App, clock: FixedClock
) -> None:
    ident = step_id(school_app, "quality_report")
    dialog_id = dialog_id_of(school_app)
    assert (ident, 1) not in walk(school_app, clock, at(9, 24, 7, 59)).escalated
    assert outbox(school_app, f"escalation:{ident}:") == []

    report = walk(school_app, clock, at(9, 24, 8, 0))
    assert (ident, 1) in report.escalated
    (row,) = outbox(school_app, f"escalation:{ident}:")
    assert (row.key, to(row)) == (f"escalation:{ident}:1", HEAD)
    body = body_of(mail(row))
    assert "Ansvarig: Rektor Västra skolan" in body
    assert "försenat 2 arbetsdagar" in body
    item = step(school_app, ident)
    assert (item.escalation_level, item.escalate_at) == (1, None)
    assert (
        f"step quality_report ({ident}) overdue 2 working days: escalation level 1 to {HEAD}"
    ) in escalations(school_app, dialog_id)

    walk(school_app, clock, at(10, 30, 9, 0))
    assert [r.key for r in outbox(school_app, f"escalation:{ident}:")] == [f"escalation:{ident}:1"]


def test_escalation_goes_two_levels_up_the_chain(escalating_app: App, clock: FixedClock) -> None:
    app = escalating_app
    rector_step = step_id(app, "quality_report")  # due 22 Sep
    head_step = step_id(app, "quality_criteria")  # the area head's, due Fri 18 Sep

    walk(app, clock, at(9, 24, 8, 0))
    item = step(app, rector_step)
    assert item.escalation_level == 1
    assert item.escalate_at == at(9, 29, 8, 0)  # due + 5 working days, at 08.00
    assert [(r.key, to(r)) for r in outbox(app, f"escalation:{rector_step}:")] == [
        (f"escalation:{rector_step}:1", HEAD)
    ]

    assert (rector_step, 2) not in walk(app, clock, at(9, 29, 7, 59)).escalated
    report = walk(app, clock, at(9, 29, 8, 0))
    assert (rector_step, 2) in report.escalated
    rows = outbox(app, f"escalation:{rector_step}:")
    assert [(r.key, to(r)) for r in rows] == [
        (f"escalation:{rector_step}:1", HEAD),
        (f"escalation:{rector_step}:2", DIRECTOR),
    ]
    second = body_of(mail(rows[1]))
    assert "Eskaleringsnivå: 2" in second
    assert "Tidigare eskalerat till: Verksamhetschef grundskola norr" in second
    assert "nästa nivå i styrkedjan" in second
    item = step(app, rector_step)
    assert (item.escalation_level, item.escalate_at) == (2, None)

    # The area head's own step goes to the director, then to the board's chair.
    assert [(r.key, to(r)) for r in outbox(app, f"escalation:{head_step}:")] == [
        (f"escalation:{head_step}:1", DIRECTOR),
        (f"escalation:{head_step}:2", BOARD_CHAIR),
    ]

    walk(app, clock, at(11, 30, 9, 0))
    assert len(outbox(app, f"escalation:{rector_step}:")) == 2
    assert len(escalations(app, dialog_id_of(app))) == 2 * 7  # all seven steps, twice


def test_nothing_when_the_step_is_done_in_time(school_app: App, clock: FixedClock) -> None:
    early = step_id(school_app, "quality_report")
    late = step_id(school_app, "facts")  # reminded Tue 22 Sep, due Thu 24 Sep 16.00
    clock.set(at(9, 10))
    complete_step(school_app, early, actor=RECTOR)
    walk(school_app, clock, at(9, 22, 9, 0))
    assert len(outbox(school_app, f"reminder:{late}")) == 1
    clock.set(at(9, 24, 15, 0))
    complete_step(school_app, late, actor=RECTOR)
    for day in range(24, 31):
        walk(school_app, clock, at(9, day, 17, 0))
    walk(school_app, clock, at(10, 30))
    for ident in (early, late):
        assert outbox(school_app, f"overdue:{ident}") == []
        assert outbox(school_app, f"escalation:{ident}:") == []
        assert step(school_app, ident).escalation_level == 0
    assert outbox(school_app, f"reminder:{early}") == []


def test_steps_of_a_cancelled_dialog_are_left_alone(school_app: App, clock: FixedClock) -> None:
    dialog_id = dialog_id_of(school_app)
    ident = step_id(school_app, "quality_report")
    cancel(school_app, dialog_id, actor=HEAD, reason="Enheten slås samman")
    walk(school_app, clock, at(10, 30))
    assert outbox(school_app, f"reminder:{ident}") == []
    assert outbox(school_app, f"escalation:{ident}:") == []
    assert escalations(school_app, dialog_id) == []


def test_a_step_nobody_holds_is_reported_and_escalates_to_the_unit_head(
    school_app: App, clock: FixedClock
) -> None:
    ident = step_id(school_app, "quality_report")
    with school_app.db.session() as session:
        session.execute(
            update(ChecklistItem).where(ChecklistItem.id == ident).values(assignee_id=None)
        )
    for moment in (at(9, 18, 8, 0), at(9, 22, 16, 0)):
        report = walk(school_app, clock, moment)
        assert ident in report.unassigned
        assert ident not in report.reminded + report.overdue
    assert outbox(school_app, f"reminder:{ident}") == []
    assert outbox(school_app, f"overdue:{ident}") == []
    assert step(school_app, ident).reminded_at is None

    walk(school_app, clock, at(9, 24, 8, 0))
    (row,) = outbox(school_app, f"escalation:{ident}:")
    assert to(row) == RECTOR  # the head of the unit, who can see that someone takes it
    assert "Ansvarig: ingen ansvarig (rektor)" in body_of(mail(row))


def test_run_due_reminds_and_sends(school_app: App, clock: FixedClock) -> None:
    ident = step_id(school_app, "quality_report")
    clock.set(at(9, 18, 8, 0))
    report = run_due(school_app)
    assert ident in report.notices.reminded
    assert report.dispatch.failed == 0
    maildir = school_app.settings.maildir_path / "new"
    sent = [mail_file.read_bytes() for mail_file in maildir.iterdir()]
    assert sum(b"Subject: =?utf-8?q?P=C3=A5minnelse" in raw for raw in sent) == len(
        report.notices.reminded
    )
    (row,) = outbox(school_app, f"reminder:{ident}")
    assert row.status == "sent"


# -- catch-up and concurrency -------------------------------------------------------------


def test_catch_up_after_a_gap_sends_each_thing_once_in_order(
    escalating_app: App, clock: FixedClock
) -> None:
    app = escalating_app
    rector_step = step_id(app, "quality_report")
    head_step = step_id(app, "quality_criteria")
    clock.set(at(10, 2, 12, 0))  # the daemon was down from 1 September
    report = send_due_notices(app)
    assert {(rector_step, 1), (rector_step, 2), (head_step, 1), (head_step, 2)} <= set(
        report.escalated
    )
    # Both reminders fell due before their steps did, but the pass comes after: they are
    # recorded, not sent; the overdue notices say more.
    assert {rector_step, head_step} <= set(report.stale_reminders)
    assert outbox(app, f"reminder:{head_step}") == outbox(app, f"reminder:{rector_step}") == []
    ours = {
        f"overdue:{head_step}": at(9, 18, 16),
        f"escalation:{head_step}:1": at(9, 22, 8),
        f"overdue:{rector_step}": at(9, 22, 16),
        f"escalation:{rector_step}:1": at(9, 24, 8),
        f"escalation:{head_step}:2": at(9, 25, 8),
        f"escalation:{rector_step}:2": at(9, 29, 8),
    }
    written = [r.key for r in outbox(app) if r.key in ours]
    assert written == sorted(ours, key=ours.__getitem__)
    keys = Counter(r.key for r in outbox(app))
    assert max(keys.values()) == 1

    again = send_due_notices(app)
    assert (again.reminded, again.overdue, again.escalated) == ([], [], [])
    assert again.stale_reminders == []
    assert Counter(r.key for r in outbox(app)) == keys


def test_two_concurrent_passes_escalate_once(escalating_app: App, clock: FixedClock) -> None:
    app = escalating_app
    clock.set(at(10, 2, 12, 0))
    barrier = threading.Barrier(2)
    reports: list[NoticeReport] = []
    errors: list[BaseException] = []

    def one_pass() -> None:
        try:
            barrier.wait(timeout=10)
            reports.append(send_due_notices(app))
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(reports) == 2
    reports.append(send_due_notices(app))  # what lost a race with the other pass

    escalated = [e for r in reports for e in r.escalated]
    assert len(escalated) == len(set(escalated))
    with app.db.session() as session:
        audited = session.scalars(select(AuditEvent.id).where(AuditEvent.trigger == "escalate"))
        assert len(list(audited)) == len(escalated)
    assert len(outbox(app, "escalation:")) == len(escalated)
    reminded = [i for r in reports for i in r.reminded]
    assert len(reminded) == len(set(reminded)) == len(outbox(app, "reminder:"))
    rector_step = step_id(app, "quality_report")
    assert {(rector_step, 1), (rector_step, 2)} <= set(escalated)


def test_a_moved_dialog_reminds_and_escalates_its_steps_anew(
    school_app: App, clock: FixedClock
) -> None:
    app = school_app
    ident = step_id(app, "quality_report")
    clock.set(at(9, 24, 9))
    first = send_due_notices(app)
    assert ident in first.overdue
    assert (ident, 1) in first.escalated
    postpone(app, dialog_id_of(app), actor=HEAD, starts_at=at(11, 17, 10),
             reason="Krock med APT")  # fmt: skip
    moved = step(app, ident)
    assert (moved.notice_round, moved.escalation_level) == (1, 0)
    assert moved.reminded_at is None
    assert moved.overdue_notified_at is None
    assert moved.remind_at is not None
    assert moved.due_at > at(11, 1)
    clock.set(moved.remind_at + timedelta(minutes=1))
    again = send_due_notices(app)
    assert ident in again.reminded
    (row,) = outbox(app, f"reminder:{ident}:r1")
    assert to(row) == RECTOR
    assert [r.key for r in outbox(app, f"escalation:{ident}:")] == [f"escalation:{ident}:1"]
    clock.set(moved.due_at + timedelta(days=7))
    send_due_notices(app)
    assert [r.key for r in outbox(app, f"escalation:{ident}:")] == [
        f"escalation:{ident}:1", f"escalation:{ident}:1:r1",
    ]  # fmt: skip
    assert [r.key for r in outbox(app, f"overdue:{ident}")] == [
        f"overdue:{ident}", f"overdue:{ident}:r1",
    ]  # fmt: skip
