"""Fixtures for the notifications adapter: sample meetings, golden files, a real SMTP server."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd import smtp as aiosmtp
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from styrhjul.clock import STOCKHOLM
from styrhjul.notifications.messages import ChecklistLine, MeetingInvite, Party, Sender
from styrhjul.notifications.render import Renderer

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("STYRHJUL_UPDATE_GOLDEN") == "1"

DIRECTOR = Party("ud@skola.helsingborg.test", "Utbildningsdirektör", "CHAIR")
PRINCIPAL = Party("rektor.vastra@skola.helsingborg.test", "Rektor, Västra skolan")
CONTROLLER = Party("controller@skola.helsingborg.test", "Chefscontroller", "OPT-PARTICIPANT")
SENDER = Sender("styrhjul@skola.helsingborg.test")
STAMP = dt.datetime(2026, 9, 1, 6, 15, tzinfo=dt.UTC)


def make_invite(**changes: Any) -> MeetingInvite:
    """A budget dialog on Tuesday 6 October 2026 09.00-10.30, as the principal receives it."""
    invite = MeetingInvite(
        uid="dialog-12@styrhjul.skola.helsingborg.test",
        sequence=0,
        method="REQUEST",
        summary="Budgetdialog, Västra skolan",
        description="Genomgång av budget och verksamhetsplan.\nTa med läget i åtgärderna.",
        location="Stadshuset, rum Kärnan",
        start=dt.datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM),
        end=dt.datetime(2026, 10, 6, 10, 30, tzinfo=STOCKHOLM),
        organizer=Party(DIRECTOR.email, DIRECTOR.title),
        attendees=(DIRECTOR, PRINCIPAL),
        checklist=(
            ChecklistLine(
                "Läs verksamhetsplanen", "Utbildningsdirektör", dt.date(2026, 10, 5), True, False
            ),
            ChecklistLine(
                "Skicka budgetunderlag", "Rektor, Västra skolan", dt.date(2026, 9, 28), True, True
            ),
            ChecklistLine(
                "Förbered frågor om elevhälsan",
                "Rektor, Västra skolan",
                dt.date(2026, 10, 2),
                False,
                True,
            ),
        ),
        reference="dialog 12",
    )
    return replace(invite, **changes)


@pytest.fixture
def renderer() -> Renderer:
    return Renderer()


def check_golden(name: str, actual: str) -> None:
    """Compare with ``golden/<name>``; STYRHJUL_UPDATE_GOLDEN=1 rewrites it (then review).

    Line ends are compared as LF, so that git's line-end handling cannot break the check;
    CRLF in iCalendar output is asserted separately.
    """
    path = GOLDEN / name
    actual = actual.replace("\r\n", "\n")
    if UPDATE_GOLDEN:
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"{path} missing; run once with STYRHJUL_UPDATE_GOLDEN=1 and review"
    assert actual == path.read_bytes().decode("utf-8").replace("\r\n", "\n")


# --- a real SMTP server on loopback ---------------------------------------------------------


class Collector:
    """An aiosmtpd handler that keeps what it receives, or answers with a fixed refusal."""

    def __init__(self, *, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.envelopes: list[Envelope] = []
        self.greetings = 0

    async def handle_EHLO(  # noqa: N802 - aiosmtpd finds hooks by these names
        self,
        server: aiosmtp.SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(  # noqa: N802
        self,
        server: aiosmtp.SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: aiosmtp.SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def accept_styrhjul(
    server: aiosmtp.SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"styrhjul",
        b"hemligt",
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Controller]]:
    """Starts aiosmtpd controllers on 127.0.0.1; a server that cannot start fails the test."""
    started: list[Controller] = []

    def start(handler: Collector, port: int | None = None, **kwargs: Any) -> Controller:
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port or free_port(),
            ready_timeout=5.0,
            server_hostname="smtp.test",
            **kwargs,
        )
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        if controller._thread is not None:  # stopped already by the test
            controller.stop()


class Certificate:
    """A self-signed certificate for 127.0.0.1, with contexts for the server and the client."""

    def __init__(self, directory: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Styrhjul test SMTP")])
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=3650))
            .not_valid_after(now + dt.timedelta(days=36500))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.cert_path = directory / "smtp.crt"
        self.key_path = directory / "smtp.key"
        self.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self.key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert_path))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return Certificate(tmp_path_factory.mktemp("tls"))
