"""Where composed messages go: one small protocol and three mechanisms.

A transport either delivers a message or raises :class:`~styrhjul.errors.DeliveryFailed`,
whose ``permanent`` flag tells the outbox dispatcher whether trying again can help. A reply
about the message itself (5xx to MAIL, RCPT or DATA) is permanent; anything about reaching
or talking to the server (refused connection, timeout, 4xx, a dropped line, failed TLS or
login) is not, because it is fixed by waiting or by the operator, not by changing the message.

- :class:`SmtpTransport` (in :mod:`styrhjul.notifications.smtp`, named here too): a mail
  server; the connection is kept between sends and opened again when the server has
  dropped it. It logs in with a password or, for Exchange Online (where basic
  authentication is being switched off), with an OAuth2 token (``AUTH XOAUTH2``).
- :class:`MaildirTransport`: files in a Maildir, for trials and tests; each file is an
  ordinary ``.eml`` message that a mail program opens.
- :class:`ConsoleTransport`: the readable part of each message on a stream, for trials.
"""

from __future__ import annotations

import mailbox
import sys
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from styrhjul.errors import DeliveryFailed
from styrhjul.notifications.smtp import SECURITIES, Security, SmtpTransport, xoauth2_string
from styrhjul.notifications.stored import message_id, parse_stored

__all__ = [
    "SECURITIES",
    "ConsoleTransport",
    "MaildirTransport",
    "Security",
    "SendsStored",
    "SmtpTransport",
    "StoredSender",
    "Transport",
    "stored_sender",
    "xoauth2_string",
]


class Transport(Protocol):
    """Delivers composed messages; raises DeliveryFailed, saying whether to retry."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise :class:`~styrhjul.errors.DeliveryFailed`."""
        ...

    def close(self) -> None:
        """Release connections or files; the transport may be used again afterwards."""
        ...


StoredSender = Callable[[bytes, Callable[[], object]], None]
"""Sends stored bytes, calling its second argument before the server may accept them."""


@runtime_checkable
class SendsStored(Protocol):
    """A transport that takes a message as the outbox stores it, without parsing it first."""

    def send_stored(self, payload: bytes, before_data: Callable[[], object]) -> None:
        """Deliver the stored bytes (see :mod:`styrhjul.notifications.stored`) as they are.

        ``before_data()`` is called once before the point after which the server may accept
        the message (the DATA command); if it raises, nothing is sent and the error passes.
        """
        ...


def stored_sender(transport: Transport) -> StoredSender:
    """How ``transport`` takes stored bytes: as they are if it can, else parsed back first.

    A transport that only takes composed messages has ``before_data`` called first.
    """
    if isinstance(transport, SendsStored):
        return transport.send_stored

    def parse_and_send(payload: bytes, before_data: Callable[[], object]) -> None:
        before_data()
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
                found = message_id(headers)
                if found is not None:
                    seen.add(found)
            self._box, self._seen = box, seen
        return self._box

    def send(self, message: EmailMessage) -> None:
        known = message_id(message)
        try:
            box = self._open()
            if known is not None and known in self._seen:
                return
            box.add(message)
        except OSError as error:
            raise DeliveryFailed(f"maildir {self.path}: {error}", permanent=False) from error
        if known is not None:
            self._seen.add(known)

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
