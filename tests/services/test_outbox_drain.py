"""How the outbox drains: one SMTP connection a batch, the stored bytes on the wire, one
commit a message, and a claim made ahead that is given back when the drain stops.

The SMTP server is aiosmtpd on 127.0.0.1, counting the connections it accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer  # noqa: N811 - beside smtplib's SMTP
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import event, func, select
from support import PRINCIPAL, SENDER, STAMP, Collector, free_port, make_invite, write_config

from styrhjul.clock import FixedClock
from styrhjul.config import load_settings
from styrhjul.db.models import OutboxMessage
from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.messages import Party
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import SmtpTransport
from styrhjul.services.context import App
from styrhjul.services.outbox import dispatch, enqueue, list_messages
from styrhjul.wiring import build

BATCH = 12


class Handler(Collector):
    """A Collector that can answer MAIL once with a refusal, as a server closing down does."""

    def __init__(self) -> None:
        super().__init__()
        self.mail_reply_once: str | None = None
        self.on_data: Callable[[], None] | None = None

    async def handle_MAIL(  # noqa: N802 - aiosmtpd finds hooks by this name
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.mail_reply_once is not None:
            reply, self.mail_reply_once = self.mail_reply_once, None
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTPServer, session: Session, envelope: Envelope
    ) -> str:
        if self.on_data is not None:
            self.on_data()
        return await super().handle_DATA(server, session, envelope)


class CountingController(Controller):
    """An aiosmtpd server that counts the connections it accepts.

    aiosmtpd builds one protocol instance per connection through :meth:`factory`; the
    controller's own readiness check connects once too, so tests count from ``baseline``.
    """

    def __init__(self, handler: Handler) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=5.0)
        self.connections = 0
        self.baseline = 0

    def factory(self) -> SMTPServer:
        self.connections += 1
        return super().factory()

    def start(self) -> None:
        super().start()
        self.baseline = self.connections

    @property
    def since_start(self) -> int:
        return self.connections - self.baseline


@pytest.fixture
def server() -> Iterator[tuple[CountingController, Handler]]:
    handler = Handler()
    controller = CountingController(handler)
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def smtp_app(
    server: tuple[CountingController, Handler], db_url: str, tmp_path: Path, clock: FixedClock
) -> Iterator[App]:
    controller, _ = server
    config = write_config(
        tmp_path,
        db_url,
        transport="smtp",
        extra=(f'\n[mail.smtp]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\n'),
    )
    settings = load_settings(config, environ={})
    transport = SmtpTransport(
        "127.0.0.1", controller.port, security="none", username=None, password=None, timeout=5
    )
    app = build(settings, clock=clock, transport=transport)
    yield app
    app.close()


def _enqueue_invites(app: App, count: int, first: int = 0) -> None:
    """``count`` real invites (text, HTML, calendar part, attachment), one recipient each."""
    renderer = Renderer()
    with app.db.session() as session:
        for number in range(first, first + count):
            recipient = Party(f"rektor.{number}@skola.helsingborg.test", f"Rektor, Skola {number}")
            key = f"invite:{number}"
            message = compose_invite(
                make_invite(), recipient, sender=SENDER, key=key, stamp=STAMP, renderer=renderer
            )
            assert enqueue(session, app.clock.now(), key=key, kind="invite", message=message)


def _stored(app: App) -> list[tuple[str, bytes]]:
    with app.db.session() as session:
        rows = session.execute(
            select(OutboxMessage.key, OutboxMessage.payload).order_by(OutboxMessage.id)
        )
        return [(key, payload) for key, payload in rows]


def test_a_batch_goes_over_one_connection_as_the_stored_bytes(
    server: tuple[CountingController, Handler], smtp_app: App
) -> None:
    controller, handler = server
    _enqueue_invites(smtp_app, BATCH)
    report = dispatch(smtp_app)
    assert (report.sent, report.retried, report.failed) == (BATCH, 0, 0)
    assert controller.since_start == 1
    assert handler.greetings == 1
    stored = _stored(smtp_app)
    assert [envelope.original_content for envelope in handler.envelopes] == [
        payload for _, payload in stored
    ]
    assert [envelope.mail_from for envelope in handler.envelopes] == [SENDER.address] * BATCH
    assert [envelope.rcpt_tos for envelope in handler.envelopes] == [
        [f"rektor.{number}@skola.helsingborg.test"] for number in range(BATCH)
    ]
    assert {row.status for row in list_messages(smtp_app)} == {"sent"}

    # The next drain reuses the connection the transport kept.
    _enqueue_invites(smtp_app, 2, first=BATCH)
    assert dispatch(smtp_app).sent == 2
    assert controller.since_start == 1
    assert len(handler.envelopes) == BATCH + 2


def test_the_server_gets_a_message_only_once_the_one_before_is_recorded(
    server: tuple[CountingController, Handler], smtp_app: App
) -> None:
    """The outcome of one message commits while the next is sent, but before its DATA: so
    at most one message is ever accepted and not yet recorded "sent" (the crash window)."""
    _, handler = server
    _enqueue_invites(smtp_app, BATCH)
    unrecorded: list[int] = []

    def count_unrecorded() -> None:  # in the server's thread, as the message's data arrives
        with smtp_app.db.engine.connect() as connection:
            sent = connection.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
        unrecorded.append(len(handler.envelopes) - (sent or 0))

    handler.on_data = count_unrecorded
    assert dispatch(smtp_app).sent == BATCH
    assert unrecorded == [0] * BATCH


def test_a_connection_the_server_closed_is_replaced_before_the_message(
    server: tuple[CountingController, Handler], smtp_app: App
) -> None:
    """A kept connection that finds the server closing (421 to MAIL) is opened again, and the
    message goes out once, on the new connection."""
    controller, handler = server
    _enqueue_invites(smtp_app, 1)
    assert dispatch(smtp_app).sent == 1
    handler.mail_reply_once = "421 4.4.2 idle too long, closing"
    _enqueue_invites(smtp_app, 1, first=1)
    report = dispatch(smtp_app)
    assert (report.sent, report.retried) == (1, 0)
    assert handler.mail_reply_once is None  # it was asked
    assert controller.since_start == 2
    assert [e.original_content for e in handler.envelopes] == [p for _, p in _stored(smtp_app)]


def test_each_message_costs_one_commit_and_two_statements(app: App) -> None:
    """Recording a message's outcome and claiming a later one is one transaction."""
    statements: list[str] = []
    commits: list[int] = []
    event.listen(app.db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    event.listen(app.db.engine, "commit", lambda *a: commits.append(1))

    def drain(count: int, first: int) -> tuple[int, int]:
        _enqueue_invites(app, count, first)
        statements.clear()
        commits.clear()
        assert dispatch(app).sent == count
        return len(statements), len(commits)

    few = drain(3, 0)
    more = drain(3 + 7, 3)
    assert (more[0] - few[0], more[1] - few[1]) == (2 * 7, 7)
    # One to recover stale claims, one outcome a message, and a claim a message plus the
    # last one, which finds nothing due.
    assert sum(text.lstrip().upper().startswith("UPDATE") for text in statements) == 2 * 10 + 2


def test_a_stop_after_one_message_gives_back_the_claim_made_ahead(app: App) -> None:
    _enqueue_invites(app, 4)
    folder = app.settings.maildir_path / "new"

    def stop() -> bool:
        return folder.exists() and any(folder.iterdir())

    report = dispatch(app, stop=stop)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    rows = list_messages(app)
    assert [row.status for row in rows] == ["sent", "pending", "pending", "pending"]
    assert [row.attempts for row in rows] == [1, 0, 0, 0]
    with app.db.session() as session:
        claimed_by = set(
            session.scalars(
                select(OutboxMessage.claimed_by).where(OutboxMessage.status == "pending")
            )
        )
    assert claimed_by == {None}
    assert dispatch(app).sent == 3
    assert [row.attempts for row in list_messages(app)] == [1, 1, 1, 1]


def test_the_limit_claims_no_more_than_it_sends(app: App) -> None:
    _enqueue_invites(app, 5)
    assert dispatch(app, limit=2).sent == 2
    rows = list_messages(app)
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1)] * 2 + [("pending", 0)] * 3
    assert dispatch(app, limit=1).sent == 1
    assert dispatch(app, limit=0).sent == 0
    assert [row.status for row in list_messages(app)].count("pending") == 2


def test_an_invite_parses_back_from_what_the_server_received(
    server: tuple[CountingController, Handler], smtp_app: App
) -> None:
    """The stored bytes parse back into the message that was enqueued (headers and parts)."""
    _, handler = server
    renderer = Renderer()
    message = compose_invite(
        make_invite(), PRINCIPAL, sender=SENDER, key="one", stamp=STAMP, renderer=renderer
    )
    with smtp_app.db.session() as session:
        enqueue(session, smtp_app.clock.now(), key="one", kind="invite", message=message)
    assert dispatch(smtp_app).sent == 1
    [got] = handler.messages()
    assert got["Message-ID"] == message["Message-ID"]
    assert got["Subject"] == message["Subject"]
    assert [p.get_content_type() for p in got.walk()] == [
        p.get_content_type() for p in message.walk()
    ]
    assert handler.envelopes[0].rcpt_tos == [PRINCIPAL.email]
