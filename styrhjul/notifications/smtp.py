"""Sending through a mail server over SMTP, keeping one connection between sends.

:class:`SmtpTransport` takes a composed message (``send``) or the outbox's stored bytes
(``send_stored``), which go on the wire as they are. The connection is kept; a kept
connection is not probed with a NOOP before each message: MAIL, the first command of a
message, is the probe, and a connection found dropped there, before any of the message was
sent, is replaced once. Failures are mapped as :mod:`styrhjul.notifications.transports`
describes: the message's own refusals (5xx) are permanent, the rest temporary.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from contextlib import suppress
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from io import BytesIO
from typing import Literal, get_args

from styrhjul.errors import DeliveryFailed, InputError
from styrhjul.notifications.oauth2 import ClientCredentials
from styrhjul.notifications.stored import (
    Envelope,
    envelope,
    header_block,
    message_id,
    parse_stored,
    stored_envelope,
)

Security = Literal["none", "starttls", "ssl"]
SECURITIES: frozenset[str] = frozenset(get_args(Security))
Refusals = dict[str, tuple[int, bytes]]
"""Recipients a server refused, with its code and reply, as smtplib reports them."""


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


def _go() -> None:
    """A ``before_data`` that lets the message go at once."""


class SmtpTransport:
    """Sends through a mail server, keeping one connection open between sends.

    Nothing is opened until the first send. A kept connection the server hung up while idle
    is replaced when MAIL finds it so (or, for a message smtplib must send itself, when a
    NOOP does), rather than failing the message (a line that drops during a send is a
    temporary failure, and the retry carries the same Message-ID). ``ssl_context`` replaces
    the system's trust store, for a relay with a certificate from an internal authority.
    Not thread-safe: one dispatcher owns one transport.

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
        # Loading the system's trust store takes tens of milliseconds: only for TLS.
        context = None
        if self._security != "none":
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

    def send_stored(self, payload: bytes, before_data: Callable[[], object] = _go) -> None:
        """Send the outbox's bytes as they are: no parsing, no flattening again.

        ``before_data`` is called before the DATA command, the point after which the server
        may accept the message; if it raises, the transaction is reset and nothing is sent.
        """
        found = stored_envelope(payload)
        if found is None:
            before_data()
            self.send(parse_stored(payload))
            return
        self._attempt(payload, lambda: self._transaction(found, payload, before_data))

    def _transaction(
        self, found: Envelope, payload: bytes, before_data: Callable[[], object] = _go
    ) -> Refusals:
        """MAIL, RCPT, DATA as :meth:`smtplib.SMTP.sendmail` does them, on the kept connection.

        No NOOP first: MAIL is the probe. A kept connection that the server dropped while idle
        fails at MAIL, before any of the message is sent, and is replaced once; a failure
        after MAIL is the message's (mapped by :meth:`_attempt`). ``before_data`` runs
        between RCPT and DATA (see :meth:`send_stored`).
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
        try:
            before_data()
        except BaseException:
            self._end_transaction(connection, 0)
            raise
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
        return f"{self.where}: message {message_id(sending) or '(no Message-ID)'}"

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
