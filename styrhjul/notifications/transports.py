"""Where composed messages go: one small protocol and three mechanisms.

A transport either delivers a message or raises :class:`~styrhjul.errors.DeliveryFailed`,
whose ``permanent`` flag tells the outbox dispatcher whether trying again can help. A reply
about the message itself (5xx to MAIL, RCPT or DATA) is permanent; anything about reaching
or talking to the server (refused connection, timeout, 4xx, a dropped line, failed TLS or
login) is not, because it is fixed by waiting or by the operator, not by changing the message.

- :class:`SmtpTransport`: a mail server; the connection is kept between sends and opened
  again when the server has dropped it. It logs in with a password or, for Exchange Online
  (where basic authentication is being switched off), with an OAuth2 token (``AUTH XOAUTH2``).
- :class:`MaildirTransport`: files in a Maildir, for trials and tests; each file is an
  ordinary ``.eml`` message that a mail program opens.
- :class:`ConsoleTransport`: the readable part of each message on a stream, for trials.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from io import BytesIO
from pathlib import Path
from typing import Literal, Protocol, TextIO, get_args, runtime_checkable

from styrhjul.errors import DeliveryFailed, InputError
from styrhjul.notifications.oauth2 import ClientCredentials
from styrhjul.notifications.stored import (
    Envelope,
    envelope,
    header_block,
    parse_stored,
    stored_envelope,
)

Security = Literal["none", "starttls", "ssl"]
SECURITIES: frozenset[str] = frozenset(get_args(Security))
Refusals = dict[str, tuple[int, bytes]]
"""Recipients a server refused, with its code and reply, as smtplib reports them."""


class Transport(Protocol):
    """Delivers composed messages; raises DeliveryFailed, saying whether to retry."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise :class:`~styrhjul.errors.DeliveryFailed`."""
        ...

    def close(self) -> None:
        """Release connections or files; the transport may be used again afterwards."""
        ...


@runtime_checkable
class SendsStored(Protocol):
    """A transport that takes a message as the outbox stores it, without parsing it first."""

    def send_stored(self, payload: bytes) -> None:
        """Deliver the stored bytes (see :mod:`styrhjul.notifications.stored`) as they are."""
        ...


def stored_sender(transport: Transport) -> Callable[[bytes], None]:
    """How ``transport`` takes stored bytes: as they are if it can, else parsed back first."""
    if isinstance(transport, SendsStored):
        return transport.send_stored

    def parse_and_send(payload: bytes) -> None:
        transport.send(parse_stored(payload))

    return parse_and_send


def _head(stored: Iterable[bytes]) -> bytes:
    """The header block of a stored message, without reading the body."""
    lines: list[bytes] = []
    for line in stored:
        if line in (b"\n", b"\r\n"):
            break
        lines.append(line)
    return b"".join(lines)


def _message_id(message: EmailMessage) -> str | None:
    value = message.get("Message-ID")
    return str(value).strip() if value is not None else None


