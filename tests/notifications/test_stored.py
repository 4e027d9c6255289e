"""Stored messages: the envelope read from the stored bytes is the one smtplib would use,
and a message that needs smtplib's care (Bcc) still gets it through ``send_stored``."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from support import PRINCIPAL, SENDER, STAMP, Collector, make_invite

from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.stored import (
    Envelope,
    envelope,
    parse_stored,
    stored_envelope,
    to_stored,
)
from styrhjul.notifications.transports import SmtpTransport


def _simple(**headers: str) -> EmailMessage:
    message = EmailMessage()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hej")
    return message


def test_an_invite_has_the_same_envelope_stored_and_parsed(renderer: Renderer) -> None:
    message = compose_invite(
        make_invite(), PRINCIPAL, sender=SENDER, key="k", stamp=STAMP, renderer=renderer
    )
    stored = to_stored(message)
    expected = Envelope(SENDER.address, (PRINCIPAL.email,))
    assert stored_envelope(stored) == expected
    assert envelope(parse_stored(stored)) == expected
    assert envelope(message) == expected


def test_sender_before_from_and_cc_after_to() -> None:
    message = _simple(
        From='"Åsa, rektor" <asa@example.se>',
        Sender="styrhjul@example.se",
        To="Kalle <kalle@example.se>, lisa@example.se",
        Cc='"Ö, Per" <per@example.se>',
    )
    expected = Envelope(
        "styrhjul@example.se", ("kalle@example.se", "lisa@example.se", "per@example.se")
    )
    assert stored_envelope(to_stored(message)) == expected
    assert envelope(message) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"From": "a@example.se", "To": "b@example.se", "Bcc": "c@example.se"},
        {"From": "a@example.se", "To": "b@example.se", "Resent_Date": "Tue, 1 Sep 2026"},
        {"From": "a@example.se", "To": "åsa@exempel.se"},
        {"From": "a@example.se"},
        {"To": "b@example.se"},
    ],
)
def test_no_plain_envelope_when_smtplib_must_decide(headers: dict[str, str]) -> None:
    message = _simple(**headers)
    assert envelope(message) is None
    assert stored_envelope(to_stored(message)) is None


def test_a_stored_message_with_bcc_goes_out_without_it(
    smtp_server: Callable[..., Controller],
) -> None:
    handler = Collector()
    server = smtp_server(handler)
    transport = SmtpTransport(
        "127.0.0.1", server.port, security="none", username=None, password=None, timeout=3.0
    )
    message = _simple(
        From="styrhjul@example.se",
        To="kalle@example.se",
        Bcc="arkiv@example.se",
        Message_ID="<bcc@example.se>",
    )
    try:
        transport.send_stored(to_stored(message))
    finally:
        transport.close()
    [received] = handler.envelopes
    assert received.rcpt_tos == ["kalle@example.se", "arkiv@example.se"]
    [parsed] = handler.messages()
    assert "Bcc" not in parsed
    assert parsed["Message-ID"] == "<bcc@example.se>"
