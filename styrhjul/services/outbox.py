"""The transactional outbox: messages are written with the change that causes them, sent after.

:func:`enqueue` adds a rendered message inside the caller's transaction, keyed by an
idempotency key, so the same cause can never yield a second message. :func:`dispatch`
claims rows one at a time with a conditional ``UPDATE ... WHERE status = 'pending'`` (only
one process can win a row), commits the claim, sends, and records the outcome. A failure
that may pass is retried with exponential backoff up to ``mail.max_attempts``; then, or on
a permanent failure, the row is marked ``failed`` with its last error, never dropped.

A crash between the transport's acceptance and the "sent" commit leaves a ``sending`` row;
:func:`recover_stale` hands it back after a lease, and the resend carries the same
Message-ID, so the duplicate is recognisable (a Maildir transport even skips it).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from styrhjul.db.models import OutboxMessage
from styrhjul.errors import DeliveryFailed, NotFound
from styrhjul.services.context import App

LEASE = timedelta(minutes=10)
"""A row left in ``sending`` longer than this belongs to a process that died."""
MAX_BACKOFF = timedelta(hours=6)


def enqueue(session: Session, now: datetime, *, key: str, kind: str, message: EmailMessage) -> bool:
    """Add ``message`` to the outbox in the caller's transaction; False if ``key`` is known."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return False
    session.add(
        OutboxMessage(
            key=key,
            kind=kind,
            recipient=str(message["To"]),
            subject=str(message["Subject"])[:300],
            message_id=str(message["Message-ID"]),
            payload=message.as_bytes(policy=SMTP),
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
    return True


@dataclass(frozen=True)
class DispatchReport:
    """What one drain of the outbox did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def recover_stale(app: App, lease: timedelta = LEASE) -> int:
    """Hand ``sending`` rows whose claim is older than ``lease`` back to ``pending``."""
    now = app.clock.now()
    with app.db.session() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - lease)
            .values(status="pending", next_attempt_at=now, claimed_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def dispatch(app: App, *, limit: int = 500, worker: str | None = None) -> DispatchReport:
    """Send what is due, at most ``limit`` messages; each outcome is committed on its own."""
    me = worker or worker_name()
    recovered = recover_stale(app)
    sent = retried = failed = 0
    for _ in range(limit):
        claimed = _claim_next(app, me)
        if claimed is None:
            break
        row_id, payload, attempts = claimed
        message = message_from_bytes(payload, policy=default)
        assert isinstance(message, EmailMessage)
        try:
            app.transport.send(message)
        except DeliveryFailed as exc:
            if _record_failure(app, row_id, attempts, exc):
                failed += 1
            else:
                retried += 1
            continue
        _record_sent(app, row_id)
        sent += 1
    return DispatchReport(sent, retried, failed, recovered)


def _claim_next(app: App, me: str) -> tuple[int, bytes, int] | None:
    now = app.clock.now()
    with app.db.session() as session:
        candidates = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(20)
        ).all()
        for row_id in candidates:
            won = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
                .values(
                    status="sending",
                    claimed_at=now,
                    claimed_by=me,
                    attempts=OutboxMessage.attempts + 1,
                )
            )
            if getattr(won, "rowcount", 0) == 1:
                row = session.get(OutboxMessage, row_id)
                assert row is not None
                session.refresh(row)
                return row.id, row.payload, row.attempts
    return None


def _record_sent(app: App, row_id: int) -> None:
    with app.db.session() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status="sent", sent_at=app.clock.now(), last_error=None)
        )


def _record_failure(app: App, row_id: int, attempts: int, exc: DeliveryFailed) -> bool:
    """Schedule a retry or mark the row failed; True when it is now failed for good."""
    now = app.clock.now()
    give_up = exc.permanent or attempts >= app.settings.mail.max_attempts
    base = timedelta(seconds=app.settings.mail.retry_base_seconds)
    delay = min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    with app.db.session() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(
                status="failed" if give_up else "pending",
                next_attempt_at=now if give_up else now + delay,
                last_error=f"attempt {attempts}: {exc.reason}"[:2000],
                claimed_by=None,
            )
        )
    return give_up


@dataclass(frozen=True)
class OutboxRow:
    """An outbox message as listings show it."""

    id: int
    kind: str
    recipient: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    message_id: str


def list_messages(app: App, status: str | None = None, limit: int = 200) -> list[OutboxRow]:
    with app.db.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id).limit(limit)
        if status:
            query = query.where(OutboxMessage.status == status)
        return [
            OutboxRow(
                r.id,
                r.kind,
                r.recipient,
                r.subject,
                r.status,
                r.attempts,
                r.next_attempt_at,
                r.sent_at,
                r.last_error,
                r.message_id,
            )
            for r in session.scalars(query)
        ]


def retry(app: App, row_id: int) -> None:
    """Put a failed message back in the queue, due now, with its attempts counted afresh."""
    with app.db.session() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None:
            raise NotFound("outbox message", row_id)
        if row.status != "failed":
            raise NotFound("failed outbox message", f"{row_id} (it is {row.status})")
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = app.clock.now()