class MaildirTransport:
    """Writes each message as a file in ``path/new`` (a Maildir, created when missing).

    A message whose Message-ID is already in the folder is not added again, so a resend after
    a crash leaves one file. The index of Message-IDs is read from the folder on the first
    send and kept in memory: one process should write a given folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._box: mailbox.Maildir | None = None
        self._seen: set[str] = set()

    def _open(self) -> mailbox.Maildir:
        if self._box is None:
            # Maildir(create=True) makes new/, cur/ and tmp/ only when the folder itself is
            # missing; an empty folder made by hand would fail on the first listing.
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
            box = mailbox.Maildir(self.path, create=True)
            parser = BytesHeaderParser(policy=default_policy)
            seen: set[str] = set()
            for key in box.iterkeys():
                with box.get_file(key) as stored:
                    headers = parser.parsebytes(_head(stored))
                found = _message_id(headers)
                if found is not None:
                    seen.add(found)
            self._box, self._seen = box, seen
        return self._box

    def send(self, message: EmailMessage) -> None:
        message_id = _message_id(message)
        try:
            box = self._open()
            if message_id is not None and message_id in self._seen:
                return
            box.add(message)
        except OSError as error:
            raise DeliveryFailed(f"maildir {self.path}: {error}", permanent=False) from error
        if message_id is not None:
            self._seen.add(message_id)

    def close(self) -> None:
        """Forget the index; the next send reads the folder again."""
        self._box = None
        self._seen = set()


class ConsoleTransport:
    """Prints who, what and the plain-text body of each message: for trials, not delivery.

    ``stream`` defaults to standard output as it is at the time of sending.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: EmailMessage) -> None:
        lines = ["-" * 72]
        for name in ("Date", "From", "To", "Subject", "Message-ID"):
            if name in message:
                lines.append(f"{name}: {message[name]}")
        lines.append("")
        body = message.get_body(preferencelist=("plain",))
        if body is not None:
            lines.append(str(body.get_content()).rstrip("\n"))
        lines.extend(
            f"[{part.get_content_type()}: {part.get_filename() or 'utan namn'}]"
            for part in message.iter_attachments()
        )
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write("\n".join(lines) + "\n")
            stream.flush()
        except OSError as error:
            raise DeliveryFailed(f"console: {error}", permanent=False) from error

    def close(self) -> None:
        """Nothing to release; the stream belongs to the caller."""


