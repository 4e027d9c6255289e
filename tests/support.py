"""What the test modules share besides fixtures: config files, the start instant, the CLI
harness, sample notifications and their golden files, a collecting SMTP handler, a test
certificate.

tests/ is not a package. tests/conftest.py puts this folder on ``sys.path``, so every test
module imports ``from support import ...``; ``from conftest import ...`` would be ambiguous,
since each folder's conftest.py is loaded under that same module name.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import enum
import ipaddress
import json
import os
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd import smtp as aiosmtp
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pgserver import free_port
from sqlalchemy import delete, select

from styrhjul.cli.main import main
from styrhjul.clock import STOCKHOLM
from styrhjul.db.models import Dialog, Instance, OrgUnit
from styrhjul.notifications.messages import ChecklistLine, MeetingInvite, Party, Sender
from styrhjul.services.context import App

__all__ = [
    "CONTROLLER",
    "DIRECTOR",
    "GOLDEN",
    "NOW",
    "PRINCIPAL",
    "SENDER",
    "STAMP",
    "START",
    "Certificate",
    "Cli",
    "Collector",
    "accept_styrhjul",
    "check_golden",
    "free_port",
    "keep_dialogs",
    "line_with",
    "make_invite",
    "write_config",
]

# Tuesday 1 September 2026, 09:00 in Stockholm: before round 1 of 2026/27. Every clock starts here.
START = dt.datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)
# ... as the CLI's --now takes it.
NOW = f"{START:%Y-%m-%d %H:%M}"


def dialog_id_of(app: App, unit_code: str = "vastra-skolan") -> int:
    """The id of the (single planned) dialog of a unit."""
    with app.db.session() as session:
        found = session.scalar(
            select(Dialog.id)
            .join(OrgUnit, Dialog.unit_id == OrgUnit.id)
            .where(OrgUnit.code == unit_code)
        )
    assert found is not None, f"no dialog for {unit_code}"
    return found


def keep_dialogs(app: App, *unit_codes: str) -> None:
    """Delete every dialog but those of ``unit_codes``, with their steps and agreements.

    A test that walks the clock over a planned round then handles a few dialogs, not 40.
    """
    with app.db.session() as session:
        kept = select(Dialog.id).join(OrgUnit, Dialog.unit_id == OrgUnit.id)
        kept = kept.where(OrgUnit.code.in_(unit_codes))
        instances = Instance.__table__
        session.execute(delete(instances).where(instances.c.id.not_in(kept)))


def write_config(folder: Path, db_url: str, extra: str = "", transport: str = "maildir") -> Path:
    """Write ``folder/config.toml`` for ``db_url``; the Maildir is ``folder/mail``.

    ``extra`` is TOML placed in the ``[mail]`` table, after ``transport``: more ``[mail]`` keys
    (``max_attempts = 2``), then, if needed, further tables (``[mail.smtp]``, ``[dialogs]``).
    """
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n'
        f'[mail]\ntransport = "{transport}"\n{extra}\n'
        f'[mail.maildir]\npath = "mail"\n',
        encoding="utf-8",
    )
    return path


def line_with(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based number of the ``occurrence``-th line of ``text`` that contains ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} occurs fewer than {occurrence} times")


# --- the command line, run in-process ------------------------------------------------------


class _Default(enum.Enum):
    """``now=`` left out: the ``Cli``'s own ``now`` applies (``None`` would mean no --now)."""

    NOW = enum.auto()


_DEFAULT = _Default.NOW
_When = str | None | _Default


