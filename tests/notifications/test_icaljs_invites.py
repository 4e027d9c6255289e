"""The invites, read by a second parser: Mozilla's ical.js agrees with icalendar.

The golden REQUEST and CANCEL files, and whole composed mails (both calendar parts) in
summer time, in winter time and on the nights the clocks change. ical.js converts the
times through the VTIMEZONE we write, icalendar through tzdata: agreement means the
rule-based VTIMEZONE is right at every one of these instants.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from support import GOLDEN, PRINCIPAL, SENDER, STAMP, check_golden, make_invite
from support_icaljs import check_with_icaljs, icaljs_read

from styrhjul.clock import STOCKHOLM
from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.ical import render_calendar
from styrhjul.notifications.render import Renderer

UID = "dialog-12@styrhjul.skola.helsingborg.test"


def _cancel() -> bytes:
    invite = make_invite(method="CANCEL", sequence=2, reason="Dialogen flyttas till våren.")
    return render_calendar(invite, stamp=STAMP)


def test_the_cancel_golden_file_is_what_render_calendar_writes() -> None:
    # unfolded, as invite_updated.ics is, so no line ends in a space an editor would trim
    check_golden("invite_cancel.ics", _cancel().decode("utf-8").replace("\r\n ", ""))


@pytest.mark.parametrize(
    ("name", "method", "status", "sequence"),
    [
        ("invite_updated.ics", "REQUEST", "CONFIRMED", 1),
        ("invite_cancel.ics", "CANCEL", "CANCELLED", 2),
    ],
)
def test_golden_invites_read_the_same_in_icaljs(
    name: str, method: str, status: str, sequence: int, tmp_path: Path
) -> None:
    reading = check_with_icaljs((GOLDEN / name).read_bytes(), tmp_path / name)
    assert reading["method"] == method
    event = reading["by_uid"][UID]
    assert (event["status"], event["sequence"]) == (status, sequence)
    # 6 October 2026 09.00-10.30 in Stockholm is summer time, UTC+2
    assert (event["start"], event["end"]) == ("2026-10-06T07:00:00Z", "2026-10-06T08:30:00Z")


def _calendar_parts(message: EmailMessage) -> list[tuple[str | None, bytes]]:
    """(``method=`` of the Content-Type, bytes) of every calendar part of a mail."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    parts = []
    for part in parsed.walk():
        if part.get_content_type() in {"text/calendar", "application/ics"}:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            method = part.get_param("method")
            parts.append((method if isinstance(method, str) else None, payload))
    return parts


@pytest.mark.parametrize(
    ("start", "minutes", "utc_start", "utc_end"),
    [
        pytest.param(
            dt.datetime(2027, 6, 15, 13, 0, tzinfo=STOCKHOLM), 90, "11:00", "12:30", id="summer"
        ),
        pytest.param(
            dt.datetime(2027, 1, 12, 13, 0, tzinfo=STOCKHOLM), 90, "12:00", "13:30", id="winter"
        ),
        # across the autumn change (03.00 summer time becomes 02.00): 01.30 CEST is 23.30Z,
        # 03.30 CET is 02.30Z; three hours pass, not two
        pytest.param(
            dt.datetime(2026, 10, 25, 1, 30, tzinfo=STOCKHOLM),
            180,
            "23:30",
            "02:30",
            id="autumn-night",
        ),
        # across the spring change (02.00 becomes 03.00): 01.00 CET is 00.00Z, 04.00 CEST 02.00Z
        pytest.param(
            dt.datetime(2027, 3, 28, 1, 0, tzinfo=STOCKHOLM),
            120,
            "00:00",
            "02:00",
            id="spring-night",
        ),
    ],
)
@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_composed_invites_read_the_same_in_icaljs(
    start: dt.datetime,
    minutes: int,
    utc_start: str,
    utc_end: str,
    method: str,
    renderer: Renderer,
    tmp_path: Path,
) -> None:
    invite = make_invite(
        method=method,
        sequence=3 if method == "CANCEL" else 0,
        start=start,
        # elapsed minutes, not wall-clock ones (aware + timedelta in Python is wall time)
        end=(start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(STOCKHOLM),
        summary='Dialog "Västra", <b>åäö</b>; del 1, 2',
    )
    message = compose_invite(
        invite, PRINCIPAL, sender=SENDER, key="outbox:7", stamp=STAMP, renderer=renderer
    )
    parts = _calendar_parts(message)
    assert len(parts) == 2  # the text/calendar alternative and the invite.ics attachment
    assert parts[0][1] == parts[1][1]
    assert parts[0][0] == method  # the MIME method= is the METHOD inside
    reading = check_with_icaljs(parts[0][1], tmp_path / "invite.ics")
    assert reading["method"] == method
    event = reading["by_uid"][UID]
    assert event["summary"] == 'Dialog "Västra", <b>åäö</b>; del 1, 2'
    assert event["start"].endswith(f"T{utc_start}:00Z")
    assert event["end"].endswith(f"T{utc_end}:00Z")


def test_icaljs_refuses_a_broken_file(tmp_path: Path) -> None:
    """The cross-check can fail: a TZID without its VTIMEZONE is reported, not guessed."""
    lines = [
        line
        for line in _cancel().decode("utf-8").split("\r\n")
        if not line.startswith(("BEGIN:VTIMEZONE", "END:VTIMEZONE", "TZID:"))
    ]
    # drop the whole VTIMEZONE: from its first observance to its last
    text = "\r\n".join(lines)
    begin = text.index("BEGIN:DAYLIGHT")
    end = text.index("END:STANDARD") + len("END:STANDARD\r\n")
    path = tmp_path / "broken.ics"
    path.write_text(text[:begin] + text[end:], encoding="utf-8")
    with pytest.raises(AssertionError, match="has no VTIMEZONE"):
        icaljs_read(path)
    path.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nnot a line\r\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="parse error"):
        icaljs_read(path)
