"""Header and calendar injection: hostile names, titles, places and agreed actions.

Text with CR/LF, quotes, markup, ``&``, semicolons, commas, backslashes and å ä ö goes
through the real composers and templates, is serialised as it is sent (``policy=SMTP``),
and is read back: by ``email`` (headers; RFC 2047 decoding), by ``html.unescape`` (the HTML
part) and by ``icalendar`` (the calendar part and the attachment). Every message must keep
its own headers and properties only, and give back the text that went in.

A one-line field (a title, a summary) with a line break or another control character is
refused when its record is built; multi-line fields (place, description, agreed actions)
carry their line breaks as text.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP
from typing import cast

import pytest
from icalendar import Calendar, vCalAddress
from support import DIRECTOR, SENDER, STAMP, make_invite

from styrhjul.errors import InputError
from styrhjul.notifications.compose import compose_invite, compose_notice
from styrhjul.notifications.messages import Party, Sender
from styrhjul.notifications.notices import (
    Acknowledgement,
    AgreedAction,
    HeldDialog,
    StepNotice,
)
from styrhjul.notifications.render import Renderer

# One line each: what a title, a summary or a display name may hold.
NAME = 'Rektor "Anna" <script>alert(1)</script> & Co; Västra, skolan \\ åäö'
ASCII_NAME = 'Principal "Bob" <b>bold</b> & Co; East, school \\ x'
# Many lines: a place, a description, an agreed action. Each line tries to start a header,
# a calendar property or a second event.
TEXT = (
    "Rum 1 & 2; plan 3, hus \\B\\\r\n"
    "Bcc: evil@example.com\r\n"
    "X-Injected: yes\n"
    "ATTENDEE;CN=Evil:mailto:evil@example.com\n"
    "END:VEVENT\r\n"
    'BEGIN:VEVENT\n<script>alert("x")</script> <b>fet</b> & ”citat” – å ä ö'
)
EMAIL = "rektor.anna@skola.example.se"
STEP_DUE = dt.datetime(2026, 10, 5, 16, 0, tzinfo=dt.UTC)

MAIL_HEADERS = {
    "Content-Type",
    "MIME-Version",
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "X-Styrhjul-Key",
    "Content-Language",
}
EVENT_PROPERTIES = {
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "DTSTAMP",
    "UID",
    "SEQUENCE",
    "ATTENDEE",
    "DESCRIPTION",
    "LOCATION",
    "ORGANIZER",
    "STATUS",
    "TRANSP",
}


def lines(text: str) -> str:
    """``text`` with every line end as LF: MIME and iCalendar each choose their own."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sent_and_read_back(message: EmailMessage) -> tuple[bytes, EmailMessage]:
    raw = message.as_bytes(policy=SMTP)
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(back, EmailMessage)
    return raw, back


def top_headers(raw: bytes) -> dict[str, str]:
    """The top-level header fields as sent, unfolded; a repeated name fails the test."""
    block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are 7-bit, or broken
    unfolded = block.replace("\r\n ", " ").replace("\r\n\t", "\t").split("\r\n")
    fields: dict[str, str] = {}
    for line in unfolded:
        name, colon, value = line.partition(":")
        assert colon, f"not a header line: {line!r}"
        assert name not in fields, f"{name} twice"
        fields[name] = value.strip()
    return fields


def rfc2047(value: str) -> str:
    """A header value decoded by RFC 2047 alone (encoded words joined as the RFC says)."""
    return str(make_header(decode_header(value)))


def check_headers(raw: bytes, back: EmailMessage, *, recipient: Party, subject_has: str) -> None:
    fields = top_headers(raw)
    assert set(fields) == MAIL_HEADERS
    subject = str(back["Subject"])
    assert "\r" not in subject
    assert "\n" not in subject
    # Compared word by word: Python's generator (3.11) may fold a subject right after a
    # space, before an encoded word ("Co; \r\n =?utf-8?q?V=C3=A4stra?="), and the space it
    # leaves at the end of the line doubles the one the fold adds, in every mail program.
    assert " ".join(subject_has.split()) in " ".join(subject.split())
    assert rfc2047(fields["Subject"]).split() == subject.split()
    (to,) = back["To"].addresses
    assert to.addr_spec == recipient.email
    if recipient.title.isascii():
        assert to.display_name == recipient.title  # a quoted string, quotes escaped
    else:
        # Encoded words. Python's address parser keeps the folding space between two
        # adjacent encoded words of a display name (RFC 2047, 6.2, says to drop it), so the
        # name is checked with the plain RFC 2047 decoder, as mail programs decode it.
        assert rfc2047(fields["To"]) == f"{recipient.title} <{recipient.email}>"


