"""The ``exchange`` transport: mail and meetings through an on-premise Exchange server (EWS).

A thin adapter over exchangelib, which speaks the protocol. EWS is for on-premise Exchange:
Exchange Online switches EWS off (2026/2027), so there use the ``smtp`` transport with XOAUTH2.

- A plain notice is created in the sender's mailbox and sent with a copy in Sent Items
  (CreateItem, ``MessageDisposition=SendAndSaveCopy``), carrying the outbox message's
  Message-ID as its ``InternetMessageId``. Before sending, Sent Items is searched for that
  id (FindItem restricted on the ``message:InternetMessageId`` property), so a resend after
  a crash between "sent" and "marked sent" sends nothing.
- An invite (a ``text/calendar`` part) with ``meetings=True`` becomes a meeting in the
  organiser's calendar, reached by impersonating the organiser's address, and Exchange sends
  the invitations. Exchange cannot find an item by its iCal UID, so each meeting carries two
  extended properties (named, in the PublicStrings set): the UID and the SEQUENCE last
  applied. Every REQUEST and CANCEL first searches the calendar for the UID, so a retry
  after an uncertain failure never makes a second meeting, and a REQUEST whose SEQUENCE is
  not higher than the stored one changes nothing (the outbox sends one mail per attendee;
  the first makes the meeting, the others find it).
- With ``meetings=False`` an invite is sent as its MIME bytes, the same mail SMTP would send.

Errors become :class:`DeliveryFailed`: permanent for refused credentials, permissions and
unknown recipients or mailboxes, temporary for connection trouble, 5xx and throttling.
exchangelib runs with its fail-fast policy (its fault-tolerant one retries a 401 as if the
server were busy, for up to an hour): the outbox does the retrying, with its own backoff.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any, Literal

import requests
from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    Account,
    Body,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    FailFast,
    HTMLBody,
    Message,
    OAuth2AuthorizationCodeCredentials,
)
from exchangelib.credentials import BaseCredentials
from exchangelib.errors import (
    CASError,
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorImpersonationDenied,
    ErrorInvalidRecipients,
    ErrorInvalidSmtpAddress,
    ErrorMailRecipientNotFound,
    ErrorMessageSizeExceeded,
    ErrorNonExistentMailbox,
    ErrorSendAsDenied,
    EWSError,
    RedirectError,
    UnauthorizedError,
)
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY
from exchangelib.transport import BASIC, NTLM, OAUTH2

from styrhjul.errors import DeliveryFailed, InputError
from styrhjul.notifications.exchange_meeting import Meeting, calendar_part, read_meeting
from styrhjul.notifications.oauth2 import ClientCredentials

__all__ = ["ExchangeTransport"]

log = logging.getLogger(__name__)

Auth = Literal["ntlm", "basic", "oauth2"]
_AUTH_TYPES = {"ntlm": NTLM, "basic": BASIC, "oauth2": OAUTH2}

UID_PROPERTY = "StyrhjulICalUid"
SEQUENCE_PROPERTY = "StyrhjulICalSequence"

PERMANENT: tuple[type[Exception], ...] = (
    UnauthorizedError,  # 401 under FailFast: wrong password or token
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorImpersonationDenied,
    ErrorSendAsDenied,
    ErrorNonExistentMailbox,
    ErrorInvalidRecipients,
    ErrorInvalidSmtpAddress,
    ErrorMailRecipientNotFound,
    ErrorMessageSizeExceeded,
    RedirectError,  # the configured URL is wrong; the operator must fix it
)
"""Errors that the same request will meet again; everything else (connection failures,
ErrorServerBusy, 5xx, timeouts, CAS errors) is worth another try later."""


class _ICalUid(ExtendedProperty):
    """The iCal UID a meeting was made from: a searchable named property."""

    distinguished_property_set_id = "PublicStrings"
    property_name = UID_PROPERTY
    property_type = "String"


class _ICalSequence(ExtendedProperty):
    """The SEQUENCE last applied to the meeting."""

    distinguished_property_set_id = "PublicStrings"
    property_name = SEQUENCE_PROPERTY
    property_type = "Integer"


def _register_properties() -> None:
    """Teach exchangelib's CalendarItem the two properties (once per process, on first use)."""
    for name, cls in (("styrhjul_uid", _ICalUid), ("styrhjul_sequence", _ICalSequence)):
        if name not in {field.name for field in CalendarItem.FIELDS}:
            CalendarItem.register(name, cls)


