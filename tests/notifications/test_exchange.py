"""The exchange transport against a fake EWS server on loopback (tests/notifications/ews_fake.py).

No Exchange server is reachable here: exchangelib talks real HTTP to a server that answers
EWS SOAP as the schema defines. Basic and OAuth2 bearer logins are tested; NTLM is not (its
handshake is not faked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from ews_fake import EwsFake, Item
from support import CONTROLLER, DIRECTOR, PRINCIPAL, SENDER, STAMP, make_invite, write_config
from token_endpoint import TokenEndpoint

from styrhjul.clock import STOCKHOLM
from styrhjul.config import load_settings
from styrhjul.errors import DeliveryFailed, InputError
from styrhjul.notifications.compose import compose_invite, message_id_for
from styrhjul.notifications.exchange import ExchangeTransport
from styrhjul.notifications.messages import MeetingInvite
from styrhjul.notifications.oauth2 import ClientCredentials
from styrhjul.notifications.render import Renderer
from styrhjul.wiring import build_transport

USER, PASSWORD = "svc-styrhjul", "hemligt-lösen"
UID = make_invite().uid


@pytest.fixture
def fake() -> Iterator[EwsFake]:
    with EwsFake(users={USER: PASSWORD}) as server:
        yield server


def transport(fake: EwsFake, **changes: Any) -> ExchangeTransport:
    arguments: dict[str, Any] = {
        "endpoint": fake.url,
        "auth": "basic",
        "username": USER,
        "password": PASSWORD,
        "oauth2": None,
        "sender": SENDER.address,
        "verify_tls": True,
        "meetings": True,
        "timeout": 5.0,
    }
    arguments.update(changes)
    return ExchangeTransport(**arguments)


def notice(key: str = "reminder:1") -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER.address
    message["To"] = PRINCIPAL.email
    message["Subject"] = "Påminnelse: Skicka budgetunderlag"
    message["Message-ID"] = message_id_for(key, SENDER.domain)
    message.set_content("Hej!\nBudgetunderlaget ska vara inskickat på måndag.\n")
    message.add_alternative(
        "<p>Hej!</p><p>Budgetunderlaget ska vara inskickat.</p>", subtype="html"
    )
    return message


def invite_mail(renderer: Renderer, invite: MeetingInvite, key: str) -> EmailMessage:
    return compose_invite(invite, PRINCIPAL, sender=SENDER, key=key, stamp=STAMP, renderer=renderer)


def calendar(fake: EwsFake) -> list[Item]:
    return fake.folder(DIRECTOR.email, "calendar")


def start_of(item: Item) -> dt.datetime:
    return dt.datetime.fromisoformat(item.props["Start"])


# --- plain notices ------------------------------------------------------------------------


def test_notice_lands_in_sent_items_with_its_message_id(fake: EwsFake) -> None:
    message = notice()
    exchange = transport(fake)
    exchange.send(message)
    sent = fake.folder(SENDER.address, "sentitems")
    assert len(sent) == 1
    assert sent[0].props["InternetMessageId"] == message["Message-ID"]
    assert sent[0].props["Subject"] == "Påminnelse: Skicka budgetunderlag"
    assert sent[0].to == [PRINCIPAL.email]
    assert [(o.kind, o.recipients) for o in fake.outgoing] == [("message", [PRINCIPAL.email])]
    # Logged in as the service account, the sender's own mailbox was addressed explicitly.
    assert fake.requests[0][1].startswith("Basic ")


def test_a_resend_finds_the_message_in_sent_items_and_sends_nothing(fake: EwsFake) -> None:
    transport(fake).send(notice())
    again = transport(fake)  # as after a restart: nothing remembered in memory
    again.send(notice())
    assert len(fake.folder(SENDER.address, "sentitems")) == 1
    assert len(fake.outgoing) == 1
    assert [op for op, _ in fake.requests].count("CreateItem") == 1
    # another key is another message
    again.send(notice("reminder:2"))
    assert len(fake.outgoing) == 2


def test_invite_without_meetings_is_sent_as_its_mime(fake: EwsFake, renderer: Renderer) -> None:
    message = invite_mail(renderer, make_invite(), "invite:12:0:rektor")
    exchange = transport(fake, meetings=False)
    exchange.send(message)
    exchange.send(message)
    sent = fake.folder(SENDER.address, "sentitems")
    assert len(sent) == 1
    assert sent[0].mime is not None
    assert b"text/calendar; method=REQUEST" in sent[0].mime.replace(b'"', b"")
    assert sent[0].props["InternetMessageId"] == message["Message-ID"]
    assert calendar(fake) == []


# --- meetings -----------------------------------------------------------------------------


def test_invite_makes_one_meeting_in_the_organizers_calendar(
    fake: EwsFake, renderer: Renderer
) -> None:
    invite = make_invite(attendees=(DIRECTOR, PRINCIPAL, CONTROLLER))
    transport(fake).send(invite_mail(renderer, invite, "invite:12:0:rektor"))
    (item,) = calendar(fake)
    assert item.kind == "CalendarItem"
    assert item.extended["StyrhjulICalUid"] == UID
    assert item.extended["StyrhjulICalSequence"] == "0"
    assert item.required == [PRINCIPAL.email]  # the organiser (CHAIR) is not an attendee
    assert item.optional == [CONTROLLER.email]
    assert item.props["Subject"] == "Budgetdialog, Västra skolan"
    assert item.props["Location"] == "Stadshuset, rum Kärnan"
    assert "Budgetdialog" in item.props["Body"]
    assert start_of(item) == dt.datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM)
    assert dt.datetime.fromisoformat(item.props["End"]) == invite.end
    assert [(o.kind, o.sender) for o in fake.outgoing] == [("meeting-request", DIRECTOR.email)]
    assert fake.folder(SENDER.address, "sentitems") == []


def test_the_same_request_twice_gives_one_meeting(fake: EwsFake, renderer: Renderer) -> None:
    message = invite_mail(renderer, make_invite(), "invite:12:0:rektor")
    transport(fake).send(message)
    transport(fake).send(message)  # a retry after a crash, or the next attendee's copy
    assert len(calendar(fake)) == 1
    assert len(fake.outgoing) == 1
    operations = [op for op, _ in fake.requests]
    assert operations.count("CreateItem") == 1
    assert "UpdateItem" not in operations


def test_a_higher_sequence_moves_the_same_meeting(fake: EwsFake, renderer: Renderer) -> None:
    exchange = transport(fake)
    exchange.send(invite_mail(renderer, make_invite(), "invite:12:0:rektor"))
    first_id = calendar(fake)[0].item_id
    moved = make_invite(
        sequence=1,
        start=dt.datetime(2026, 10, 8, 13, 0, tzinfo=STOCKHOLM),
        end=dt.datetime(2026, 10, 8, 14, 30, tzinfo=STOCKHOLM),
        location="Västra skolan, konferensrummet",
    )
    exchange.send(invite_mail(renderer, moved, "invite:12:1:rektor"))
    (item,) = calendar(fake)
    assert item.item_id == first_id
    assert start_of(item) == moved.start
    assert item.props["Location"] == "Västra skolan, konferensrummet"
    assert item.extended["StyrhjulICalSequence"] == "1"
    assert [o.kind for o in fake.outgoing] == ["meeting-request", "meeting-request"]
    # the older request arriving late changes nothing
    exchange.send(invite_mail(renderer, make_invite(), "invite:12:0:rektor"))
    assert start_of(calendar(fake)[0]) == moved.start
    assert len(fake.outgoing) == 2


def test_an_update_of_an_unknown_uid_makes_the_meeting(
    fake: EwsFake, renderer: Renderer, caplog: pytest.LogCaptureFixture
) -> None:
    transport(fake).send(invite_mail(renderer, make_invite(sequence=2), "invite:12:2:rektor"))
    (item,) = calendar(fake)
    assert item.extended["StyrhjulICalSequence"] == "2"
    assert f"unknown UID {UID}" in caplog.text


def test_cancel_cancels_the_meeting(fake: EwsFake, renderer: Renderer) -> None:
    exchange = transport(fake)
    exchange.send(invite_mail(renderer, make_invite(), "invite:12:0:rektor"))
    made = calendar(fake)[0]
    cancel = make_invite(method="CANCEL", sequence=1, reason="Dialogen flyttas till våren.")
    exchange.send(invite_mail(renderer, cancel, "cancel:12:1:rektor"))
    assert calendar(fake) == []
    (gone,) = fake.folder(DIRECTOR.email, "deleteditems")
    assert gone.item_id == made.item_id
    assert gone.cancelled
    assert [o.kind for o in fake.outgoing] == ["meeting-request", "meeting-cancellation"]
    assert fake.outgoing[-1].recipients == [PRINCIPAL.email]


def test_cancel_of_an_unknown_uid_does_nothing_and_says_so(
    fake: EwsFake, renderer: Renderer, caplog: pytest.LogCaptureFixture
) -> None:
    cancel = make_invite(method="CANCEL", sequence=1)
    exchange = transport(fake)
    exchange.send(invite_mail(renderer, cancel, "cancel:12:1:rektor"))
    exchange.send(invite_mail(renderer, cancel, "cancel:12:1:rektor"))
    assert fake.outgoing == []
    assert calendar(fake) == []
    assert f"no meeting with UID {UID} in {DIRECTOR.email}'s calendar" in caplog.text


def test_the_organizer_is_impersonated(fake: EwsFake, renderer: Renderer) -> None:
    seen: list[bytes] = []
    handle = fake.handle

    def spy(authorization: str, data: bytes) -> tuple[int, bytes]:
        seen.append(data)
        return handle(authorization, data)

    fake.handle = spy  # type: ignore[method-assign]
    transport(fake).send(invite_mail(renderer, make_invite(), "invite:12:0:rektor"))
    creates = [data for data in seen if b"CreateItem" in data]
    assert len(creates) == 1
    assert b"ExchangeImpersonation" in creates[0]
    assert DIRECTOR.email.encode() in creates[0]


# --- failures -----------------------------------------------------------------------------


def test_wrong_password_is_permanent_and_asked_once(fake: EwsFake) -> None:
    with pytest.raises(DeliveryFailed) as caught:
        transport(fake, password="fel").send(notice())
    assert len(fake.requests) == 1  # FailFast: exchangelib does not retry a 401 for an hour
    assert caught.value.permanent
    assert fake.url in caught.value.reason
    assert "UnauthorizedError" in caught.value.reason
    assert fake.outgoing == []


def test_a_401_during_a_send_is_permanent_and_asked_once(fake: EwsFake) -> None:
    exchange = transport(fake)
    exchange.send(notice("reminder:1"))
    fake.fail_next("401", times=100)
    asked = len(fake.requests)
    with pytest.raises(DeliveryFailed) as caught:
        exchange.send(notice("reminder:2"))
    assert len(fake.requests) == asked + 1  # FailFast: no retry inside exchangelib
    assert caught.value.permanent
    assert len(fake.outgoing) == 1


@pytest.mark.parametrize("kind", ["500", "busy"])
def test_server_errors_are_temporary_and_the_retry_sends_once(
    fake: EwsFake, renderer: Renderer, kind: str
) -> None:
    exchange = transport(fake)
    exchange.send(notice("reminder:1"))  # connected, version known
    message = invite_mail(renderer, make_invite(), "invite:12:0:rektor")
    fake.fail_next(kind)
    asked = len(fake.requests)
    with pytest.raises(DeliveryFailed) as caught:
        exchange.send(message)
    assert len(fake.requests) == asked + 1  # FailFast: the outbox retries, not exchangelib
    assert not caught.value.permanent
    assert ("ErrorServerBusy" if kind == "busy" else "500") in caught.value.reason
    exchange.send(message)  # the outbox's retry
    assert len(calendar(fake)) == 1


def test_an_unreachable_server_is_temporary() -> None:
    with EwsFake(users={USER: PASSWORD}) as server:
        pass
    exchange = transport(server, timeout=2.0)  # its port is closed now
    with pytest.raises(DeliveryFailed) as caught:
        exchange.send(notice())
    assert not caught.value.permanent


def test_settings_are_checked_up_front(fake: EwsFake) -> None:
    with pytest.raises(InputError, match="STYRHJUL_EXCHANGE_USERNAME"):
        transport(fake, username=None)
    with pytest.raises(InputError, match=r"\[mail.oauth2\]"):
        transport(fake, auth="oauth2", username=None, password=None)
    with pytest.raises(InputError, match="unknown Exchange auth 'kerberos'"):
        transport(fake, auth="kerberos")


# --- OAuth2 -------------------------------------------------------------------------------


def test_oauth2_sends_the_fetched_token_as_bearer(
    renderer: Renderer, token_endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests-oauthlib refuses plain http; the fake serves http on loopback only.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    token_endpoint.tokens = ["token-1", "token-2"]
    now = [STAMP]
    with EwsFake(tokens={"token-1", "token-2"}) as server:
        client = ClientCredentials(
            token_url=token_endpoint.url,
            client_id="styrhjul-app",
            client_secret="s3cret",
            scope="https://exchange.skola.test/.default",
            now=lambda: now[0],
        )
        exchange = transport(server, auth="oauth2", username=None, password=None, oauth2=client)
        exchange.send(notice())
        exchange.send(invite_mail(renderer, make_invite(), "invite:12:0:rektor"))
        assert {auth for _, auth in server.requests} == {"Bearer token-1"}
        assert token_endpoint.requests[0]["grant_type"] == ["client_credentials"]
        assert token_endpoint.requests[0]["client_id"] == ["styrhjul-app"]
        assert len(server.folder(SENDER.address, "sentitems")) == 1
        assert len(server.folder(DIRECTOR.email, "calendar")) == 1

        now[0] = STAMP + dt.timedelta(hours=2)  # the first token has expired
        exchange.send(notice("reminder:2"))
        assert server.requests[-1][1] == "Bearer token-2"
        assert len(token_endpoint.requests) == 2
        exchange.close()


def test_oauth2_token_refused_by_exchange_is_permanent(
    token_endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with EwsFake(tokens={"some-other-token"}) as server:
        client = ClientCredentials(
            token_url=token_endpoint.url,
            client_id="styrhjul-app",
            client_secret="s3cret",
            scope="x",
            now=lambda: STAMP,
        )
        exchange = transport(server, auth="oauth2", username=None, password=None, oauth2=client)
        with pytest.raises(DeliveryFailed) as caught:
            exchange.send(notice())
        assert caught.value.permanent


def test_close_then_send_again(fake: EwsFake) -> None:
    exchange = transport(fake)
    exchange.send(notice("reminder:1"))
    exchange.close()
    exchange.send(notice("reminder:2"))
    assert len(fake.outgoing) == 2


def test_config_builds_the_transport_that_sends(fake: EwsFake, tmp_path: Path) -> None:
    extra = (
        f'from_address = "{SENDER.address}"\n\n'
        f'[mail.exchange]\nservice_endpoint = "{fake.url}"\nauth = "basic"\n'
        "timeout_seconds = 5\n"
    )
    path = write_config(tmp_path, "sqlite:///styrhjul.db", extra, transport="exchange")
    environ = {"STYRHJUL_EXCHANGE_USERNAME": USER, "STYRHJUL_EXCHANGE_PASSWORD": PASSWORD}
    exchange = build_transport(load_settings(path, environ))
    assert isinstance(exchange, ExchangeTransport)
    exchange.send(notice())
    assert len(fake.folder(SENDER.address, "sentitems")) == 1


def test_a_calendar_part_that_is_no_request_or_cancel_is_refused(fake: EwsFake) -> None:
    message = notice()
    message.add_attachment(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n",
        maintype="text",
        subtype="calendar",
    )
    with pytest.raises(DeliveryFailed, match="METHOD PUBLISH is not REQUEST or CANCEL") as caught:
        transport(fake).send(message)
    assert caught.value.permanent
    assert fake.requests == []
