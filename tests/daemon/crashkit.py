"""What the daemon's crash tests share: a busy database, a counting SMTP server, and the
invariants a crash must not break (the daemon process itself is :mod:`.daemonproc`'s).

The crash tests run the real ``styrhjul daemon`` as a child process (SIGKILL cannot be
simulated in-process) against a real SMTP server (aiosmtpd, in the test process) and a
real database. Nothing in here is a fake: the only thing the tests steer is *when* a
daemon dies.

A "busy period" is the example organisation with calendar year 2026 planned on 5 January
(``seed_busy``); at ``BUSY_AT`` (three weeks later) about two hundred messages are due:
first invites of dialogs planned ahead, preparations to open, reminders, overdue notices,
escalations, the weekly digest.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select
from support import write_config

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.db.migrate import upgrade
from styrhjul.db.models import AuditEvent, ChecklistItem, Dialog, Instance, OutboxMessage
from styrhjul.db.operations import PeriodRun
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.context import App
from styrhjul.services.org_import import import_organisation
from styrhjul.services.runner import RunReport, run_due
from styrhjul.services.yearplan import keep_planned
from styrhjul.wiring import build

from .daemonproc import daemon_config

PLANNED_ON = datetime(2026, 1, 5, 8, 0, tzinfo=STOCKHOLM)
"""When the busy database plans calendar year 2026."""
BUSY_AT = datetime(2026, 1, 26, 9, 0, tzinfo=STOCKHOLM)
"""When the first daemon starts: three weeks of the plan are due at once."""


# --- the busy database -------------------------------------------------------------------


def seed_busy(url: str, folder: Path) -> None:
    """Migrate ``url``, import the example organisation and plan 2026 on ``PLANNED_ON``."""
    upgrade(url)
    folder.mkdir(parents=True, exist_ok=True)
    settings = load_settings(write_config(folder, url), environ={})
    app = build(settings, clock=FixedClock(PLANNED_ON), transport=MaildirTransport(folder))
    try:
        with as_file(files("styrhjul.examples") / "organisation.toml") as path:
            import_organisation(app, Path(path))
        keep_planned(app, PLANNED_ON.date())
    finally:
        app.close()


def open_app(config: Path, at: datetime) -> App:
    """The application over ``config`` on a clock standing at ``at`` (for checks)."""
    settings = load_settings(config, environ={})
    return build(
        settings, clock=FixedClock(at), transport=MaildirTransport(config.parent / "check-mail")
    )


# --- the SMTP server's side --------------------------------------------------------------


class MessageIds:
    """An aiosmtpd handler that accepts everything and counts each Message-ID it receives.

    The count is taken before the server answers 250, so a message whose 250 a killed
    daemon never read is counted too: that is exactly the resend the outbox allows.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)

    async def handle_DATA(  # noqa: N802 - aiosmtpd finds hooks by this name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content
        assert isinstance(content, bytes)
        message_id = BytesHeaderParser().parsebytes(content)["Message-ID"]
        with self._lock:
            self._counts[str(message_id)] += 1
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Busy:
    """A busy database, the counting SMTP server its daemons send to, their config."""

    config: Path
    server: MessageIds
    app: App
    """On a clock standing at ``BUSY_AT``: to look at the outbox while daemons run."""
    invites: dict[int, datetime]
    """:func:`due_invites` before any daemon ran, for :func:`check_consistency`."""


def busy_period(url: str, folder: Path, smtp_server: Callable[..., Controller]) -> Busy:
    """Seed ``url`` (:func:`seed_busy`), start a :class:`MessageIds` server, write a config."""
    seed_busy(url, folder / "seed")
    server = MessageIds()
    config = daemon_config(folder / "daemon", url, smtp_port=smtp_server(server).port)
    app = open_app(config, BUSY_AT)
    return Busy(config, server, app, due_invites(app))


# --- what the kills did --------------------------------------------------------------------


@dataclass
class Ledger:
    """Kills, and the outbox rows each kill left in ``sending`` (by Message-ID).

    A row left ``sending`` is either a message the server never got (the kill came
    before the end of DATA) or one it has and whose "sent" was never committed: a kill in
    the window. Only the latter is sent twice, and it is sent again with the same Message-ID.
    """

    kills: int = 0
    sending_at_kill: Counter[str] = field(default_factory=Counter)
    """Message-ID -> how many kills found its row in ``sending``."""
    seen_at_kill: int = 0
    """Kills after which the server had one more copy of a ``sending`` row's message than
    at the last kill that found the row so: the window hits as seen at once (a message
    still in the server's hands when it is read is missed; :func:`check_delivery` counts
    at the end, exactly)."""
    copies: Counter[str] = field(default_factory=Counter)

    def killed(self, app: App, server: MessageIds, worker: str | None = None) -> None:
        """Record a kill: the rows it left ``sending`` (of ``worker``, if given)."""
        self.kills += 1
        query = select(OutboxMessage.message_id).where(OutboxMessage.status == "sending")
        if worker is not None:
            query = query.where(OutboxMessage.claimed_by == worker)
        with app.db.session() as session:
            left = list(session.scalars(query))
        received = server.counts()
        self.sending_at_kill.update(left)
        for message_id in left:
            if received[message_id] > self.copies[message_id]:
                self.seen_at_kill += 1
            self.copies[message_id] = received[message_id]


@dataclass(frozen=True)
class Delivery:
    """The outcome, for the assertion messages and the report."""

    messages: int
    duplicates: int
    window_hits: int


def check_delivery(app: App, server: MessageIds, ledger: Ledger) -> Delivery:
    """Every row sent and received; nothing received that has no row; no other duplicate.

    A Message-ID received more than once must belong to a row some kill left ``sending``,
    and at most once more than the kills that found it so. The extra copies are the
    window hits.
    """
    with app.db.session() as session:
        rows = session.execute(select(OutboxMessage.message_id, OutboxMessage.status)).all()
    received = server.counts()
    unsent = Counter(status for _, status in rows if status != "sent")
    assert not unsent, f"outbox rows not sent: {dict(unsent)}"
    ids = Counter(message_id for message_id, _ in rows)
    assert max(ids.values(), default=1) == 1, "two outbox rows share a Message-ID"
    missing = [m for m in ids if not received[m]]
    assert not missing, f"{len(missing)} of {len(ids)} messages never reached the server"
    strays = [m for m in received if m not in ids]
    assert not strays, f"{len(strays)} messages received without an outbox row: {strays[:3]}"
    extra = {m: n - 1 for m, n in received.items() if n > 1}
    unexplained = {m: n for m, n in extra.items() if n > ledger.sending_at_kill[m]}
    assert not unexplained, (
        f"received more often than kills left them 'sending' (message-id: extra copies): "
        f"{unexplained}"
    )
    duplicates = sum(extra.values())
    return Delivery(len(ids), duplicates, window_hits=duplicates)


# --- the state after it all ----------------------------------------------------------------


def due_invites(app: App) -> dict[int, datetime]:
    """Dialogs planned ahead, by id, with the instant their first invite is due."""
    with app.db.session() as session:
        rows = session.execute(
            select(Dialog.id, Dialog.invite_at).where(Dialog.invite_at.is_not(None))
        )
        return {dialog_id: at for dialog_id, at in rows if at is not None}


def check_consistency(config: Path, at: datetime, invites: dict[int, datetime]) -> RunReport:
    """Nothing half done, nothing done twice, nothing left that is due ``at``.

    ``invites`` is :func:`due_invites` before any daemon ran. Returns what a last pass of
    ``run_due`` at ``at`` did, which must be nothing: every daemon ran at or after it.
    """
    app = open_app(config, at)
    try:
        with app.db.session() as session:
            keys = set(session.scalars(select(OutboxMessage.key)))
            _check_audit_trails(session)
            for dialog_id, due in invites.items():
                if due > at:
                    continue
                dialog = session.get(Dialog, dialog_id)
                assert dialog is not None
                assert dialog.invite_at is None, f"dialog {dialog_id}: invite due {due} not sent"
                prefix = f"meeting:{dialog.ical_uid}:{dialog.ical_sequence}:REQUEST:"
                assert any(k.startswith(prefix) for k in keys), f"dialog {dialog_id}: no invite row"
            _check_steps(session, keys)
            periods = session.execute(
                select(PeriodRun.job, PeriodRun.period, PeriodRun.status)
            ).all()
            assert periods, "no periodic job ran"
            undone = [p for p in periods if p.status != "done"]
            assert not undone, f"periods not done: {undone}"
        report = run_due(app)
    finally:
        app.close()
    assert not report.did_something, f"left due at {at}: {report.summary()}"
    return report


def _check_audit_trails(session: Any) -> None:
    """Each instance's state is the ``to_state`` of its last audit row."""
    last = (
        select(func.max(AuditEvent.id).label("id"))
        .group_by(AuditEvent.entity, AuditEvent.entity_id)
        .subquery()
    )
    pairs = session.execute(
        select(Instance.id, Instance.state, AuditEvent.to_state)
        .join(
            AuditEvent, (AuditEvent.entity == Instance.kind) & (AuditEvent.entity_id == Instance.id)
        )
        .join(last, last.c.id == AuditEvent.id)
    ).all()
    assert pairs, "no audit trail at all"
    torn = [(i, state, to) for i, state, to in pairs if state != to]
    assert not torn, f"instances whose state is not their last audited one: {torn[:5]}"


def _check_steps(session: Any, keys: set[str]) -> None:
    """A step's columns agree with the notices in the outbox and the escalation audit rows."""
    escalations: Counter[int] = Counter()
    for reason in session.scalars(
        select(AuditEvent.reason).where(AuditEvent.trigger == "escalate")
    ):
        step = int(reason.split("(", 1)[1].split(")", 1)[0])
        escalations[step] += 1
    for item in session.scalars(select(ChecklistItem)):
        if f"reminder:{item.id}" in keys:
            assert item.reminded_at is not None, f"step {item.id}: reminder sent, not recorded"
        overdue = f"overdue:{item.id}" in keys
        if item.assignee_id is not None:
            assert overdue == (item.overdue_notified_at is not None), (
                f"step {item.id}: overdue notice {overdue}, recorded {item.overdue_notified_at}"
            )
        assert escalations[item.id] == item.escalation_level, (
            f"step {item.id}: level {item.escalation_level}, "
            f"{escalations[item.id]} escalations audited"
        )
        for level in range(item.escalation_level + 1, 4):
            assert f"escalation:{item.id}:{level}" not in keys, f"step {item.id}: level {level}"
