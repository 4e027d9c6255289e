"""Assembles a meeting notice as one e-mail per recipient, in the MIME shape Outlook expects.

::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain; charset=utf-8
    │   ├── text/html; charset=utf-8
    │   └── text/calendar; method=REQUEST|CANCEL; charset=utf-8   (what calendars act on)
    └── application/ics; name=invite.ics                          (the same bytes, to open)

A plain notice (reminder, overdue notice, escalation, acknowledgement, agreed actions after
a held dialog, the weekly digest) is only the
``multipart/alternative`` with its text and HTML parts.

The Message-ID is derived from the outbox row's idempotency key, so a message resent after a
crash carries the same Message-ID and the receiving side (and a Maildir) can tell it is the
same message.

Messages are built with the standard library's default policy, but with a header factory
that remembers what it made (:class:`RememberingHeaders`): the standard one parses every
header value it is given, and makes a new class for every header it names, which was half
the time of composing a message. Most values recur in every message (the parts'
``Content-Type`` and ``Content-Transfer-Encoding``, ``MIME-Version``, ``Content-Language``);
the bytes are the same.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy, Policy, default
from email.utils import format_datetime
from functools import cache, lru_cache
from typing import Any

from styrhjul.errors import InputError
from styrhjul.notifications.ical import render_calendar
from styrhjul.notifications.messages import MeetingInvite, Party, Sender
from styrhjul.notifications.render import DEFAULT_LOCALE, Renderer

KIND_BY_METHOD = {"REQUEST": "invite", "CANCEL": "cancel"}
"""The template folder (and outbox kind) of each calendar method."""
ATTACHMENT_NAME = "invite.ics"
REMEMBERED_VALUES = 1024
"""Header values the factory keeps (least recently used go first): every value that
recurs is used in each message, so a bound this size never drops one of them."""


class RememberedHeader(BaseHeader):
    """A header that folds once per policy: one that recurs is written in every message."""

    def fold(self, *, policy: Policy) -> str:
        folds: dict[Policy, str] = self.__dict__.setdefault("_folds", {})
        folded = folds.get(policy)
        if folded is None:
            folded = folds[policy] = super().fold(policy=policy)
        return folded


class RememberingHeaders(HeaderRegistry):
    """The default header factory, remembering each header class and each text value's header.

    A header object is immutable (a ``str`` with its parse tree), so one made for a value
    can stand in every message that sets that value, and its folded form too; values that
    never recur (a Message-ID, a date) pass through the bounded cache without keeping the
    recurring ones out.
    """

    def __init__(self) -> None:
        super().__init__(base_class=RememberedHeader)
        self._classes: dict[str, type[BaseHeader]] = {}
        self._made = lru_cache(maxsize=REMEMBERED_VALUES)(self._make)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if type(value) is str:
            return self._made(name, value)
        return self[name](name, value)

    def _make(self, name: str, value: str) -> BaseHeader:
        return self[name](name, value)


@cache
def mime_policy() -> EmailPolicy[EmailMessage]:
    """The policy messages are built with: the default one with :class:`RememberingHeaders`."""
    return default.clone(header_factory=RememberingHeaders())


def message_id_for(key: str, domain: str) -> str:
    """``<first 32 hex digits of sha256(key)@domain>``: the same key gives the same id."""
    if not key:
        raise InputError("an idempotency key is required for a Message-ID", key="key")
    if not domain or any(c in domain for c in "<>@ \t\r\n"):
        raise InputError(f"not a mail domain: {domain!r}", key="domain")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _address(email: str, name: str) -> Address:
    username, _, domain = email.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def compose_invite(
    invite: MeetingInvite,
    recipient: Party,
    *,
    sender: Sender,
    key: str,
    stamp: datetime,
    renderer: Renderer,
    locale: str = DEFAULT_LOCALE,
) -> EmailMessage:
    """The e-mail telling ``recipient`` about ``invite`` (a request or a cancellation).

    ``invite.checklist`` must already mark the recipient's own lines as ``mine``; ``key`` is
    the outbox row's idempotency key and ``stamp`` (aware) the time the change was made.
    The mail's text is in the recipient's ``locale``; the calendar part is the invite's own
    (one file may go to several people, so its SUMMARY stays as the caller wrote it).
    """
    subject, text, html = renderer.render(
        KIND_BY_METHOD[invite.method], locale, invite=invite, recipient=recipient, sender=sender
    )
    calendar = render_calendar(invite, stamp=stamp)

    # Parts are built as MIMEPart, not with EmailMessage.add_alternative, which would give
    # every part its own MIME-Version header.
    plain = MIMEPart(mime_policy())
    plain.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    rich = MIMEPart(mime_policy())
    rich.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # The calendar goes in as bytes in base64, not as text: a text part would have its CRLF
    # line ends rewritten, and this part must stay identical to the attachment.
    inline = MIMEPart(mime_policy())
    inline.set_content(
        calendar, "text", "calendar", params={"method": invite.method, "charset": "utf-8"}
    )
    message_id = message_id_for(key, sender.domain)
    # Boundaries from the key, so that the same message composes to the same bytes; "=_"
    # cannot occur in quoted-printable or base64 bodies, so they cannot clash with content.
    boundary = "=_styrhjul_" + message_id[1:33]
    alternative = MIMEPart(mime_policy())
    alternative.make_alternative()
    alternative.set_boundary(boundary + "_alt")
    alternative.set_payload([plain, rich, inline])
    attachment = MIMEPart(mime_policy())
    attachment.set_content(
        calendar, "application", "ics", filename=ATTACHMENT_NAME, params={"name": ATTACHMENT_NAME}
    )

    message = EmailMessage(mime_policy())
    message.make_mixed()
    message.set_boundary(boundary + "_mixed")
    message.set_payload([alternative, attachment])
    _set_headers(
        message, recipient, sender=sender, subject=subject, key=key, stamp=stamp, locale=locale
    )
    return message


def compose_notice(
    kind: str,
    recipient: Party,
    *,
    sender: Sender,
    key: str,
    stamp: datetime,
    renderer: Renderer,
    locale: str = DEFAULT_LOCALE,
    **context: Any,
) -> EmailMessage:
    """A plain notice (a reminder, an escalation, a kvittens): text and HTML, no calendar.

    ``kind`` names the template folder; ``context`` is what its templates read besides
    ``recipient`` and ``sender``; ``locale`` the recipient's language. The structure is
    one ``multipart/alternative``.
    """
    subject, text, html = renderer.render(
        kind, locale, recipient=recipient, sender=sender, **context
    )
    plain = MIMEPart(mime_policy())
    plain.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    rich = MIMEPart(mime_policy())
    rich.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    message = EmailMessage(mime_policy())
    message.make_alternative()
    message.set_boundary("=_styrhjul_" + message_id_for(key, sender.domain)[1:33] + "_alt")
    message.set_payload([plain, rich])
    _set_headers(
        message, recipient, sender=sender, subject=subject, key=key, stamp=stamp, locale=locale
    )
    return message


def _set_headers(
    message: EmailMessage,
    recipient: Party,
    *,
    sender: Sender,
    subject: str,
    key: str,
    stamp: datetime,
    locale: str,
) -> None:
    """Set the top-level headers; after the structure, which would move Content-* headers."""
    message["MIME-Version"] = "1.0"
    message["From"] = _address(sender.address, sender.name)
    message["To"] = _address(recipient.email, recipient.title)
    message["Subject"] = subject
    message["Date"] = format_datetime(stamp)
    message["Message-ID"] = message_id_for(key, sender.domain)
    message["X-Styrhjul-Key"] = key
    message["Content-Language"] = locale
