from collections.abc import Callable
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from support import (
    PRINCIPAL,
    SENDER,
    STAMP,
    Certificate,
    Collector,
    accept_styrhjul,
    free_port,
    make_invite,
)

from styrhjul.errors import DeliveryFailed, InputError
from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import SmtpTransport

StartServer = Callable[..., Controller]
TIMEOUT = 3.0


def message_for(key: str, renderer: Renderer) -> EmailMessage:
    return compose_invite(
        make_invite(), PRINCIPAL, sender=SENDER, key=key, stamp=STAMP, renderer=renderer
    )


def plain_transport(port: int) -> SmtpTransport:
    return SmtpTransport(
        "127.0.0.1",
        port,
        security="none",
        username=None,
        password=None,
        timeout=TIMEOUT,
        local_hostname="styrhjul.test",
    )


def received(handler: Collector, index: int = -1) -> EmailMessage:
    return handler.messages()[index]


def test_delivers_and_keeps_the_connection(smtp_server: StartServer, renderer: Renderer) -> None:
    handler = Collector()
    server = smtp_server(handler)
    transport = plain_transport(server.port)
    first, second = message_for("outbox:1", renderer), message_for("outbox:2", renderer)
    try:
        transport.send(first)
        transport.send(second)
    finally:
        transport.close()
    assert len(handler.envelopes) == 2
    assert handler.greetings == 1  # one connection for both
    envelope = handler.envelopes[0]
    assert envelope.mail_from == SENDER.address
    assert envelope.rcpt_tos == [PRINCIPAL.email]
    got = received(handler, 0)
    assert got["Message-ID"] == first["Message-ID"]
    assert got["Subject"] == first["Subject"]
    (attachment,) = got.iter_attachments()
    assert attachment.get_filename() == "invite.ics"
    assert received(handler, 1)["Message-ID"] == second["Message-ID"]


def test_unknown_recipient_is_permanent(smtp_server: StartServer, renderer: Renderer) -> None:
    server = smtp_server(Collector(rcpt_reply="550 no such user"))
    transport = plain_transport(server.port)
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(message_for("outbox:1", renderer))
    transport.close()
    assert failure.value.permanent
    assert f"127.0.0.1:{server.port}" in failure.value.reason
    assert "550 no such user" in failure.value.reason
    assert PRINCIPAL.email in failure.value.reason


def test_rejected_data_is_permanent(smtp_server: StartServer, renderer: Renderer) -> None:
    server = smtp_server(Collector(data_reply="554 5.6.0 message refused"))
    transport = plain_transport(server.port)
    with pytest.raises(DeliveryFailed, match=r"554 5\.6\.0 message refused") as failure:
        transport.send(message_for("outbox:1", renderer))
    transport.close()
    assert failure.value.permanent


def test_try_later_is_temporary_and_the_next_send_works(
    smtp_server: StartServer, renderer: Renderer
) -> None:
    handler = Collector(data_reply="451 try later")
    server = smtp_server(handler)
    transport = plain_transport(server.port)
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(message_for("outbox:1", renderer))
    assert not failure.value.permanent
    assert f"127.0.0.1:{server.port}" in failure.value.reason
    assert "451 try later" in failure.value.reason
    handler.data_reply = None  # the server has recovered
    transport.send(message_for("outbox:1", renderer))
    transport.close()
    assert len(handler.envelopes) == 1


def test_temporary_recipient_refusal_is_temporary(
    smtp_server: StartServer, renderer: Renderer
) -> None:
    server = smtp_server(Collector(rcpt_reply="450 mailbox busy"))
    transport = plain_transport(server.port)
    with pytest.raises(DeliveryFailed, match="450 mailbox busy") as failure:
        transport.send(message_for("outbox:1", renderer))
    transport.close()
    assert not failure.value.permanent


def test_nothing_listening_is_temporary(renderer: Renderer) -> None:
    port = free_port()
    transport = plain_transport(port)
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(message_for("outbox:1", renderer))
    assert not failure.value.permanent
    assert f"127.0.0.1:{port}" in failure.value.reason
    assert "connect" in failure.value.reason


