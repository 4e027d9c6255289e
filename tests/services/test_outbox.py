"""The outbox: invites as they arrive, idempotent enqueue and dispatch, retries and recovery.

Failures come from a real SMTP server (aiosmtpd on 127.0.0.1) that answers as told.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import func, select, update
from support import Collector, write_config

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.db.models import Dialog, OutboxMessage
from styrhjul.errors import NotFound
from styrhjul.notifications.transports import MaildirTransport, SmtpTransport
from styrhjul.services.context import App
from styrhjul.services.outbox import (
    LEASE,
    dispatch,
    enqueue,
    list_messages,
    recover_stale,
    retry,
)
from styrhjul.wiring import build

RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _maildir(app: App) -> list[EmailMessage]:
    folder = app.settings.maildir_path / "new"
    return [_parse(p.read_bytes()) for p in sorted(folder.iterdir())] if folder.exists() else []


def _uid(message: EmailMessage) -> str:
    """The UID of the event in the message's invite.ics."""
    [attachment] = message.iter_attachments()
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    return str(event["UID"])


def _row(app: App, row_id: int) -> OutboxMessage:
    with app.db.session() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        return row


def _simple(key: str, to: str = "mottagare@example.se") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "styrhjul@example.se"
    message["To"] = to
    message["Subject"] = f"Test {key}"
    message["Message-ID"] = f"<{key}@example.se>"
    message.set_content("Hej")
    return message


def _enqueue(app: App, key: str) -> int:
    with app.db.session() as session:
        assert enqueue(session, app.clock.now(), key=key, kind="invite", message=_simple(key))
    with app.db.session() as session:
        row_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))
    assert row_id is not None
    return row_id


# -- what an invite looks like in the Maildir --------------------------------------------


