"""A message as the outbox stores it: bytes, and what can be read from them without parsing.

The outbox keeps each message as the bytes :func:`to_stored` makes (the ``SMTP`` policy:
CRLF line ends, headers encoded), so a transport that speaks SMTP can put exactly those
bytes on the wire. Parsing them back into an :class:`~email.message.EmailMessage` with the
default policy costs about as much as sending them, so it is left to the transports that
need the structure (Maildir, console, Exchange): :func:`parse_stored`.

:func:`envelope` reads the SMTP envelope (sender and recipients) from the headers, the way
:meth:`smtplib.SMTP.send_message` does, for the plain case only: a message with ``Bcc``
(which must be removed before sending), ``Resent-`` headers or an address that is not
ASCII (which needs SMTPUTF8; stored, it is an encoded word) has no plain envelope, and is
left to ``send_message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.policy import SMTP, compat32
from email.policy import default as default_policy
from email.utils import getaddresses

_HEADERS = BytesHeaderParser(policy=compat32)
"""compat32 keeps header values as text: reading an address needs no header objects."""
_NOT_PLAIN = ("Bcc", "Resent-Bcc", "Resent-Date", "Resent-From", "Resent-Sender")


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who a message is from and to, as MAIL FROM and RCPT TO give it."""

    sender: str
    recipients: tuple[str, ...]


def to_stored(message: EmailMessage) -> bytes:
    """The bytes the outbox keeps for ``message``."""
    return message.as_bytes(policy=SMTP)


def parse_stored(payload: bytes) -> EmailMessage:
    """The stored bytes as a message again, parsed with the default policy."""
    message = message_from_bytes(payload, policy=default_policy)
    assert isinstance(message, EmailMessage)  # the default policy's message factory
    return message


def message_id(message: Message) -> str | None:
    """The Message-ID header's value, trimmed; None without one."""
    value = message.get("Message-ID")
    return str(value).strip() if value is not None else None


def header_block(payload: bytes) -> bytes:
    """The headers of stored bytes, up to the empty line (all of it if there is none)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = payload.find(separator)
        if end >= 0:
            return payload[: end + len(separator)]
    return payload


def envelope(headers: Message) -> Envelope | None:
    """The plain envelope of a message's headers, or None (see the module docstring).

    The sender is ``Sender`` if present, else ``From``; the recipients are ``To``, then
    ``Cc``, as :meth:`smtplib.SMTP.send_message` lists them.
    """
    if any(name in headers for name in _NOT_PLAIN):
        return None
    sender_field = headers["Sender"] if "Sender" in headers else headers["From"]
    if sender_field is None:
        return None
    sender = getaddresses([str(sender_field)])[0][1]
    fields = [str(value) for value in (headers["To"], headers["Cc"]) if value is not None]
    recipients = tuple(address for _, address in getaddresses(fields))
    if not sender or not recipients or not all(recipients):
        return None
    addresses = sender + "".join(recipients)
    # An encoded word inside an address is what the SMTP policy makes of a non-ASCII one;
    # parsed, it is that address again, which needs SMTPUTF8.
    if not addresses.isascii() or "=?" in addresses:
        return None
    return Envelope(sender, recipients)


def stored_envelope(payload: bytes) -> Envelope | None:
    """The plain envelope of stored bytes, read from their header block alone."""
    head = header_block(payload)
    if not head.isascii():  # 8-bit headers: let the email package make sense of them
        return None
    return envelope(_HEADERS.parsebytes(head))