def _text(reply: bytes | str) -> str:
    """A server's reply text, whichever type smtplib hands it over in."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {' '.join(_text(error.smtp_error).split())}"


def xoauth2_string(username: str, token: str) -> str:
    """The XOAUTH2 initial response before base64: ``user=...^Aauth=Bearer ...^A^A``.

    The format is Google's and Microsoft's (there is no RFC; OAUTHBEARER, RFC 7628, is its
    standard successor, which Exchange Online does not offer for SMTP).
    """
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


class SmtpTransport:
    """Sends through a mail server, keeping one connection open between sends.

    Nothing is opened until the first send. Before reusing the connection a NOOP checks that
    the server still listens; if it hung up while idle, a new connection is made, rather than
    failing the message (a line that drops during a send is a temporary failure, and the
    retry carries the same Message-ID). ``ssl_context`` replaces the system's
    trust store, for a relay with a certificate from an internal authority. Not thread-safe:
    one dispatcher owns one transport.

    With ``oauth2`` the transport logs in as ``username`` with ``AUTH XOAUTH2`` and a token
    from the identity platform instead of a password. A token is fetched once and reused
    (on every new connection) until it is about to expire. A server that refuses it (535)
    gets one more try with a freshly fetched token; a second refusal is temporary, since the
    fix (the mailbox's permissions, the app's consent) is the operator's, not the message's.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security,
        username: str | None,
        password: str | None,
        timeout: float,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        oauth2: ClientCredentials | None = None,
    ) -> None:
        if security not in SECURITIES:
            allowed = ", ".join(sorted(SECURITIES))
            raise InputError(
                f"unknown SMTP security {security!r}; allowed: {allowed}", key="security"
            )
        if not 0 < port < 65536:
            raise InputError(f"SMTP port {port} is out of range", key="port")
        if timeout <= 0:
            raise InputError(f"SMTP timeout must be positive, not {timeout}", key="timeout")
        if oauth2 is not None:
            if not username:
                raise InputError(
                    "SMTP XOAUTH2 needs the mailbox to log in as ($STYRHJUL_SMTP_USERNAME)",
                    key="username",
                )
            if password is not None:
                raise InputError(
                    "SMTP auth is xoauth2, but a password is set too "
                    "($STYRHJUL_SMTP_PASSWORD); unset it",
                    key="password",
                )
            if security == "none":
                raise InputError(
                    "refusing to send an OAuth2 token unencrypted; use starttls or ssl",
                    key="security",
                )
        elif (username is None) != (password is None):
            raise InputError("SMTP username and password go together", key="username")
        if password is not None and security == "none":
            raise InputError(
                "refusing to send an SMTP password unencrypted; use starttls or ssl",
                key="security",
            )
        self._host = host
        self._port = port
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._ssl_context = ssl_context
        self._oauth2 = oauth2
        self._connection: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"SMTP server {self._host}:{self._port}"

    def _connect(self) -> smtplib.SMTP:
        context = self._ssl_context or ssl.create_default_context()
        connection: smtplib.SMTP | None = None
        step = "connect"
        try:
            # Host and port go to the constructor, which connects: smtplib takes the TLS
            # server name from there, not from a later connect().
            if self._security == "ssl":
                connection = smtplib.SMTP_SSL(
                    self._host,
                    self._port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                    context=context,
                )
            else:
                connection = smtplib.SMTP(
                    self._host,
                    self._port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                )
            step = "greet (EHLO)"
            connection.ehlo_or_helo_if_needed()
            if self._security == "starttls":
                step = "start TLS"
                connection.starttls(context=context)
                connection.ehlo()
            if self._oauth2 is not None and self._username is not None:
                step = "log in (XOAUTH2)"
                self._login_xoauth2(connection, self._username, self._oauth2)
            elif self._username is not None and self._password is not None:
                step = "log in"
                connection.login(self._username, self._password)
        except BaseException as error:
            if connection is not None:
                connection.close()
            if isinstance(error, DeliveryFailed):  # from the token endpoint
                raise DeliveryFailed(
                    f"{self.where}: cannot {step}: {error.reason}", permanent=error.permanent
                ) from error
            if isinstance(error, smtplib.SMTPResponseException):
                detail = _reply(error)
            elif isinstance(error, OSError):  # smtplib.SMTPException is an OSError
                detail = str(error) or type(error).__name__
            else:
                raise
            raise DeliveryFailed(
                f"{self.where}: cannot {step}: {detail}", permanent=False
            ) from error
        return connection

    @staticmethod
    def _login_xoauth2(
        connection: smtplib.SMTP, username: str, credentials: ClientCredentials
    ) -> None:
        """``AUTH XOAUTH2`` with the cached token; after a 535, once more with a fresh one."""
        offered = connection.esmtp_features.get("auth", "").upper().split()
        if "XOAUTH2" not in offered:
            raise smtplib.SMTPNotSupportedError(
                f"the server offers no AUTH XOAUTH2 (it offers: {' '.join(offered) or 'none'})"
            )
        for fresh in (False, True):
            if fresh:
                credentials.forget()
            initial = xoauth2_string(username, credentials.token())

            # smtplib calls this with no challenge for the initial response; a server that
            # refuses answers 334 with a JSON error first, to which the client says nothing.
            def answer(challenge: bytes | None = None, initial: str = initial) -> str:
                return initial if challenge is None else ""

            try:
                connection.auth("XOAUTH2", answer)
            except smtplib.SMTPAuthenticationError as error:
                if error.smtp_code == 535 and not fresh:
                    continue
                raise
            return

    def _ready(self) -> smtplib.SMTP:
        """The kept connection after a NOOP says it still listens, else a new one."""
        if self._connection is not None:
            try:
                code, _ = self._connection.noop()
            except (smtplib.SMTPException, OSError):
                code = 0
            if code == 250:
                return self._connection
            self._drop()
        self._connection = self._connect()
        return self._connection

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def send(self, message: EmailMessage) -> None:
        found = envelope(message)
        if found is None:  # Bcc, Resent-, SMTPUTF8: smtplib knows how
            self._attempt(message, lambda: self._ready().send_message(message))
            return
        with BytesIO() as flat:  # as send_message flattens it
            BytesGenerator(flat).flatten(message, linesep="\r\n")
            payload = flat.getvalue()
        self._attempt(message, lambda: self._transaction(found, payload))

    def send_stored(self, payload: bytes) -> None:
        """Send the outbox's bytes as they are: no parsing, no flattening again."""
        found = stored_envelope(payload)
        if found is None:
            self.send(parse_stored(payload))
            return
        self._attempt(payload, lambda: self._transaction(found, payload))

    def _transaction(self, found: Envelope, payload: bytes) -> Refusals:
        """MAIL, RCPT, DATA as :meth:`smtplib.SMTP.sendmail` does them, on the kept connection.

        No NOOP first: MAIL is the probe. A kept connection that the server dropped while idle
        fails at MAIL, before any of the message is sent, and is replaced once; a failure
        after MAIL is the message's (mapped by :meth:`_attempt`).
        """
        kept = self._connection is not None
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        options = [f"size={len(payload)}"] if connection.has_extn("size") else []
        try:
            code, reply = connection.mail(found.sender, options)
        except smtplib.SMTPServerDisconnected:
            if not kept:
                raise
            code, reply = 421, b"dropped while idle"
        if code == 421 and kept:
            self._drop()
            self._connection = connection = self._connect()
            code, reply = connection.mail(found.sender, options)
        if code != 250:
            self._end_transaction(connection, code)
            raise smtplib.SMTPSenderRefused(code, reply, found.sender)
        refused: Refusals = {}
        for recipient in found.recipients:
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
            if code == 421:
                self._drop()
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(found.recipients):
            self._end_transaction(connection, 0)
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = connection.data(payload)
        if code != 250:
            self._end_transaction(connection, code)
            raise smtplib.SMTPDataError(code, reply)
        return refused

    def _end_transaction(self, connection: smtplib.SMTP, code: int) -> None:
        """After a refusal: hang up on a 421 (the server is closing), else RSET."""
        if code == 421:
            self._drop()
            return
        with suppress(smtplib.SMTPServerDisconnected):  # the next send finds out
            connection.rset()

    def _attempt(self, sending: EmailMessage | bytes, deliver: Callable[[], Refusals]) -> None:
        """Run ``deliver``; a failure says whether trying again can help."""
        try:
            refused = deliver()
        except (smtplib.SMTPException, OSError) as error:
            raise self._failure(self._what(sending), error) from error
        if refused:
            # Delivered to the others already: retrying would send it to them twice.
            listed = "; ".join(f"{rcpt}: {code}" for rcpt, (code, _) in refused.items())
            raise DeliveryFailed(
                f"{self._what(sending)}: some recipients refused: {listed}", permanent=True
            )

    def _what(self, sending: EmailMessage | bytes) -> str:
        """The server and the Message-ID, for a failure (stored bytes are parsed only then)."""
        if isinstance(sending, bytes):
            sending = BytesHeaderParser(policy=default_policy).parsebytes(header_block(sending))
        return f"{self.where}: message {_message_id(sending) or '(no Message-ID)'}"

    def _failure(self, what: str, error: smtplib.SMTPException | OSError) -> DeliveryFailed:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            replies = {rcpt: (code, _text(text)) for rcpt, (code, text) in error.recipients.items()}
            listed = "; ".join(f"{rcpt}: {code} {text}" for rcpt, (code, text) in replies.items())
            permanent = all(500 <= code < 600 for code, _ in replies.values())
            return DeliveryFailed(f"{what}: all recipients refused: {listed}", permanent=permanent)
        if isinstance(error, smtplib.SMTPResponseException):
            if error.smtp_code == 421:  # the server is closing the connection
                self._drop()
            return DeliveryFailed(
                f"{what}: refused: {_reply(error)}", permanent=500 <= error.smtp_code < 600
            )
        if isinstance(error, smtplib.SMTPNotSupportedError):  # e.g. needs SMTPUTF8
            return DeliveryFailed(f"{what}: {error}", permanent=True)
        self._drop()
        detail = str(error) or type(error).__name__
        return DeliveryFailed(f"{what}: connection lost: {detail}", permanent=False)

    def close(self) -> None:
        """Say QUIT and hang up; the next send connects again."""
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self._drop()
