"""SMTP with OAuth2 (AUTH XOAUTH2), as Exchange Online wants it, against real loopback peers.

The mail server is aiosmtpd with STARTTLS and an ``auth_XOAUTH2`` mechanism that answers a
refused token the way Gmail and Exchange Online do (a 334 carrying a JSON error, then 535).
The identity platform is the loopback token endpoint of tests/notifications/token_endpoint.py
(the ``token_endpoint`` fixture), answering the client-credentials POST with the tokens it
is told to hand out and recording the requests.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd import smtp as aiosmtp
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from support import PRINCIPAL, SENDER, STAMP, Certificate, Collector, make_invite
from token_endpoint import TokenEndpoint

from styrhjul.clock import FixedClock
from styrhjul.errors import DeliveryFailed, InputError
from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.oauth2 import ClientCredentials
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import SmtpTransport, xoauth2_string

TIMEOUT = 3.0
MAILBOX = "styrhjul@example.se"
REFUSAL = "535 5.7.8 Username and Password not accepted"


# --- the mail server ----------------------------------------------------------------------


class OAuthCollector(Collector):
    """Collects mail; accepts ``AUTH XOAUTH2`` for ``MAILBOX`` with one of ``valid`` tokens."""

    def __init__(self, valid: set[str]) -> None:
        super().__init__()
        self.valid = valid
        self.attempts: list[tuple[str, str]] = []

    async def auth_XOAUTH2(  # noqa: N802 - aiosmtpd finds mechanisms by this name
        self, server: aiosmtp.SMTP, args: list[str]
    ) -> AuthResult:
        raw = base64.b64decode(args[1]) if len(args) == 2 else b""
        fields = dict(
            part.split("=", 1) for part in raw.decode("ascii").split("\x01") if "=" in part
        )
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        self.attempts.append((user, token))
        if user == MAILBOX and token in self.valid:
            return AuthResult(success=True, auth_data=user)
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://x"})
        await server.challenge_auth(error)  # the client answers with an empty line
        return AuthResult(success=False, handled=False, message=REFUSAL)


StartServer = Callable[..., Controller]
Connect = Callable[..., tuple[OAuthCollector, SmtpTransport]]


def credentials(endpoint: TokenEndpoint, clock: FixedClock) -> ClientCredentials:
    return ClientCredentials(
        token_url=endpoint.url,
        client_id="styrhjul-app",
        client_secret="hemligt",
        scope="https://outlook.office365.com/.default",
        now=clock.now,
        timeout=TIMEOUT,
    )


@pytest.fixture
def connect(
    smtp_server: StartServer,
    certificate: Certificate,
    token_endpoint: TokenEndpoint,
    clock: FixedClock,
) -> Iterator[Connect]:
    """``connect(valid, endpoint=token_endpoint, **server_options)``: a STARTTLS server
    accepting the ``valid`` tokens, and an XOAUTH2 transport to it, closed after the test."""
    transports: list[SmtpTransport] = []

    def start(
        valid: set[str], endpoint: TokenEndpoint = token_endpoint, **server_options: object
    ) -> tuple[OAuthCollector, SmtpTransport]:
        handler = OAuthCollector(valid)
        server = smtp_server(
            handler,
            tls_context=certificate.server_context(),
            require_starttls=True,
            **server_options,
        )
        transport = SmtpTransport(
            "127.0.0.1",
            server.port,
            security="starttls",
            username=MAILBOX,
            password=None,
            timeout=TIMEOUT,
            local_hostname="styrhjul.test",
            ssl_context=certificate.client_context(),
            oauth2=credentials(endpoint, clock),
        )
        transports.append(transport)
        return handler, transport

    yield start
    for transport in transports:
        transport.close()


def message(key: str, renderer: Renderer) -> EmailMessage:
    return compose_invite(
        make_invite(), PRINCIPAL, sender=SENDER, key=key, stamp=STAMP, renderer=renderer
    )


# --- the tests ----------------------------------------------------------------------------


def test_the_sasl_string_is_the_documented_one() -> None:
    assert xoauth2_string("a@b.se", "tok") == "user=a@b.se\x01auth=Bearer tok\x01\x01"


def test_one_token_serves_many_messages_and_connections(
    connect: Connect, renderer: Renderer, token_endpoint: TokenEndpoint
) -> None:
    handler, transport = connect(valid={"token-1"})
    transport.send(message("outbox:1", renderer))
    transport.send(message("outbox:2", renderer))  # the same connection
    transport.close()
    transport.send(message("outbox:3", renderer))  # a new one, logging in again
    assert len(handler.envelopes) == 3
    assert handler.attempts == [(MAILBOX, "token-1")] * 2
    (form,) = token_endpoint.requests
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["styrhjul-app"],
        "client_secret": ["hemligt"],
        "scope": ["https://outlook.office365.com/.default"],
    }


def test_an_expired_token_is_renewed(
    connect: Connect, renderer: Renderer, token_endpoint: TokenEndpoint, clock: FixedClock
) -> None:
    token_endpoint.tokens = ["token-1", "token-2"]
    handler, transport = connect(valid={"token-1", "token-2"})
    transport.send(message("outbox:1", renderer))
    transport.close()
    clock.advance(timedelta(minutes=58))  # inside the token's hour, less the early margin
    transport.send(message("outbox:2", renderer))
    transport.close()
    clock.advance(timedelta(minutes=2))  # now within a minute of expiry: renew
    transport.send(message("outbox:3", renderer))
    assert len(token_endpoint.requests) == 2
    assert [token for _, token in handler.attempts] == ["token-1", "token-1", "token-2"]
    assert len(handler.envelopes) == 3


def test_a_refused_token_is_fetched_anew_once(
    connect: Connect, renderer: Renderer, token_endpoint: TokenEndpoint
) -> None:
    """The cached token was revoked early: the server refuses it, a fresh one goes through."""
    token_endpoint.tokens = ["revoked", "token-2"]
    handler, transport = connect(valid={"token-2"})
    transport.send(message("outbox:1", renderer))
    assert [token for _, token in handler.attempts] == ["revoked", "token-2"]
    assert len(token_endpoint.requests) == 2
    assert len(handler.envelopes) == 1


def test_a_wrong_token_is_refused_as_temporary(
    connect: Connect, renderer: Renderer, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.tokens = ["wrong"]
    handler, transport = connect(valid={"token-1"})
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(message("outbox:1", renderer))
    assert not failure.value.permanent
    assert "cannot log in (XOAUTH2): 535 5.7.8" in failure.value.reason
    assert "127.0.0.1" in failure.value.reason
    assert len(handler.attempts) == 2  # the cached token, then one fresh one; no more
    assert len(token_endpoint.requests) == 2
    assert handler.envelopes == []


def test_token_endpoint_down_is_temporary(connect: Connect, renderer: Renderer) -> None:
    # A port held bound but not listening refuses connections, and no other process on the
    # machine can start listening on it meanwhile (as it could on a port merely found free).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        down = TokenEndpoint(tokens=[], url=f"http://127.0.0.1:{held.getsockname()[1]}/token")
        handler, transport = connect(valid={"token-1"}, endpoint=down)
        with pytest.raises(DeliveryFailed) as failure:
            transport.send(message("outbox:1", renderer))
    assert not failure.value.permanent
    assert "unreachable" in failure.value.reason
    assert down.url in failure.value.reason
    assert handler.attempts == []


def test_token_endpoint_refusing_the_client_is_permanent(
    connect: Connect, renderer: Renderer, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.status = 401
    handler, transport = connect(valid={"token-1"})
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(message("outbox:1", renderer))
    assert failure.value.permanent
    assert "answered 401" in failure.value.reason
    assert "invalid_client" in failure.value.reason
    assert handler.attempts == []


def test_a_server_without_xoauth2_is_named(
    connect: Connect, renderer: Renderer, token_endpoint: TokenEndpoint
) -> None:
    _, transport = connect(valid={"token-1"}, auth_exclude_mechanism=["XOAUTH2"])
    with pytest.raises(DeliveryFailed, match="offers no AUTH XOAUTH2") as failure:
        transport.send(message("outbox:1", renderer))
    assert not failure.value.permanent
    assert token_endpoint.requests == []


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"username": None}, "username"),
        ({"password": "hemligt"}, "password"),
        ({"security": "none"}, "security"),
    ],
)
def test_xoauth2_settings_are_checked(
    changes: dict[str, object], key: str, token_endpoint: TokenEndpoint, clock: FixedClock
) -> None:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 587,
        "security": "starttls",
        "username": MAILBOX,
        "password": None,
        "timeout": TIMEOUT,
        "oauth2": credentials(token_endpoint, clock),
    } | changes
    with pytest.raises(InputError) as failure:
        SmtpTransport(**settings)  # type: ignore[arg-type]
    assert failure.value.key == key
