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
is the first thing written after the transport returns, by a connection the drain holds.

A message costs one transaction of two statements: it records the outcome of one message
and claims a later one, and commits while the next message is being sent, so the fsync
of each commit overlaps a send instead of adding to it
(:mod:`styrhjul.services.outbox_ledger`). Stored bytes reach a transport that can take
them (SMTP) as they are, without being parsed back into a message.

On PostgreSQL the claim reads its candidate with ``FOR UPDATE SKIP LOCKED``, so that
several daemons draining at once do not queue behind each other's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from time import perf_counter
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from styrhjul.db.models import OutboxMessage
from styrhjul.errors import DeliveryFailed, NotFound
from styrhjul.notifications.stored import to_stored
from styrhjul.notifications.transports import StoredSender, stored_sender
from styrhjul.services.context import App, Stop, never
from styrhjul.services.daemons import lost_workers, worker_name
from styrhjul.services.outbox_ledger import Claimed, Ledger, Outcome, Settled

LEASE = timedelta(minutes=10)
"""A row left in ``sending`` longer than this belongs to a process that died."""
MAX_BACKOFF = timedelta(hours=6)


def enqueue(session: Session, now: datetime, *, key: str, kind: str, message: EmailMessage) -> bool:
    """Add ``message`` to the outbox in the caller's transaction; False if ``key`` is known.

    One ``INSERT ... ON CONFLICT (key) DO NOTHING``, not a look-up and then an insert: a
    known key inserts nothing, and a key a concurrent transaction has just taken waits for
    it and then inserts nothing either, instead of failing the caller's commit on the
    unique key. The row is in the database at once; the session holds no object for it.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    result = session.execute(
        insert(cast(Table, OutboxMessage.__table__))
        .values(
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
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    # The id comes back only from a row inserted (psycopg gives no rowcount here).
    return result.first() is not None


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
    hand and returns. Each outcome is written, with a later claim, by a transaction that
    starts as soon as the transport has accepted the message and commits while the next
    one is being sent, before that one's DATA (see :mod:`styrhjul.services.outbox_ledger`).
    """
    me = worker or worker_name()
    recovered = recover_stale(app)
    if stop() or limit < 1:
        return DispatchReport(recovered=recovered)
    send = stored_sender(app.transport)
    counts = {"sent": 0, "pending": 0, "failed": 0}
    window = 0.0
    claims = 1

    def claim_at() -> datetime | None:
        """Now, when one more claim is allowed; a claim asks ``stop`` too."""
        nonlocal claims
        if claims >= limit or stop():
            return None
        claims += 1
        return app.clock.now()

    with Ledger(app.db.engine, me) as ledger:
        hand = ledger.settle(None, claim_at=app.clock.now()).result().claimed
        if hand is None:
            return DispatchReport(recovered=recovered)
        ahead = ledger.settle(None, claim_at=claim_at())
        accepted: float | None = None  # when the message that ``ahead`` records went out
        try:
            while hand is not None:
                # The server may not accept this message before the previous one's outcome
                # is committed: at most one message is ever accepted and not yet recorded.
                outcome = _deliver(app, send, hand, ahead.result)
                counts[outcome.status] += 1
                settled = ahead.result()  # its claim has committed: that message may go out
                if accepted is not None:
                    window = max(window, settled.committed - accepted)
                following = settled.claimed
                if following is not None and stop():
                    ahead = ledger.settle(outcome, release=following)
                    following = None
                else:
                    ahead = ledger.settle(outcome, claim_at=claim_at() if following else None)
                accepted = outcome.accepted if outcome.status == "sent" else None
                hand = following
            settled = ahead.result()
            if accepted is not None:
                window = max(window, settled.committed - accepted)
        except BaseException:
            _release_ahead(ledger, ahead)
            raise
    return DispatchReport(counts["sent"], counts["pending"], counts["failed"], recovered, window)


def _deliver(
    app: App, send: StoredSender, hand: Claimed, before_data: Callable[[], object]
) -> Outcome:
    """Send a claimed message; what became of it: sent, to try again later, or failed."""
    try:
        send(hand.payload, before_data)
    except DeliveryFailed as exc:
        now = app.clock.now()
        give_up = exc.permanent or hand.attempts >= app.settings.mail.max_attempts
        base = timedelta(seconds=app.settings.mail.retry_base_seconds)
        delay = min(base * (2 ** max(hand.attempts - 1, 0)), MAX_BACKOFF)
        return Outcome(
            hand.row_id,
            "failed" if give_up else "pending",
            now if give_up else now + delay,
            error=f"attempt {hand.attempts}: {exc.reason}"[:2000],
        )
    accepted = perf_counter()
    return Outcome(hand.row_id, "sent", app.clock.now(), accepted=accepted)


def _release_ahead(ledger: Ledger, ahead: Future[Settled]) -> None:
    """After an error: give back the row claimed ahead, which will not be sent now."""
    try:
        claimed = ahead.result().claimed
        if claimed is not None:
            ledger.settle(None, release=claimed).result()
    except SQLAlchemyError:
        pass  # the error in flight says more; a stale claim is recovered later


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
