from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from icalendar import Calendar
from support import DIRECTOR, PRINCIPAL, SENDER, STAMP, make_invite

from styrhjul.errors import InputError
from styrhjul.notifications.compose import (
    REMEMBERED_VALUES,
    RememberingHeaders,
    compose_invite,
    message_id_for,
    mime_policy,
)
from styrhjul.notifications.messages import MeetingInvite, Party, Sender
from styrhjul.notifications.render import Renderer


def compose(
    renderer: Renderer,
    invite: MeetingInvite | None = None,
    recipient: Party = PRINCIPAL,
    key: str = "outbox:41",
) -> EmailMessage:
    return compose_invite(
        invite or make_invite(),
        recipient,
        sender=SENDER,
        key=key,
        stamp=STAMP,
        renderer=renderer,
    )


def parse_back(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_id_is_stable_per_key() -> None:
    first = message_id_for("outbox:41", "skola.helsingborg.test")
    assert first == message_id_for("outbox:41", "skola.helsingborg.test")
    assert first != message_id_for("outbox:42", "skola.helsingborg.test")
    assert first.startswith("<")
    assert first.endswith("@skola.helsingborg.test>")
    assert len(first.split("@")[0]) == 1 + 32
    with pytest.raises(InputError):
        message_id_for("outbox:41", "bad domain")


def test_headers(renderer: Renderer) -> None:
    message = parse_back(compose(renderer))
    assert message["From"].addresses[0].display_name == "Styrhjul"
    assert message["From"].addresses[0].addr_spec == SENDER.address
    (to,) = message["To"].addresses
    assert to.display_name == "Rektor, Västra skolan"
    assert to.addr_spec == PRINCIPAL.email
    assert message["Subject"] == (
        "Inbjudan: Budgetdialog, Västra skolan, tisdag 6 oktober 2026 kl. 09.00"
    )
    assert parsedate_to_datetime(message["Date"]) == STAMP
    assert message["Message-ID"] == message_id_for("outbox:41", "skola.helsingborg.test")
    assert message["X-Styrhjul-Key"] == "outbox:41"
    assert message["Content-Language"] == "sv"
    assert message["MIME-Version"] == "1.0"


def test_display_name_is_encoded_on_the_wire(renderer: Renderer) -> None:
    raw = compose(renderer).as_bytes()
    head = raw.split(b"\n\n", 1)[0].replace(b"\n ", b" ")  # unfolded
    head.decode("ascii")  # every header is 7-bit
    assert b"To: =?utf-8?q?Rektor=2C_V=C3=A4stra?= skolan <rektor.vastra@" in head


def test_structure_is_mixed_alternative_and_attachment(renderer: Renderer) -> None:
    message = parse_back(compose(renderer))
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html"
    assert html.get_content_charset() == "utf-8"
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_param("name") == "invite.ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert calendar.get_payload(decode=True) == attachment.get_payload(decode=True)
    assert "Dina förberedelser" in plain.get_content()
    assert "<h2" in html.get_content()
    assert message.get_body(("plain",)) is not None


def test_calendar_part_parses_back(renderer: Renderer) -> None:
    message = parse_back(compose(renderer))
    (attachment,) = message.iter_attachments()
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    assert calendar["METHOD"] == "REQUEST"
    (event,) = calendar.events
    assert event["UID"] == make_invite().uid
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert {str(a) for a in event.attendees} == {
        f"mailto:{DIRECTOR.email}",
        f"mailto:{PRINCIPAL.email}",
    }
    assert event.walk("VALARM")


def test_cancel_uses_its_own_templates_and_method(renderer: Renderer) -> None:
    invite = make_invite(method="CANCEL", sequence=1, reason="Dialogen flyttas till våren.")
    message = parse_back(compose(renderer, invite))
    assert message["Subject"].startswith("Inställt: ")
    (alternative, attachment) = message.iter_parts()
    calendar_part = list(alternative.iter_parts())[2]
    assert calendar_part.get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    assert calendar["METHOD"] == "CANCEL"
    assert calendar.events[0]["STATUS"] == "CANCELLED"
    body = message.get_body(("plain",))
    assert body is not None
    assert "Anledning: Dialogen flyttas till våren." in body.get_content()


def test_each_recipient_sees_own_lines_first(renderer: Renderer) -> None:
    # the caller marks "mine" per recipient: for the director, the reading is theirs
    base = make_invite()
    for_director = make_invite(
        checklist=tuple(
            type(line)(line.title, line.assignee, line.due, line.required, not line.mine)
            for line in base.checklist
        )
    )
    body = parse_back(compose(renderer, for_director, DIRECTOR)).get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.index("Dina förberedelser") < text.index("Läs verksamhetsplanen")
    assert text.index("Övriga förberedelser") < text.index("Skicka budgetunderlag")


def test_same_key_composes_the_same_bytes(renderer: Renderer) -> None:
    assert compose(renderer).as_bytes() == compose(renderer).as_bytes()
    assert compose(renderer).as_bytes() != compose(renderer, key="outbox:42").as_bytes()


def test_naive_stamp_is_refused(renderer: Renderer) -> None:
    with pytest.raises(InputError, match="stamp"):
        compose_invite(
            make_invite(),
            PRINCIPAL,
            sender=Sender("styrhjul@skola.helsingborg.test"),
            key="k",
            stamp=dt.datetime(2026, 9, 1, 8, 0),  # noqa: DTZ001
            renderer=renderer,
        )


def _built(policy: EmailPolicy[EmailMessage], subject: str) -> tuple[bytes, bytes]:
    """A two-part message built on ``policy`` the way compose builds one: as the outbox
    stores it (CRLF), then as the default policy writes it (LF)."""
    parts = []
    for subtype, text in (("plain", "Hej åäö, ”citat” och = tecken.\n" * 40), ("html", "<p>é</p>")):
        part = MIMEPart(policy)
        part.set_content(text, subtype=subtype, charset="utf-8", cte="quoted-printable")
        parts.append(part)
    message = EmailMessage(policy)
    message.make_alternative()
    message.set_boundary("=_styrhjul_test_alt")
    message.set_payload(parts)
    message["MIME-Version"] = "1.0"
    message["From"] = Address("Styrhjul, kansliet", "styrhjul", "skola.helsingborg.test")
    message["To"] = Address("Rektor, Västra skolan", "rektor.vastra", "skola.helsingborg.test")
    message["Subject"] = subject
    message["Date"] = format_datetime(STAMP)
    message["Content-Language"] = "sv"
    return message.as_bytes(policy=email.policy.SMTP), message.as_bytes(policy=email.policy.default)


@pytest.mark.parametrize(
    "subject",
    [
        "Kvittens: steget ”Faktaunderlag” i Verksamhetsdialog, Västra skolan är klart",
        "Påminnelse: " + "mycket långt ämne som måste vikas över flera rader " * 4,
        'Plain ASCII with "quotes", commas; and = signs',
    ],
)
def test_remembered_headers_give_the_bytes_of_the_default_policy(subject: str) -> None:
    """The factory that remembers headers (and how each folds) changes how fast a message is
    built, not its bytes: the same message built on the default policy is byte for byte the
    same, under either policy it is written with, the first time a value is seen and every
    time after."""
    expected = _built(email.policy.default, subject)
    assert _built(mime_policy(), subject) == expected
    assert _built(mime_policy(), subject) == expected


def test_remembered_headers_are_bounded() -> None:
    """Values that never recur (Message-IDs, dates) do not grow the factory without end."""
    headers = RememberingHeaders()
    for n in range(2 * REMEMBERED_VALUES):
        assert str(headers("Message-ID", f"<{n}@skola.helsingborg.test>")) == (
            f"<{n}@skola.helsingborg.test>"
        )
    assert headers("MIME-Version", "1.0") is headers("MIME-Version", "1.0")
    assert headers._made.cache_info().currsize == REMEMBERED_VALUES