def check_html(back: EmailMessage, *texts: str) -> None:
    part = back.get_body(preferencelist=("html",))
    assert part is not None
    body = part.get_content()
    assert "<script>" not in body
    assert "<b>" not in body
    assert "&lt;script&gt;" in body
    assert "&amp;" in body
    unescaped = lines(html.unescape(body))
    for text in texts:
        assert lines(text) in unescaped


def check_plain(back: EmailMessage, *texts: str) -> None:
    part = back.get_body(preferencelist=("plain",))
    assert part is not None
    body = lines(part.get_content())
    for text in texts:
        assert lines(text) in body


@pytest.fixture
def hostile() -> Party:
    return Party(EMAIL, NAME)


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
@pytest.mark.parametrize("locale", ["sv", "en"])
def test_invite_keeps_hostile_text_as_text(
    renderer: Renderer, hostile: Party, method: str, locale: str
) -> None:
    ascii_guest = Party("guest@skola.example.se", ASCII_NAME, "OPT-PARTICIPANT")
    invite = make_invite(
        method=method,
        sequence=1 if method == "CANCEL" else 0,
        summary=NAME,
        location=TEXT,
        description=TEXT,
        reason=TEXT if method == "CANCEL" else "",
        organizer=Party(DIRECTOR.email, ASCII_NAME),
        attendees=(DIRECTOR, hostile, ascii_guest),
    )
    for recipient in (hostile, ascii_guest):
        message = compose_invite(
            invite,
            recipient,
            sender=Sender(SENDER.address, NAME),
            key="outbox:1",
            stamp=STAMP,
            renderer=renderer,
            locale=locale,
        )
        raw, back = sent_and_read_back(message)
        check_headers(raw, back, recipient=recipient, subject_has=NAME)
        assert back["From"].addresses[0].display_name.split() == NAME.split()
        assert rfc2047(top_headers(raw)["From"]) == f"{NAME} <{SENDER.address}>"
        check_html(back, NAME, TEXT)
        check_plain(back, NAME, TEXT)

        calendars = [
            part.get_payload(decode=True)
            for part in back.walk()
            if part.get_content_type() in ("text/calendar", "application/ics")
        ]
        assert all(isinstance(found, bytes) for found in calendars)
        ics = cast(bytes, calendars[0])
        assert len(calendars) == 2
        assert calendars[0] == calendars[1]
        calendar = Calendar.from_ical(ics)
        assert str(calendar["METHOD"]) == method
        (event,) = calendar.walk("VEVENT")
        assert event.errors == []
        assert set(event) == EVENT_PROPERTIES
        assert str(event["SUMMARY"]) == NAME
        assert str(event["LOCATION"]) == lines(TEXT)
        assert lines(TEXT) in str(event["DESCRIPTION"])
        attendees = cast(list[vCalAddress], event["ATTENDEE"])
        assert [str(a) for a in attendees] == [
            f"mailto:{DIRECTOR.email}",
            f"mailto:{EMAIL}",
            "mailto:guest@skola.example.se",
        ]
        assert [a.params["CN"] for a in attendees] == [DIRECTOR.title, NAME, ASCII_NAME]
        assert cast(vCalAddress, event["ORGANIZER"]).params["CN"] == ASCII_NAME
        # No line of the file, unfolded, is one the hostile text wrote.
        raw_lines = ics.decode("utf-8").replace("\r\n ", "").split("\r\n")
        assert not [line for line in raw_lines if line.startswith(("X-INJECTED", "BCC"))]
        assert raw_lines.count("BEGIN:VEVENT") == 1
        assert raw_lines.count("END:VEVENT") == 1


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_held_dialog_keeps_hostile_agreements_as_text(
    renderer: Renderer, hostile: Party, locale: str
) -> None:
    held = HeldDialog(
        reference="dialog 12",
        title=NAME,
        unit=NAME,
        held_at=STAMP,
        own=(AgreedAction(TEXT, NAME, dt.date(2026, 11, 30)),),
        others=(AgreedAction(TEXT, ASCII_NAME, dt.date(2026, 12, 15)),),
    )
    message = compose_notice(
        "held",
        hostile,
        sender=SENDER,
        key="held:12:x",
        stamp=STAMP,
        renderer=renderer,
        locale=locale,
        held=held,
    )
    raw, back = sent_and_read_back(message)
    check_headers(raw, back, recipient=hostile, subject_has=NAME)
    check_html(back, NAME, TEXT, ASCII_NAME)
    check_plain(back, NAME, TEXT, ASCII_NAME)