class Cli:
    """Runs ``styrhjul.cli.main.main`` in-process against one config file.

    Calling it returns (exit code, stdout, stderr). Every command gets ``--now`` with the
    ``now`` given here (``NOW`` unless told otherwise; ``None`` gives no --now at all); each
    method's ``now=`` overrides that for one call. The Maildir is ``config.parent / "mail"``,
    as ``write_config`` sets it.
    """

    def __init__(
        self, config: Path, capsys: pytest.CaptureFixture[str], now: str | None = NOW
    ) -> None:
        self.config = config
        self.capsys = capsys
        self.now = now
        self.maildir = config.parent / "mail"

    def __call__(self, *args: str, now: _When = _DEFAULT) -> tuple[int, str, str]:
        when = self.now if isinstance(now, _Default) else now
        argv = ["--config", str(self.config)]
        if when is not None:
            argv += ["--now", when]
        self.capsys.readouterr()
        code = main([*argv, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str, now: _When = _DEFAULT) -> str:
        """Stdout of a command that must exit 0."""
        code, out, err = self(*args, now=now)
        assert code == 0, f"{args}: exit {code}\nstdout: {out}\nstderr: {err}"
        return out

    def json(self, *args: str, now: _When = _DEFAULT) -> Any:
        """The parsed ``--json`` output of a command that must exit 0."""
        return json.loads(self.ok(*args, "--json", now=now))

    def fails(self, code: int, *args: str, now: _When = _DEFAULT) -> str:
        """Stderr of a command that must exit with ``code``."""
        got, out, err = self(*args, now=now)
        assert got == code, f"{args}: exit {got}, expected {code}\nstdout: {out}\nstderr: {err}"
        return err

    def mails(self) -> list[Path]:
        """The files in the Maildir's new/, sorted; none if it does not exist yet."""
        new = self.maildir / "new"
        return sorted(new.iterdir()) if new.exists() else []

    def dialog_id(self, unit: str) -> int:
        """The id of the single dialog of ``unit`` in ``dialog list``."""
        rows = self.json("dialog", "list")
        (found,) = [r["id"] for r in rows if r["unit"] == unit]
        return found

    def show(self, dialog_id: int, now: _When = _DEFAULT) -> dict[str, Any]:
        """``dialog show --json``."""
        return self.json("dialog", "show", str(dialog_id), now=now)


# --- a sample meeting and the golden files of its messages ---------------------------------

GOLDEN = Path(__file__).parent / "notifications" / "golden"
UPDATE_GOLDEN = "STYRHJUL_UPDATE_GOLDEN"

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


def check_golden(name: str, actual: str, folder: Path = GOLDEN) -> None:
    """Compare ``actual`` with ``folder/name``.

    With STYRHJUL_UPDATE_GOLDEN=1 a missing or different file is rewritten and the test fails,
    asking for a review and a run without the variable: the check never passes on a file it
    has just written. Line ends are compared as LF, so that git's line-end handling cannot
    break the check; CRLF in iCalendar output is asserted separately.
    """
    path = folder / name
    actual = actual.replace("\r\n", "\n")
    stored = path.read_bytes().decode("utf-8").replace("\r\n", "\n") if path.exists() else None
    if os.environ.get(UPDATE_GOLDEN) == "1" and actual != stored:
        path.write_bytes(actual.encode("utf-8"))
        pytest.fail(
            f"{path} rewritten because {UPDATE_GOLDEN}=1: review the change (git diff), "
            f"then run the tests again without {UPDATE_GOLDEN}"
        )
    assert stored is not None, f"{path} missing; run once with {UPDATE_GOLDEN}=1 and review"
    assert actual == stored


# --- a real SMTP server on loopback: the handler (the server is conftest's smtp_server) ------


class Collector:
    """An aiosmtpd handler that keeps what it receives, or answers with a fixed refusal.

    ``rcpt_reply`` and ``data_reply`` are the answers to RCPT and DATA; ``None`` accepts.
    Both may be changed while the server runs.
    """

    def __init__(self, *, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.envelopes: list[Envelope] = []
        self.greetings = 0

    def messages(self) -> list[EmailMessage]:
        """The accepted messages, parsed, in the order they arrived."""
        parsed = []
        for envelope in self.envelopes:
            content = envelope.original_content
            assert isinstance(content, bytes)
            message = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

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
    """An aiosmtpd authenticator that knows one user: styrhjul / hemligt."""
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"styrhjul",
        b"hemligt",
    )
    return AuthResult(success=ok, handled=False)


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


def body_of(message: EmailMessage, subtype: str = "plain") -> str:
    """The decoded ``text/plain`` (or ``text/html``) body of a composed or delivered message."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (port chosen by the OS) until the block ends.

    Yields ``http://127.0.0.1:PORT``. The server polls for shutdown every 20 ms, so
    teardown does not wait up to half a second.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
