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
from email.message import EmailMessage
from time import perf_counter
from typing import Any

from sqlalchemy import Connection, Table, Update, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from styrhjul.db.models import OutboxMessage
from styrhjul.errors import DeliveryFailed, NotFound
from styrhjul.notifications.stored import to_stored
from styrhjul.notifications.transports import stored_sender
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
            payload=to_stored(message),
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
    hand and returns. One transaction a message: it records the outcome of the message
    just sent and claims the next one, so the "sent" commit follows the transport's
    acceptance at once and costs no commit of its own (see :func:`_settle`).
    """
    me = worker or worker_name()
    recovered = recover_stale(app)
    send = stored_sender(app.transport)
    steps = _Steps.on(app.db.engine.dialect.name)
    sent = retried = failed = handled = 0
    window = 0.0
    outcome: _Outcome | None = None  # of the message in hand, written with the next claim
    accepted = 0.0
    # One connection for the whole drain, taken before the first send: recording an
    # outcome never waits for the pool. It holds no transaction while a message is sent.
    with app.db.engine.connect() as connection:
        while True:
            more = handled < limit and not stop()
            claim = {"at": app.clock.now(), "me": me} if more else None
            claimed = _settle(connection, steps, outcome, claim)
            if outcome is not None and outcome.statement is steps.sent:
                window = max(window, perf_counter() - accepted)
            if claimed is None:
                break
            handled += 1
            row_id, payload, attempts = claimed
            try:
                send(payload)
            except DeliveryFailed as exc:
                outcome = _failure(app, steps, row_id, attempts, exc)
                if outcome.params["status"] == "failed":
                    failed += 1
                else:
                    retried += 1
                continue
            accepted = perf_counter()
            outcome = _Outcome(steps.sent, {"row": row_id, "at": app.clock.now()})
            sent += 1
    return DispatchReport(sent, retried, failed, recovered, window)


@dataclass(frozen=True)
class _Outcome:
    """What became of a claimed message: one of :class:`_Steps`' updates and its values."""

    statement: Update
    params: dict[str, Any]


@dataclass(frozen=True)
class _Steps:
    """The dispatcher's three statements, built once a drain (Core: no ORM unit of work)."""

    claim: Update
    sent: Update
    outcome: Update

    @classmethod
    def on(cls, dialect: str) -> _Steps:
        """The statements for ``dialect``; PostgreSQL skips rows another claim has locked.

        The claim is one ``UPDATE ... WHERE id = (the first due row) AND status = 'pending'
        RETURNING``: the condition on the status lets only one process win a row, and the
        row comes back with the claim, without a second read.
        """
        outbox = OutboxMessage.__table__
        assert isinstance(outbox, Table)
        columns = outbox.c
        at = bindparam("at", type_=columns.next_attempt_at.type)
        due = (
            select(columns.id)
            .where(columns.status == "pending", columns.next_attempt_at <= at)
            .order_by(columns.next_attempt_at, columns.id)
            .limit(1)
        )
        if dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (
            update(outbox)
            .where(columns.id == due.scalar_subquery(), columns.status == "pending")
            .values(
                status="sending",
                claimed_at=at,
                claimed_by=bindparam("me"),
                attempts=columns.attempts + 1,
            )
            .returning(columns.id, columns.payload, columns.attempts)
        )
        row = columns.id == bindparam("row")
        sent = (
            update(outbox)
            .where(row)
            .values(
                status="sent",
                sent_at=bindparam("at", type_=columns.sent_at.type),
                last_error=None,
            )
        )
        outcome = (
            update(outbox)
            .where(row)
            .values(
                status=bindparam("status"),
                next_attempt_at=bindparam("next_at", type_=columns.next_attempt_at.type),
                last_error=bindparam("error"),
                claimed_by=None,
            )
        )
        return cls(claim, sent, outcome)


def _settle(
    connection: Connection,
    steps: _Steps,
    outcome: _Outcome | None,
    claim: dict[str, Any] | None,
) -> tuple[int, bytes, int] | None:
    """Record ``outcome``, claim the next due message with ``claim``'s values, and commit.

    Should the claim fail, the outcome is not lost with it: it is written alone, and the
    claim's error raised.
    """
    try:
        if outcome is not None:
            connection.execute(outcome.statement, outcome.params)
        row = connection.execute(steps.claim, claim).first() if claim is not None else None
        connection.commit()
    except SQLAlchemyError:
        connection.rollback()
        if outcome is not None and claim is not None:
            connection.execute(outcome.statement, outcome.params)
            connection.commit()
        raise
    return None if row is None else (row.id, row.payload, row.attempts)


def _failure(app: App, steps: _Steps, row_id: int, attempts: int, exc: DeliveryFailed) -> _Outcome:
    """A retry with exponential backoff, or ``failed`` for good (permanent, or too many tries)."""
    now = app.clock.now()
    give_up = exc.permanent or attempts >= app.settings.mail.max_attempts
    base = timedelta(seconds=app.settings.mail.retry_base_seconds)
    delay = min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return _Outcome(
        steps.outcome,
        {
            "row": row_id,
            "status": "failed" if give_up else "pending",
            "next_at": now if give_up else now + delay,
            "error": f"attempt {attempts}: {exc.reason}"[:2000],
        },
    )


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