def test_reconnects_after_the_server_restarted(
    smtp_server: StartServer, renderer: Renderer
) -> None:
    first_handler = Collector()
    server = smtp_server(first_handler)
    transport = plain_transport(server.port)
    try:
        transport.send(message_for("outbox:1", renderer))
        server.stop()
        second_handler = Collector()
        smtp_server(second_handler, port=server.port)
        transport.send(message_for("outbox:2", renderer))
    finally:
        transport.close()
    assert len(first_handler.envelopes) == 1
    assert len(second_handler.envelopes) == 1
    assert received(second_handler)["X-Styrhjul-Key"] == "outbox:2"


def test_a_stopped_server_is_temporary(smtp_server: StartServer, renderer: Renderer) -> None:
    server = smtp_server(Collector())
    transport = plain_transport(server.port)
    transport.send(message_for("outbox:1", renderer))
    server.stop()
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(message_for("outbox:2", renderer))
    transport.close()
    assert not failure.value.permanent


def _starttls_transport(
    smtp_server: StartServer, handler: Collector, certificate: Certificate, *, password: str
) -> SmtpTransport:
    """A server that requires STARTTLS and login, and a transport that logs in as styrhjul."""
    server = smtp_server(
        handler,
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=accept_styrhjul,
    )
    return SmtpTransport(
        "127.0.0.1",
        server.port,
        security="starttls",
        username="styrhjul",
        password=password,
        timeout=TIMEOUT,
        local_hostname="styrhjul.test",
        ssl_context=certificate.client_context(),
    )


def test_starttls_and_login(
    smtp_server: StartServer, renderer: Renderer, certificate: Certificate
) -> None:
    handler = Collector()
    transport = _starttls_transport(smtp_server, handler, certificate, password="hemligt")
    transport.send(message_for("outbox:1", renderer))
    transport.close()
    assert len(handler.envelopes) == 1


def test_wrong_password_is_temporary(
    smtp_server: StartServer, renderer: Renderer, certificate: Certificate
) -> None:
    transport = _starttls_transport(smtp_server, Collector(), certificate, password="fel")
    with pytest.raises(DeliveryFailed, match="cannot log in: 535") as failure:
        transport.send(message_for("outbox:1", renderer))
    assert not failure.value.permanent  # the operator fixes the password; then it goes out


def test_implicit_tls(
    smtp_server: StartServer, renderer: Renderer, certificate: Certificate
) -> None:
    handler = Collector()
    server = smtp_server(handler, ssl_context=certificate.server_context())
    transport = SmtpTransport(
        "127.0.0.1",
        server.port,
        security="ssl",
        username=None,
        password=None,
        timeout=TIMEOUT,
        local_hostname="styrhjul.test",
        ssl_context=certificate.client_context(),
    )
    transport.send(message_for("outbox:1", renderer))
    transport.close()
    assert len(handler.envelopes) == 1


def test_untrusted_certificate_is_refused(
    smtp_server: StartServer, renderer: Renderer, certificate: Certificate
) -> None:
    server = smtp_server(Collector(), tls_context=certificate.server_context())
    transport = SmtpTransport(
        "127.0.0.1",
        server.port,
        security="starttls",
        username=None,
        password=None,
        timeout=TIMEOUT,
        local_hostname="styrhjul.test",
    )  # the system trust store does not know the test certificate
    with pytest.raises(DeliveryFailed, match="cannot start TLS") as failure:
        transport.send(message_for("outbox:1", renderer))
    assert not failure.value.permanent


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"security": "tls"}, "security"),
        ({"port": 0}, "port"),
        ({"timeout": 0}, "timeout"),
        ({"username": "styrhjul"}, "username"),
        ({"username": "styrhjul", "password": "hemligt"}, "security"),
    ],
)
def test_settings_are_checked(changes: dict[str, object], key: str) -> None:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 25,
        "security": "none",
        "username": None,
        "password": None,
        "timeout": TIMEOUT,
    } | changes
    with pytest.raises(InputError) as failure:
        SmtpTransport(**settings)  # type: ignore[arg-type]
    assert failure.value.key == key
