"""The transactional outbox: messages are written with the change that causes them, sent after.

:func:`enqueue` adds a rendered message inside the caller's transaction, keyed by an
idempotency key, so the same cause can never yield a second message. :func:`dispatch`
claims rows one at a time with a conditional ``UPDATE ... WHERE status = 'pending'`` (only
one process can win a row), commits the claim, sends, and records the outcome. A failure
that may pass is retried with exponential backoff up to ``mail.max_attempts``; then, or on
a permanent failure, the row is marked ``failed`` with its last error, never dropped.

A crash between the transport's acceptance and the "sent" commit leaves a ``sending`` row;
:func:`recover_stale` hands it back once its claimant is known to be gone (a stopped or
silent daemon, a process that no longer exists on this host) or after a lease, and the
resend carries the same Message-ID, so the duplicate is recognisable (a Maildir transport
skips it, Exchange finds it in Sent Items). That window is kept small: the "sent" update
is the first thing done after the transport returns, on a connection taken from the pool
before sending.

On PostgreSQL the claim reads its candidate with ``FOR UPDATE SKIP LOCKED``, so that
several daemons draining at once do not queue behind each other's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from time import perf_counter

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from styrhjul.db.models import OutboxMessage
from styrhjul.errors import DeliveryFailed, NotFound
from styrhjul.services.context import App, Stop, never
from styrhjul.services.daemons import lost_workers, worker_name

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
    window_seconds: float = 0.0
    """The longest time between the transport's acceptance and the "sent" commit: a crash
    in it is the only way a message goes out twice (with the same Message-ID)."""


def recover_stale(app: App, lease: timedelta = LEASE) -> int:
    """Hand back to ``pending`` the ``sending`` rows nobody will finish.

    Those are rows whose claimant is lost (see
    :func:`~styrhjul.services.daemons.lost_workers`) and rows claimed longer ago than
    ``lease`` by anyone.
    """
    now = app.clock.now()
    lost_after = timedelta(seconds=app.settings.daemon.lost_after_seconds)
    with app.db.session() as session:
        lost = lost_workers(session, now, lost_after)
        stale = OutboxMessage.claimed_at < now - lease
        if lost:
            stale = stale | OutboxMessage.claimed_by.in_(lost)
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending", stale)
            .values(status="pending", next_attempt_at=now, claimed_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def dispatch(
    app: App,
    *,
    limit: int = 500,
    worker: str | None = None,
    stop: Stop = never,
) -> DispatchReport:
    """Send what is due, at most ``limit`` messages; each outcome is committed on its own.

    ``stop`` is asked before each message: a daemon told to stop finishes the message in
    hand and returns.
    """
    me = worker or worker_name()
    recovered = recover_stale(app)
    sent = retried = failed = 0
    window = 0.0
    for _ in range(limit):
        if stop():
            break
        claimed = _claim_next(app, me)
        if claimed is None:
            break
        row_id, payload, attempts = claimed
        message = message_from_bytes(payload, policy=default)
        assert isinstance(message, EmailMessage)
        with app.db.engine.connect() as connection:  # ready before sending: see the docstring
            try:
                app.transport.send(message)
            except DeliveryFailed as exc:
                if _record_failure(app, row_id, attempts, exc):
                    failed += 1
                else:
                    retried += 1
                continue
            accepted = perf_counter()
            _record_sent(connection, row_id, app.clock.now())
            window = max(window, perf_counter() - accepted)
        sent += 1
    return DispatchReport(sent, retried, failed, recovered, window)


def _claim_next(app: App, me: str) -> tuple[int, bytes, int] | None:
    now = app.clock.now()
    with app.db.session() as session:
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.limit(1).with_for_update(skip_locked=True)
        else:
            due = due.limit(20)
        candidates = session.scalars(due).all()
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


def _record_sent(connection: Connection, row_id: int, now: datetime) -> None:
    connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status="sent", sent_at=now, last_error=None)
    )
    connection.commit()


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
