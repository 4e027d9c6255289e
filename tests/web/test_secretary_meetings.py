"""A group meeting's forms on the secretary's pages, on both databases: agenda to close.

The forms call the meeting services; these tests check the page's side: each state offers
what the workflow allows there for the caller's roles (the chair alone approves), every
action needs its confirmation and names the audit row it wrote, a stale form is a 409,
someone who does not keep the meeting gets a 403 before their input is read, and bad
input (Swedish dates and times, a missing reason) a 422 page naming the field, with
nothing written.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.services.context import App
from styrhjul.services.meeting_agenda import add_agenda_item
from styrhjul.services.meeting_views import MeetingDetail, meeting_detail
from styrhjul.services.meetings import schedule_meeting

from .webkit import ROLES, csrf_of, logged_in

SECRETARY, DIRECTOR, HEAD = ROLES["secretary"], ROLES["director"], ROLES["area_head"]
PC = "avdelningschef.pedagogiskt-center@example.se"
STARTS = datetime(2026, 9, 8, 13, tzinfo=STOCKHOLM)
"""A Tuesday, as LG meets; the clock fixture stands a week before, at 09:00."""


def _meeting(app: App) -> tuple[int, int]:
    """An LG meeting with one agenda item: (meeting, item)."""
    meeting = schedule_meeting(app, "lg", STARTS, actor=SECRETARY, place="Jupiter").meeting_id
    add_agenda_item(app, meeting, actor=SECRETARY, kind="decision", title="Tidplan för VP")
    return meeting, meeting_detail(app, meeting).agenda[0].id


def _form(client: TestClient, detail: MeetingDetail, **fields: str | list[str]) -> dict:
    return {"csrf_token": csrf_of(client), "version": str(detail.meeting.version), **fields}


def _ok(client: TestClient, url: str, data: dict, flash: str) -> str:
    """Post a form that succeeds; the page it leads to, which must say ``flash``."""
    answer = client.post(url, data=data)
    assert answer.status_code == 303, answer.text
    shown = client.get(answer.headers["location"]).text
    assert flash in shown, shown
    assert "Historiken:" in shown
    return shown


def _invalid(client: TestClient, url: str, data: dict, field: str, detail: str) -> None:
    answer = client.post(url, data=data)
    assert answer.status_code == 422, answer.text
    assert f"Felaktig uppgift: {field}" in answer.text
    assert detail in answer.text
    assert "ingenting har sparats" in answer.text


def _newest(page: str) -> str:
    found = re.search(r'<tr class="newest">(.*?)</tr>', page, re.S)
    assert found, page
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[1]))


def test_a_meeting_from_agenda_to_close_through_the_pages(
    app: App, web: FastAPI, clock: FixedClock
) -> None:
    meeting, item = _meeting(app)
    url = f"/sekreterare/mote/{meeting}"
    secretary = logged_in(web, SECRETARY)
    page = secretary.get(url).text
    for offered in ("/dagordning", "/flytta", "/installa"):
        assert f'action="{url}{offered}"' in page
    for later in ("/genomfort", "/justera", "/avsluta"):
        assert f'action="{url}{later}"' not in page

    detail = meeting_detail(app, meeting)
    _invalid(secretary, f"{url}/dagordning", _form(secretary, detail), "Bekräftelse", "confirm")
    assert meeting_detail(app, meeting) == detail
    shown = _ok(
        secretary,
        f"{url}/dagordning",
        _form(secretary, detail, confirm="ja"),
        "Dagordningen är utskickad",
    )
    assert meeting_detail(app, meeting).meeting.state == "agenda_sent"
    assert "Skicka ut dagordningen" in _newest(shown)
    assert f'action="{url}/dagordning"' not in shown
    assert f'action="{url}/genomfort"' in shown

    # Held: one member absent, the item taken up again, one action agreed.
    clock.set(STARTS + timedelta(hours=3))
    secretary = logged_in(web, SECRETARY)  # a week on: the session from before has expired
    detail = meeting_detail(app, meeting)
    absent = ROLES["area_head"]
    minutes = _form(
        secretary,
        detail,
        confirm="ja",
        notes="Tema: verksamhetsplanering",
        absent=absent,
        guests="chefscontroller@example.se",
        **{
            f"item_notes_{item}": "Förslaget presenterades.",
            f"item_decision_{item}": "Beslut tas vid nästa möte.",
            f"item_again_{item}": "ja",
        },
        action_text=["Skicka ut tidplanen", ""],
        action_owner=[PC, PC],
        action_due=["2026-09-30", ""],
    )
    bad = {**minutes, "action_due": ["30/9", ""]}
    _invalid(secretary, f"{url}/genomfort", bad, "Åtgärd 1", "is not a date")
    no_owner = {**minutes, "action_owner": ["", PC]}  # "Välj ansvarig" left as it was
    _invalid(secretary, f"{url}/genomfort", no_owner, "Åtgärd 1", "needs what, an owner")
    assert meeting_detail(app, meeting) == detail
    shown = _ok(
        secretary, f"{url}/genomfort", minutes, "1 frånvarande, 1 åtgärder. 1 punkter tas upp"
    )
    held = meeting_detail(app, meeting)
    assert held.meeting.state == "held"
    assert held.minutes == "Tema: verksamhetsplanering"
    assert [a.email for a in held.attendance if a.present is False] == [absent]
    assert held.agenda[0].decision == "Beslut tas vid nästa möte."
    assert held.agenda[0].take_up_again
    assert [(a.text, a.due_on) for a in held.actions] == [
        ("Skicka ut tidplanen", date(2026, 9, 30))
    ]
    assert "frånvarande" in shown
    assert "Mötet genomfört" in _newest(shown)
    # the chair approves, not the secretary: the page says whom it waits for
    assert f'action="{url}/justera"' not in shown
    assert "väntar på justering av ordföranden" in shown
    refused = secretary.post(f"{url}/justera", data=_form(secretary, held, confirm="ja"))
    assert refused.status_code == 403
    assert "approve&#39; needs one of the roles director" in refused.text

    director = logged_in(web, DIRECTOR)
    assert f'action="{url}/justera"' in director.get(url).text
    shown = _ok(
        director, f"{url}/justera", _form(director, held, confirm="ja"), "Protokollet är justerat."
    )
    assert "Justera protokollet" in _newest(shown)

    # Closing with the action open is refused by the workflow; done, it closes.
    approved = meeting_detail(app, meeting)
    refused = secretary.post(f"{url}/avsluta", data=_form(secretary, approved, confirm="ja"))
    assert refused.status_code == 409
    assert meeting_detail(app, meeting) == approved
    _ok(
        secretary,
        f"/sekreterare/overenskommelse/{approved.actions[0].id}/klar",
        {"csrf_token": csrf_of(secretary), "confirm": "ja"},
        "markerad som klar",
    )
    ticked = meeting_detail(app, meeting)
    stale = secretary.post(
        f"{url}/avsluta", data=_form(secretary, held, confirm="ja", reason="Klart")
    )
    assert stale.status_code == 409  # drawn before the approval
    assert meeting_detail(app, meeting) == ticked
    shown = _ok(
        secretary,
        f"{url}/avsluta",
        _form(secretary, ticked, confirm="ja", reason="Allt klart"),
        "Mötet är avslutat.",
    )
    assert meeting_detail(app, meeting).meeting.state == "closed"
    assert "Allt klart" in _newest(shown)
    for form in ("/genomfort", "/justera", "/avsluta", "/flytta", "/installa"):
        assert f'action="{url}{form}"' not in shown


def test_a_meeting_is_postponed_in_swedish_time_and_cancelled(app: App, web: FastAPI) -> None:
    meeting, _ = _meeting(app)
    url = f"/sekreterare/mote/{meeting}"
    secretary = logged_in(web, SECRETARY)
    detail = meeting_detail(app, meeting)
    move = _form(
        secretary, detail, confirm="ja", new_day="2026-10-27", new_time="14.00", reason="Krock"
    )
    for wrong, field, said in (
        ({"reason": " "}, "Anledning", "a reason is required"),
        ({"new_day": "27/10"}, "Ny dag", "is not a date"),
        ({"new_time": "25:00"}, "Nytt klockslag", "is not a time of day"),
        ({"new_day": "2026-10-31"}, "Ny tid", "is not a working day"),
        ({"new_day": "2026-08-31"}, "Ny tid", "has passed"),
        ({"confirm": ""}, "Bekräftelse", "tick the box"),
    ):
        _invalid(secretary, f"{url}/flytta", {**move, **wrong}, field, said)
    stale = secretary.post(
        f"{url}/flytta", data={**move, "version": str(detail.meeting.version - 1)}
    )
    assert stale.status_code == 409
    assert meeting_detail(app, meeting) == detail

    # After the clocks went back (25 October), 14.00 in Stockholm is 13:00 UTC.
    shown = _ok(secretary, f"{url}/flytta", move, "Mötet är flyttat till tis 27 okt 2026 14:00.")
    moved = meeting_detail(app, meeting)
    assert moved.meeting.starts_at == datetime(2026, 10, 27, 14, tzinfo=STOCKHOLM)
    assert moved.meeting.starts_at.utcoffset() == timedelta(hours=1)
    assert moved.meeting.ends_at == datetime(2026, 10, 27, 17, tzinfo=STOCKHOLM)
    assert "tis 27 okt 2026 14:00" in shown
    # the flash names the row the move wrote, though the earlier ones share its instant
    assert f"Historiken: tis 1 sep 2026 09:00 Flytta av {SECRETARY}." in shown
    assert "Flytta" in _newest(shown)
    assert "Krock" in _newest(shown)

    cancel = _form(secretary, moved, confirm="ja", reason="Direktören är sjuk")
    _invalid(secretary, f"{url}/installa", {**cancel, "reason": ""}, "Anledning", "reason")
    assert meeting_detail(app, meeting) == moved
    shown = _ok(secretary, f"{url}/installa", cancel, "Mötet är inställt.")
    assert meeting_detail(app, meeting).meeting.state == "cancelled"
    assert "Direktören är sjuk" in _newest(shown)
    for form in ("/dagordning", "/flytta", "/installa"):
        assert f'action="{url}{form}"' not in shown


def test_only_those_who_keep_a_meeting_may_act_on_it(app: App, web: FastAPI) -> None:
    meeting, _ = _meeting(app)
    url = f"/sekreterare/mote/{meeting}"
    detail = meeting_detail(app, meeting)

    # An area head in LG reads the meeting without forms, and is refused before the
    # form is read: a bad date gets the 403, not the 422.
    head = logged_in(web, HEAD)
    page = head.get(url).text
    assert "Du kan läsa mötet" in page
    assert "<form method" not in page.split("<main>")[1]
    for form, trigger in (
        ("flytta", "postpone"),
        ("installa", "cancel"),
        ("dagordning", "send_agenda"),
    ):
        refused = head.post(
            f"{url}/{form}",
            data=_form(head, detail, confirm="ja", reason="x", new_day="fel", new_time="13:00"),
        )
        assert refused.status_code == 403, form
        assert f"{trigger}&#39; needs one of the roles director, secretary" in refused.text
    # A rektor outside LG may not even read it; a dialog's form does not take a meeting.
    rektor = logged_in(web, ROLES["rektor"])
    assert rektor.get(url).status_code == 403
    refused = rektor.post(f"{url}/installa", data=_form(rektor, detail, confirm="ja", reason="x"))
    assert refused.status_code == 403
    secretary = logged_in(web, SECRETARY)
    wrong_kind = secretary.post(
        f"/sekreterare/dialog/{meeting}/installa",
        data=_form(secretary, detail, confirm="ja", reason="x"),
    )
    assert wrong_kind.status_code == 404
    assert meeting_detail(app, meeting) == detail

    # The director runs the group's meetings too.
    director = logged_in(web, DIRECTOR)
    _ok(
        director,
        f"{url}/installa",
        _form(director, detail, confirm="ja", reason="Inga punkter"),
        "Mötet är inställt.",
    )