def _message_id(message: EmailMessage) -> str | None:
    value = message.get("Message-ID")
    return str(value).strip() if value is not None else None


def _addresses(message: EmailMessage, header: str) -> list[str]:
    found = message.get(header)
    return [str(address.addr_spec) for address in found.addresses] if found is not None else []


class ExchangeTransport:
    """Sends through EWS; see the module docstring for what happens to each kind of message.

    Nothing is contacted until the first send. ``sender`` is the mailbox plain notices are
    sent from (logged into directly with ntlm/basic, impersonated with oauth2); organisers'
    calendars are always reached by impersonation, so the service account needs the
    ApplicationImpersonation role. Not thread-safe: one dispatcher owns one transport.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        auth: Auth,
        username: str | None,
        password: str | None,
        oauth2: ClientCredentials | None,
        sender: str,
        verify_tls: bool = True,
        meetings: bool = True,
        timeout: float = 30.0,
    ) -> None:
        if auth not in _AUTH_TYPES:
            allowed = ", ".join(sorted(_AUTH_TYPES))
            raise InputError(f"unknown Exchange auth {auth!r}; allowed: {allowed}", key="auth")
        if auth == "oauth2" and oauth2 is None:
            raise InputError("Exchange auth 'oauth2' needs the [mail.oauth2] client", key="auth")
        if auth != "oauth2" and not (username and password):
            raise InputError(
                f"Exchange auth {auth!r} needs $STYRHJUL_EXCHANGE_USERNAME and "
                "$STYRHJUL_EXCHANGE_PASSWORD",
                key="auth",
            )
        if "@" not in sender:
            raise InputError(f"the Exchange sender {sender!r} is not an address", key="sender")
        if timeout <= 0:
            raise InputError(f"Exchange timeout must be positive, not {timeout}", key="timeout")
        self._endpoint = endpoint
        self._auth = auth
        self._username = username
        self._password = password
        self._oauth2 = oauth2
        self._sender = sender
        self._verify_tls = verify_tls
        self._meetings = meetings
        self._timeout = timeout
        self._credentials: BaseCredentials | None = None
        self._config: Configuration | None = None
        self._accounts: dict[tuple[str, str], Account] = {}

    @property
    def where(self) -> str:
        return f"Exchange {self._endpoint}"

    # -- connection ------------------------------------------------------------------------

    def _configuration(self) -> Configuration:
        """The exchangelib configuration, with a fresh bearer token whenever it changed."""
        if self._oauth2 is not None:
            token = self._oauth2.token()  # cached by ClientCredentials until shortly before expiry
            current = getattr(self._credentials, "access_token", None)
            if current is None or current.get("access_token") != token:
                bearer = {"access_token": token, "token_type": "Bearer"}
                if isinstance(self._credentials, OAuth2AuthorizationCodeCredentials):
                    # Sessions hold the token they were made with: drop them for new ones.
                    self._credentials.access_token = bearer
                    for account in self._accounts.values():
                        account.protocol.close()
                else:
                    # No client id or secret: exchangelib never fetches or refreshes a token
                    # itself; ClientCredentials does, with the injected clock.
                    self._credentials = OAuth2AuthorizationCodeCredentials(access_token=bearer)
        elif self._credentials is None:
            self._credentials = Credentials(str(self._username), str(self._password))
        if self._config is None:
            self._config = Configuration(
                service_endpoint=self._endpoint,
                credentials=self._credentials,
                auth_type=_AUTH_TYPES[self._auth],
                retry_policy=FailFast(),
            )
        return self._config

    def _account(self, address: str, *, impersonate: bool) -> Account:
        config = self._configuration()
        access = IMPERSONATION if impersonate or self._auth == "oauth2" else DELEGATE
        key = (address.lower(), access)
        account = self._accounts.get(key)
        if account is None:
            _register_properties()
            account = Account(
                primary_smtp_address=address,
                config=config,
                autodiscover=False,
                access_type=access,
                locale="sv_SE",
                default_timezone=EWSTimeZone("Europe/Stockholm"),
            )
            protocol: Any = account.protocol
            protocol.TIMEOUT = self._timeout  # per instance; exchangelib's default is 120 s
            if not self._verify_tls:
                create = protocol.create_session

                def create_unverified() -> requests.Session:
                    session = create()
                    session.verify = False
                    return session

                protocol.create_session = create_unverified
            self._accounts[key] = account
        return account

    # -- sending ---------------------------------------------------------------------------

    def send(self, message: EmailMessage) -> None:
        message_id = _message_id(message)
        what = f"{self.where}: message {message_id or '(no Message-ID)'}"
        calendar = calendar_part(message)
        try:
            if calendar is not None and self._meetings:
                self._meeting(read_meeting(message, calendar, where=what), what)
            else:
                self._mail(message, message_id, as_mime=calendar is not None)
        except DeliveryFailed:
            raise
        except PERMANENT as error:
            raise DeliveryFailed(f"{what}: refused: {_detail(error)}", permanent=True) from error
        except (EWSError, CASError, requests.RequestException, OSError) as error:
            raise DeliveryFailed(f"{what}: {_detail(error)}", permanent=False) from error

    def _mail(self, message: EmailMessage, message_id: str | None, *, as_mime: bool) -> None:
        account = self._account(self._sender, impersonate=False)
        # FindItem in Sent Items restricted on message:InternetMessageId (the Message-ID
        # header); a hit means an earlier attempt was sent before the outbox could record it.
        if (
            message_id is not None
            and account.sent.filter(message_id=message_id).only("message_id").count()
        ):
            log.info("%s: already in Sent Items of %s; not sent again", message_id, self._sender)
            return
        if as_mime:
            item = Message(
                account=account,
                folder=account.sent,
                mime_content=message.as_bytes(),
                message_id=message_id,
            )
        else:
            html = message.get_body(preferencelist=("html",))
            plain = message.get_body(preferencelist=("plain",))
            body: Body | HTMLBody = (
                HTMLBody(html.get_content())
                if html is not None
                else Body(plain.get_content() if plain is not None else "")
            )
            item = Message(
                account=account,
                folder=account.sent,
                subject=str(message.get("Subject", "")),
                body=body,
                to_recipients=_addresses(message, "To"),
                cc_recipients=_addresses(message, "Cc") or None,
                bcc_recipients=_addresses(message, "Bcc") or None,
                message_id=message_id,
            )
        item.send_and_save()

    def _meeting(self, meeting: Meeting, what: str) -> None:
        account = self._account(meeting.organizer, impersonate=True)
        # FindItem in the organiser's calendar restricted on the UID property: always first.
        found = list(
            account.calendar.filter(styrhjul_uid=meeting.uid).only(
                "subject", "styrhjul_uid", "styrhjul_sequence", "is_cancelled"
            )
        )
        if len(found) > 1:
            log.warning(
                "%s: %d meetings carry UID %s; using the first", what, len(found), meeting.uid
            )
        item: Any = found[0] if found else None
        if meeting.method == "CANCEL":
            if item is None or item.is_cancelled:
                log.warning(
                    "%s: no meeting with UID %s in %s's calendar; nothing to cancel",
                    what,
                    meeting.uid,
                    meeting.organizer,
                )
                return
            item.cancel(new_body=Body(meeting.body))
            return
        fields = {
            "subject": meeting.subject,
            "body": Body(meeting.body),
            "location": meeting.location or None,
            "start": EWSDateTime.from_datetime(meeting.start),
            "end": EWSDateTime.from_datetime(meeting.end.astimezone(meeting.start.tzinfo)),
            "required_attendees": list(meeting.required) or None,
            "optional_attendees": list(meeting.optional) or None,
            "styrhjul_sequence": meeting.sequence,
        }
        if item is None:
            if meeting.sequence > 0:
                log.warning(
                    "%s: update (SEQUENCE %d) of unknown UID %s; "
                    "making the meeting in %s's calendar",
                    what,
                    meeting.sequence,
                    meeting.uid,
                    meeting.organizer,
                )
            CalendarItem(
                account=account, folder=account.calendar, styrhjul_uid=meeting.uid, **fields
            ).save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
            return
        if (item.styrhjul_sequence or 0) >= meeting.sequence:
            log.info("%s: meeting %s already at SEQUENCE %d", what, meeting.uid, meeting.sequence)
            return
        for name, value in fields.items():
            setattr(item, name, value)
        item.save(update_fields=list(fields), send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)

    def close(self) -> None:
        """Close the HTTP sessions; the next send opens new ones."""
        for account in self._accounts.values():
            account.protocol.close()
        self._accounts = {}


def _detail(error: BaseException) -> str:
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