def test_invites_in_the_maildir_parse_back(planned_app: App) -> None:
    app = planned_app
    report = dispatch(app)
    assert (report.sent, report.retried, report.failed) == (80, 0, 0)
    messages = _maildir(app)
    assert len(messages) == 80
    assert len({m["Message-ID"] for m in messages}) == 80

    with app.db.session() as session:
        dialog = session.scalars(
            select(Dialog).where(Dialog.organizer.has(email=HEAD)).order_by(Dialog.starts_at)
        ).first()
        assert dialog is not None
        participant = dialog.participant.email
        uid, starts_at = dialog.ical_uid, dialog.starts_at
    assert starts_at.astimezone(STOCKHOLM).hour == 9
    [message] = [m for m in messages if participant in str(m["To"])]

    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, inline = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert inline.get_content_type() == "text/calendar"
    assert inline.get_param("method") == "REQUEST"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == inline.get_payload(decode=True)

    calendar = Calendar.from_ical(attachment.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == uid
    assert int(event["SEQUENCE"]) == 0
    assert str(event["ORGANIZER"]).lower() == f"mailto:{HEAD}"
    attendees = event["ATTENDEE"]
    attendees = attendees if isinstance(attendees, list) else [attendees]
    by_address = {str(a).lower().removeprefix("mailto:"): a for a in attendees}
    assert set(by_address) == {HEAD, participant}
    assert by_address[participant].params["PARTSTAT"] == "NEEDS-ACTION"
    dtstart = event["DTSTART"]
    assert dtstart.params["TZID"] == "Europe/Stockholm"
    local = event.decoded("DTSTART")
    assert (local.hour, local.minute) == (9, 0)
    assert local == starts_at
    assert calendar.walk("VTIMEZONE")


def test_each_recipient_reads_their_own_steps_first(planned_app: App) -> None:
    """The rektor and the area head of one dialog each get their own steps under
    "Dina förberedelser" and the other's under "Övriga förberedelser"."""
    app = planned_app
    assert dispatch(app).sent == 80
    with app.db.session() as session:
        dialog = session.scalars(select(Dialog).where(Dialog.participant.has(email=RECTOR))).one()
        assert dialog.organizer.email == HEAD
        steps = {item.key: item for item in dialog.checklist}
        assert steps["quality_report"].assignee_id == dialog.participant_id
        assert steps["questions"].assignee_id == dialog.organizer_id
        rector_step, head_step = steps["quality_report"].title, steps["questions"].title
        uid = dialog.ical_uid
    assert rector_step.startswith("Uppdatera kvalitetsrapporten")
    assert head_step == "Förbered frågor till dialogen"

    def plain_text(address: str) -> str:
        [message] = [m for m in _maildir(app) if address in str(m["To"]) and _uid(m) == uid]
        [plain] = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        text = plain.get_content()
        for needle in ("Dina förberedelser", "Övriga förberedelser", rector_step, head_step):
            assert text.count(needle) == 1, (address, needle)
        return text

    rector = plain_text(RECTOR)
    mine, others = rector.index("Dina förberedelser"), rector.index("Övriga förberedelser")
    assert mine < rector.index(rector_step) < others < rector.index(head_step)

    head = plain_text(HEAD)
    mine, others = head.index("Dina förberedelser"), head.index("Övriga förberedelser")
    assert mine < head.index(head_step) < others < head.index(rector_step)


def test_enqueue_with_the_same_key_twice_gives_one_row(app: App) -> None:
    now = app.clock.now()
    with app.db.session() as session:
        assert enqueue(session, now, key="k1", kind="invite", message=_simple("k1")) is True
        assert enqueue(session, now, key="k1", kind="invite", message=_simple("k1")) is False
    with app.db.session() as session:
        assert enqueue(session, now, key="k1", kind="invite", message=_simple("k1")) is False
        count = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 1
    [row] = list_messages(app)
    assert (row.status, row.attempts, row.message_id) == ("pending", 0, "<k1@example.se>")


def test_dispatch_twice_sends_nothing_the_second_time(app: App) -> None:
    for key in ("a", "b", "c"):
        _enqueue(app, key)
    assert dispatch(app).sent == 3
    again = dispatch(app)
    assert (again.sent, again.retried, again.failed, again.recovered) == (0, 0, 0, 0)
    assert len(_maildir(app)) == 3
    assert {r.status for r in list_messages(app)} == {"sent"}
    assert all(r.sent_at == app.clock.now() for r in list_messages(app))
    assert all(r.attempts == 1 for r in list_messages(app))


def test_dispatch_respects_the_limit(app: App) -> None:
    for key in ("a", "b", "c", "d", "e"):
        _enqueue(app, key)
    assert dispatch(app, limit=2).sent == 2
    assert len(list_messages(app, status="pending")) == 3
    assert dispatch(app).sent == 3


def test_two_dispatchers_at_once_send_each_message_once(
    planned_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Two processes (own engine, own transport) drain the same outbox into one Maildir."""
    folder = tmp_path / "two-workers"
    folder.mkdir()
    settings = load_settings(write_config(folder, planned_url), environ={})
    apps = [
        build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))
        for _ in range(2)
    ]
    start = threading.Barrier(2, timeout=30)
    reports: list[Any] = [None, None]

    def run(i: int) -> None:
        start.wait()
        try:
            reports[i] = dispatch(apps[i], worker=f"worker-{i}")
        except Exception as exc:  # the outcome is what the test inspects
            reports[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(isinstance(r, Exception) for r in reports), reports
        assert sum(r.sent for r in reports) == 80
        rows = list_messages(apps[0])
        assert {r.status for r in rows} == {"sent"}
        assert all(r.attempts == 1 for r in rows)
        assert len(_maildir(apps[0])) == 80
    finally:
        for app in apps:
            app.close()


# -- a stale claim is recovered; the resend is recognisable ------------------------------


def _crash_after_send(app: App, row_id: int, claimed_ago: timedelta) -> None:
    """Make the row look as if the process died after the transport accepted it."""
    with app.db.session() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status="sending", claimed_at=app.clock.now() - claimed_ago, sent_at=None)
        )


def test_a_stale_sending_row_is_recovered_and_not_stored_twice(app: App) -> None:
    row_id = _enqueue(app, "crash")
    assert dispatch(app).sent == 1
    _crash_after_send(app, row_id, LEASE - timedelta(minutes=1))
    assert recover_stale(app) == 0  # still within its lease
    assert dispatch(app).sent == 0
    _crash_after_send(app, row_id, LEASE + timedelta(minutes=1))
    report = dispatch(app)
    assert (report.recovered, report.sent) == (1, 1)
    row = _row(app, row_id)
    assert row.status == "sent"
    assert row.attempts == 2
    # The Maildir recognises the Message-ID and keeps one file, also in a new process.
    assert [m["Message-ID"] for m in _maildir(app)] == ["<crash@example.se>"]
    fresh = MaildirTransport(app.settings.maildir_path)
    fresh.send(_simple("crash"))
    fresh.send(_simple("other"))
    assert sorted(m["Message-ID"] for m in _maildir(app)) == [
        "<crash@example.se>",
        "<other@example.se>",
    ]


# -- a real SMTP server that answers as told ---------------------------------------------


@pytest.fixture
def smtp(smtp_server: Callable[..., Controller]) -> tuple[Collector, int]:
    """A collecting SMTP server: its handler (answers as told) and its port."""
    handler = Collector()
    return handler, smtp_server(handler).port


def _smtp_app(folder: Path, db_url: str, clock: FixedClock, port: int, max_attempts: int) -> App:
    folder.mkdir(exist_ok=True)
    config = write_config(
        folder,
        db_url,
        transport="smtp",
        extra=(
            f"max_attempts = {max_attempts}\nretry_base_seconds = 60\n\n"
            f'[mail.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        ),
    )
    settings = load_settings(config, environ={})
    assert settings.mail.transport == "smtp"
    assert settings.mail.max_attempts == max_attempts
    assert settings.mail.retry_base_seconds == 60
    assert (settings.mail.smtp.host, settings.mail.smtp.port) == ("127.0.0.1", port)
    transport = SmtpTransport(
        "127.0.0.1", port, security="none", username=None, password=None, timeout=5
    )
    return build(settings, clock=clock, transport=transport)


@pytest.fixture
def smtp_app(
    smtp: tuple[Collector, int], db_url: str, tmp_path: Path, clock: FixedClock
) -> Iterator[App]:
    app = _smtp_app(tmp_path / "smtp", db_url, clock, smtp[1], max_attempts=3)
    yield app
    app.close()


def test_a_temporary_refusal_is_retried_with_doubling_backoff(
    smtp: tuple[Collector, int], smtp_app: App, clock: FixedClock
) -> None:
    handler, _ = smtp
    app = smtp_app
    handler.data_reply = "451 4.3.0 try later"
    row_id = _enqueue(app, "later")

    report = dispatch(app)
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    row = _row(app, row_id)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.next_attempt_at == clock.now() + timedelta(seconds=60)
    assert row.last_error is not None
    assert "451" in row.last_error
    assert row.last_error.startswith("attempt 1:")

    # Not due yet: nothing is tried.
    clock.advance(timedelta(seconds=59))
    assert dispatch(app) == type(report)()
    clock.advance(timedelta(seconds=1))
    assert dispatch(app).retried == 1
    row = _row(app, row_id)
    assert row.attempts == 2
    assert row.next_attempt_at == clock.now() + timedelta(seconds=120)  # doubled

    clock.advance(timedelta(seconds=120))
    report = dispatch(app)
    assert (report.retried, report.failed) == (0, 1)
    row = _row(app, row_id)
    assert row.status == "failed"
    assert row.attempts == 3
    assert row.last_error is not None
    assert row.last_error.startswith("attempt 3:")
    assert "451 4.3.0 try later" in row.last_error

    clock.advance(timedelta(days=1))
    assert dispatch(app).failed == 0  # a failed row stays failed
    assert handler.messages() == []

    # retry() puts it back, due now, with its attempts counted afresh; then it goes out.
    retry(app, row_id)
    row = _row(app, row_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, clock.now())
    handler.data_reply = None  # the server has recovered
    assert dispatch(app).sent == 1
    assert _row(app, row_id).status == "sent"
    assert [m["Message-ID"] for m in handler.messages()] == ["<later@example.se>"]


def test_retry_of_a_row_that_is_not_failed_is_refused(smtp_app: App) -> None:
    row_id = _enqueue(smtp_app, "fine")
    with pytest.raises(NotFound, match="it is pending"):
        retry(smtp_app, row_id)
    with pytest.raises(NotFound, match="outbox message 424242"):
        retry(smtp_app, 424242)


def test_a_permanent_refusal_fails_at_once(
    smtp: tuple[Collector, int], smtp_app: App, clock: FixedClock
) -> None:
    handler, _ = smtp
    handler.data_reply = "550 5.1.1 no such mailbox"
    row_id = _enqueue(smtp_app, "bounce")
    other = _enqueue(smtp_app, "bounce-too")
    report = dispatch(smtp_app)
    assert (report.sent, report.retried, report.failed) == (0, 0, 2)
    row = _row(smtp_app, row_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error is not None
    assert "550 5.1.1 no such mailbox" in row.last_error
    assert _row(smtp_app, other).status == "failed"
    assert [r.id for r in list_messages(smtp_app, status="failed")] == [row_id, other]


def test_max_attempts_from_the_config(
    smtp: tuple[Collector, int], db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    handler, port = smtp
    handler.data_reply = "451 4.3.0 try later"
    app = _smtp_app(tmp_path / "two", db_url, clock, port, max_attempts=2)
    try:
        row_id = _enqueue(app, "twice")
        assert dispatch(app).retried == 1
        clock.advance(timedelta(minutes=1))
        assert dispatch(app).failed == 1
        assert _row(app, row_id).status == "failed"
        assert _row(app, row_id).attempts == 2
    finally:
        app.close()


def test_a_resend_after_a_crash_carries_the_same_message_id(
    smtp: tuple[Collector, int], smtp_app: App, clock: FixedClock
) -> None:
    handler, _ = smtp
    row_id = _enqueue(smtp_app, "twice-sent")
    assert dispatch(smtp_app).sent == 1
    _crash_after_send(smtp_app, row_id, LEASE + timedelta(seconds=1))
    report = dispatch(smtp_app)
    assert (report.recovered, report.sent) == (1, 1)
    ids = [m["Message-ID"] for m in handler.messages()]
    assert ids == ["<twice-sent@example.se>", "<twice-sent@example.se>"]


def test_invites_go_through_smtp_unchanged(
    smtp: tuple[Collector, int], planned_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    handler, port = smtp
    app = _smtp_app(tmp_path / "planned-smtp", planned_url, clock, port, max_attempts=8)
    try:
        assert dispatch(app, limit=3).sent == 3
        with app.db.session() as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.status == "sent")
                    .order_by(OutboxMessage.id)
                )
            )
        assert [m["Message-ID"] for m in handler.messages()] == [r.message_id for r in rows]
        for message in handler.messages():
            parts = [p.get_content_type() for p in message.walk()]
            assert "text/calendar" in parts
            assert "application/ics" in parts
    finally:
        app.close()