@pytest.mark.parametrize("kind", ["reminder", "overdue", "escalation"])
def test_step_notices_keep_hostile_titles_as_text(
    renderer: Renderer, hostile: Party, kind: str
) -> None:
    step = StepNotice(
        step_id=81,
        title=NAME,
        due=STEP_DUE,
        reference="dialog 12",
        instance_title=NAME,
        unit=NAME,
        assignee=ASCII_NAME,
        days_overdue=0 if kind == "reminder" else 2,
        level=1 if kind == "escalation" else 0,
    )
    message = compose_notice(
        kind, hostile, sender=SENDER, key=f"{kind}:81", stamp=STAMP, renderer=renderer, step=step
    )
    raw, back = sent_and_read_back(message)
    check_headers(raw, back, recipient=hostile, subject_has=NAME)
    check_html(back, NAME)
    check_plain(back, NAME)


def test_acknowledgement_keeps_hostile_text_as_text(renderer: Renderer, hostile: Party) -> None:
    ack = Acknowledgement(unit=NAME, what=NAME, actor=ASCII_NAME, at=STAMP)
    message = compose_notice(
        "acknowledgement",
        hostile,
        sender=SENDER,
        key="ack:1",
        stamp=STAMP,
        renderer=renderer,
        ack=ack,
    )
    raw, back = sent_and_read_back(message)
    check_headers(raw, back, recipient=hostile, subject_has=NAME)
    check_html(back, NAME, ASCII_NAME)
    check_plain(back, NAME, ASCII_NAME)


@pytest.mark.parametrize(
    "breaker", ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x00", "\x1b", "\x7f", "\x85"]
)
def test_a_line_break_or_control_character_in_a_one_line_field_is_refused(breaker: str) -> None:
    """U+000B is Word's manual line break: pasted into a title it broke the ATTENDEE line."""
    hostile = f"Rektor{breaker}Bcc: evil@example.com"
    with pytest.raises(InputError) as failure:
        Party(EMAIL, hostile)
    assert failure.value.key == "title"
    with pytest.raises(InputError) as failure:
        make_invite(summary=hostile)
    assert failure.value.key == "summary"
    with pytest.raises(InputError) as failure:
        Sender(SENDER.address, hostile)
    assert failure.value.key == "name"
    if breaker.strip("\r\n"):
        return  # plain notices have no calendar part; the subject's whitespace is collapsed
    with pytest.raises(InputError):
        StepNotice(81, hostile, STEP_DUE, "dialog 12", "x", "y", "z")
    with pytest.raises(InputError):
        HeldDialog("dialog 12", hostile, "unit", STAMP, (AgreedAction("a", "b", STAMP.date()),))


def test_a_tab_in_a_title_stays(renderer: Renderer) -> None:
    guest = Party(EMAIL, "Rektor\tVästra")
    message = compose_invite(
        make_invite(attendees=(DIRECTOR, guest)),
        guest,
        sender=SENDER,
        key="outbox:1",
        stamp=STAMP,
        renderer=renderer,
    )
    raw, back = sent_and_read_back(message)
    check_headers(raw, back, recipient=guest, subject_has="")
