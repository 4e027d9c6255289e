"""The outbox dispatcher's database side: claims and outcomes, one transaction a message.

A drain writes through a :class:`Ledger`: one connection, used only by one thread of its
own, so that the commit recording one message's outcome (an fsync, on SQLite as on
PostgreSQL) runs while the next message is being sent, instead of before it. It has to be
done before that message's DATA command (the dispatcher hands the wait to the transport
as ``before_data``): so at most one message is ever accepted by the server and not yet
recorded, as when every commit came before the next send.

Each transaction records the outcome of the message just handled and claims a message
two places on (:meth:`Ledger.settle`): the one after next. So the message about to be
sent was claimed by a transaction that has committed, as a claim must be before sending
(another dispatcher could take the row otherwise), and the "sent" record is the first
thing written after the transport's acceptance. A crash leaves at most two rows in
``sending``: one that may have gone out (its resend carries the same Message-ID) and one
that cannot have; :func:`~styrhjul.services.outbox.recover_stale` hands both back. A claim
that will not be sent (the drain was told to stop, or failed) is released at once.

The claim is one ``UPDATE ... WHERE id = (the first due row) AND status = 'pending'
RETURNING``: the condition on the status lets only one process win a row (on PostgreSQL
the inner select skips rows another claim has locked), and the row comes back with the
claim, without a second read. Statements are Core, built once a drain.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter

from sqlalchemy import Connection, Engine, Table, Update, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from styrhjul.db.models import OutboxMessage


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message this drain has claimed: its row, stored bytes and attempt number."""

    row_id: int
    payload: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a claimed message, to be written with the next transaction.

    ``status`` is ``sent``, ``pending`` (try again at ``at``) or ``failed``; ``accepted``
    is when the transport accepted a sent message (``perf_counter``).
    """

    row_id: int
    status: str
    at: datetime
    error: str | None = None
    accepted: float = 0.0


@dataclass(frozen=True, slots=True)
class Settled:
    """What a transaction did: the message it claimed, if any, and when it committed."""

    claimed: Claimed | None
    committed: float


def _statements(dialect: str) -> tuple[Update, Update, Update, Update]:
    """The claim, "sent", "try again or failed" and release updates for ``dialect``."""
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
        .values(status="sent", sent_at=bindparam("at", type_=columns.sent_at.type), last_error=None)
    )
    unsent = (
        update(outbox)
        .where(row)
        .values(
            status=bindparam("status"),
            next_attempt_at=bindparam("at", type_=columns.next_attempt_at.type),
            last_error=bindparam("error"),
            claimed_by=None,
        )
    )
    release = (
        update(outbox)
        .where(row, columns.status == "sending", columns.claimed_by == bindparam("me"))
        .values(status="pending", claimed_by=None, attempts=columns.attempts - 1)
    )
    return claim, sent, unsent, release


class Ledger:
    """One drain's writes, done in order by one thread on one connection (see the module).

    Use as a context manager; :meth:`settle` returns a future, so the caller may send while
    the transaction commits.
    """

    def __init__(self, engine: Engine, worker: str) -> None:
        self._engine = engine
        self._worker = worker
        self._claim, self._sent, self._unsent, self._release = _statements(engine.dialect.name)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-ledger")
        self._connection: Connection | None = None

    def __enter__(self) -> Ledger:
        try:
            self._thread.submit(self._open).result()
        except BaseException:
            self._thread.shutdown()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self._thread.submit(self._close).result()
        finally:
            self._thread.shutdown()

    def _open(self) -> None:
        self._connection = self._engine.connect()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def settle(
        self,
        outcome: Outcome | None,
        *,
        claim_at: datetime | None = None,
        release: Claimed | None = None,
    ) -> Future[Settled]:
        """Write ``outcome``, release ``release``, claim a message due at ``claim_at``: commit.

        The writes are queued behind the transactions before them, in order.
        """
        return self._thread.submit(self._settle, outcome, claim_at, release)

    def _settle(
        self, outcome: Outcome | None, claim_at: datetime | None, release: Claimed | None
    ) -> Settled:
        connection = self._connection
        assert connection is not None, "use the ledger in a with block"
        claimed = None
        try:
            if outcome is not None:
                self._record(connection, outcome)
            if release is not None:
                connection.execute(self._release, {"row": release.row_id, "me": self._worker})
            if claim_at is not None:
                row = connection.execute(self._claim, {"at": claim_at, "me": self._worker}).first()
                if row is not None:
                    claimed = Claimed(row.id, row.payload, row.attempts)
            connection.commit()
        except SQLAlchemyError:
            connection.rollback()
            if outcome is not None and (claim_at is not None or release is not None):
                # The outcome must not be lost with a claim that failed: write it alone.
                self._record(connection, outcome)
                connection.commit()
            raise
        return Settled(claimed, perf_counter())

    def _record(self, connection: Connection, outcome: Outcome) -> None:
        if outcome.status == "sent":
            connection.execute(self._sent, {"row": outcome.row_id, "at": outcome.at})
        else:
            connection.execute(
                self._unsent,
                {
                    "row": outcome.row_id,
                    "status": outcome.status,
                    "at": outcome.at,
                    "error": outcome.error,
                },
            )
