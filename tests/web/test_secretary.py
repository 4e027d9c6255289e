"""The secretary's pages on both databases: the desk, holding and closing, carrying, refusals.

Each form goes through the same service as the CLI; these tests check the page's side:
the CSRF token and the confirmation box are required (403, 422, nothing changed), the
service's role check answers the rektor and another area's head with the 403 page, and
after each action the page names and shows the audit row it wrote.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.services.context import App
from styrhjul.services.dialogs import open_due_preparations
from styrhjul.services.meeting_agenda import add_agenda_item
from styrhjul.services.meeting_minutes import ActionInput, MeetingRecord, hold_meeting
from styrhjul.services.meeting_views import meeting_detail
from styrhjul.services.meetings import schedule_meeting, send_agenda
from styrhjul.services.planning import plan_round
from styrhjul.services.views import DialogRow, dialog_detail, list_dialogs
from styrhjul.web.render import sv_datetime

from .webkit import ROLES, csrf_of, logged_in

SECRETARY, RECTOR, HEAD = ROLES["secretary"], ROLES["rektor"], ROLES["area_head"]


def _core(web: FastAPI) -> App:
    app: App = web.state.app
    return app


def _dialog(app: App, unit: str) -> DialogRow:
    return next(d for d in list_dialogs(app) if d.unit == unit)


def _started(web: FastAPI, clock: FixedClock, unit: str = "vastra-skolan") -> int:
    """The unit's round-1 dialog, under way (preparation open, the start passed)."""
    app = _core(web)
    row = _dialog(app, unit)
    clock.set(row.starts_at + timedelta(minutes=80))
    open_due_preparations(app)
    assert dialog_detail(app, row.id).dialog.state == "preparing"
    return row.id


def _hold_form(csrf: str, version: int, *, confirm: bool = True) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": csrf,
        "version": str(version),
        "minutes": "Vi gick igenom kvalitetsrapporten.",
        "action_text": ["Ta fram en plan för ökad närvaro", "", ""],
        "action_owner": [RECTOR, RECTOR, RECTOR],
        "action_due": ["2026-12-01", "", ""],
    }
    if confirm:
        form["confirm"] = "ja"
    return form


def _post(client: TestClient, url: str, data: dict[str, str | list[str]]) -> str:
    answer = client.post(url, data=data)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert "klart=" in location
    return location


def test_the_desk_groups_what_the_secretary_keeps(planned_web: FastAPI) -> None:
    secretary = logged_in(planned_web, SECRETARY)
    page = secretary.get("/sekreterare")
    assert page.status_code == 200
    assert "Att genomföra (40)" in page.text
    assert "Västra skolan" in page.text
    assert "Inga genomförda dialoger eller möten väntar på att avslutas." in page.text
    dialog_id = _dialog(_core(planned_web), "vastra-skolan").id
    assert f'href="/sekreterare/dialog/{dialog_id}"' in page.text
    rektor = logged_in(planned_web, RECTOR).get("/sekreterare")
    assert rektor.status_code == 403
    assert "Åtkomst nekad" in rektor.text
    assert "is no secretary today and keeps no meeting" in rektor.text


def test_held_follow_up_and_closed_through_the_pages(
    planned_web: FastAPI, clock: FixedClock
) -> None:
    app = _core(planned_web)
    dialog_id = _started(planned_web, clock)
    secretary = logged_in(planned_web, SECRETARY)
    csrf = csrf_of(secretary)
    url = f"/sekreterare/dialog/{dialog_id}"
    page = secretary.get(url).text
    assert "Registrera dialogen som genomförd" in page
    assert f'<option value="{RECTOR}"' in page

    version = dialog_detail(app, dialog_id).dialog.version
    location = _post(secretary, f"{url}/genomford", _hold_form(csrf, version))
    assert location.startswith(f"{url}?klart=")
    detail = dialog_detail(app, dialog_id)
    assert detail.dialog.state == "following_up"
    assert [(a.text, a.owner, a.due_on) for a in detail.agreements] == [
        ("Ta fram en plan för ökad närvaro", RECTOR, date(2026, 12, 1))
    ]
    shown = secretary.get(location).text
    assert "Dialogen är registrerad som genomförd (1 åtgärder)." in shown
    assert "Historiken:" in shown
    assert "Påbörja uppföljning" in shown  # the row "follow_up" by Styrhjul
    assert "Förberedelser pågår → Genomförd" in shown
    assert "Genomförd → Uppföljning pågår" in shown
    assert "Avsluta uppföljningen" in shown

    # Closing with the action open: the service refuses, the 409 page says so, nothing moves.
    close = {"csrf_token": csrf, "confirm": "ja"}
    refused = secretary.post(f"{url}/avsluta", data=close)
    assert refused.status_code == 409
    assert "Kunde inte genomföras" in refused.text
    assert "still open" in refused.text
    agreement = detail.agreements[0].id
    tick = f'action="/sekreterare/overenskommelse/{agreement}/klar"'
    assert tick in shown  # open while the dialog follows up
    location = _post(
        secretary, f"/sekreterare/overenskommelse/{agreement}/klar", {**close, "confirm": "ja"}
    )
    shown = secretary.get(location).text
    assert "Överenskommelsen är markerad som klar." in shown
    assert tick not in shown
    location = _post(secretary, f"{url}/avsluta", {**close, "reason": "Allt klart"})
    assert dialog_detail(app, dialog_id).dialog.state == "closed"
    shown = secretary.get(location).text
    assert "Uppföljningen är avslutad." in shown
    assert re.search(r"<tr class=\"newest\">.*?Avsluta.*?Allt klart", shown, re.S)
    assert "Avsluta uppföljningen" not in shown  # nothing left to do: no form
    desk = secretary.get("/sekreterare").text
    assert "Avslutade de senaste 60 dagarna (1)" in desk


def test_an_agreement_carried_to_the_next_round_links_there_and_offers_nothing(
    planned_web: FastAPI, clock: FixedClock
) -> None:
    app = _core(planned_web)
    dialog_id = _started(planned_web, clock)
    secretary = logged_in(planned_web, SECRETARY)
    csrf = csrf_of(secretary)
    url = f"/sekreterare/dialog/{dialog_id}"
    _post(
        secretary,
        f"{url}/genomford",
        _hold_form(csrf, dialog_detail(app, dialog_id).dialog.version),
    )
    plan_round(app, SchoolYear(2026), 2)
    agreement = dialog_detail(app, dialog_id).agreements[0].id
    carry = f'action="/sekreterare/overenskommelse/{agreement}/flytta"'
    assert carry in secretary.get(url).text
    location = _post(
        secretary,
        f"/sekreterare/overenskommelse/{agreement}/flytta",
        {"csrf_token": csrf, "confirm": "ja"},
    )
    shown = secretary.get(location).text
    found = re.search(r"Överenskommelsen är förd till nästa dialog \((\d+)\)\.", shown)
    assert found, shown
    target = int(found[1])
    assert target != dialog_id
    assert f'Förd till <a href="/sekreterare/dialog/{target}">dialog {target}</a>' in shown
    assert carry not in shown
    assert f'action="/sekreterare/overenskommelse/{agreement}/klar"' not in shown

    # Round 2's page has it, open, to follow up there (from Styrhjul's copy of it).
    next_round = dialog_detail(app, target)
    assert (next_round.dialog.round_no, next_round.dialog.unit) == (2, "vastra-skolan")
    assert [(a.text, a.owner) for a in next_round.agreements] == [
        ("Ta fram en plan för ökad närvaro", RECTOR)
    ]
    there = secretary.get(f"/sekreterare/dialog/{target}").text
    assert "Verksamhetsdialog med Västra skolan" in there
    assert re.search(r"Ta fram en plan för ökad närvaro</td>.*?Öppen", there, re.S), there


def test_a_dialog_is_postponed_in_swedish_time_then_cancelled_through_the_pages(
    planned_web: FastAPI,
) -> None:
    app = _core(planned_web)
    row = _dialog(app, "vastra-skolan")
    secretary = logged_in(planned_web, SECRETARY)
    url = f"/sekreterare/dialog/{row.id}"
    page = secretary.get(url).text
    assert f'action="{url}/flytta"' in page
    assert f'action="{url}/installa"' in page
    assert f'action="{url}/genomford"' not in page  # planned: not to be held yet

    before = dialog_detail(app, row.id)
    new_day = (row.starts_at + timedelta(days=7)).date()  # the same weekday, a week on
    move: dict[str, str | list[str]] = {
        "csrf_token": csrf_of(secretary),
        "version": str(before.dialog.version),
        "new_day": new_day.isoformat(),
        "new_time": "10.30",
        "reason": "Krock med APT",
        "confirm": "ja",
    }
    for wrong, field, said in (
        ({"new_time": "10:75"}, "Nytt klockslag", "is not a time of day"),
        ({"new_day": "2027-03-28", "new_time": "02:30"}, "Nytt klockslag", "does not exist"),
        ({"new_day": "2026-10-04"}, "Ny tid", "is not a working day"),
        ({"new_day": ""}, "Ny dag", "the new day is required"),
        ({"reason": ""}, "Anledning", "a reason is required"),
    ):
        answer = secretary.post(f"{url}/flytta", data={**move, **wrong})
        assert answer.status_code == 422, answer.text
        assert f"Felaktig uppgift: {field}" in answer.text
        assert said in answer.text
        assert f'href="{url}"' in answer.text  # back to the form
    refused = logged_in(planned_web, RECTOR).post(f"{url}/flytta", data=move)
    assert refused.status_code == 403
    assert "postpone&#39; needs one of the roles area_head, secretary" in refused.text
    assert dialog_detail(app, row.id) == before

    location = _post(secretary, f"{url}/flytta", move)
    moved = dialog_detail(app, row.id)
    assert moved.dialog.starts_at == datetime.combine(new_day, time(10, 30), tzinfo=STOCKHOLM)
    shown = secretary.get(location).text
    assert f"Dialogen är flyttad till {sv_datetime(moved.dialog.starts_at)}." in shown
    assert re.search(r'<tr class="newest">.*?Flytta.*?Krock med APT', shown, re.S)

    cancel: dict[str, str | list[str]] = {
        "csrf_token": csrf_of(secretary),
        "version": str(before.dialog.version),
    }
    stale = secretary.post(
        f"{url}/installa", data={**cancel, "reason": "Sammanslagning", "confirm": "ja"}
    )
    assert stale.status_code == 409  # drawn before the move
    assert dialog_detail(app, row.id) == moved
    cancel["version"] = str(moved.dialog.version)
    location = _post(
        secretary, f"{url}/installa", {**cancel, "reason": "Enheten slås samman", "confirm": "ja"}
    )
    assert dialog_detail(app, row.id).dialog.state == "cancelled"
    shown = secretary.get(location).text
    assert "Dialogen är inställd." in shown
    assert re.search(r'<tr class="newest">.*?Ställ in.*?Enheten slås samman', shown, re.S)
    for form in ("flytta", "installa", "genomford", "avsluta"):
        assert f'action="{url}/{form}"' not in shown
    assert f'href="{url}"' not in secretary.get("/sekreterare").text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    planned_web: FastAPI, clock: FixedClock
) -> None:
    app = _core(planned_web)
    dialog_id = _started(planned_web, clock)
    secretary = logged_in(planned_web, SECRETARY)
    before = dialog_detail(app, dialog_id)
    for token in ("", "not-the-token"):
        answer = secretary.post(
            f"/sekreterare/dialog/{dialog_id}/genomford",
            data=_hold_form(token, before.dialog.version),
        )
        assert answer.status_code == 403
        assert "CSRF token is missing or wrong" in answer.text
    assert dialog_detail(app, dialog_id) == before


def test_without_the_confirmation_nothing_is_changed(
    planned_web: FastAPI, clock: FixedClock
) -> None:
    app = _core(planned_web)
    dialog_id = _started(planned_web, clock)
    secretary = logged_in(planned_web, SECRETARY)
    before = dialog_detail(app, dialog_id)
    answer = secretary.post(
        f"/sekreterare/dialog/{dialog_id}/genomford",
        data=_hold_form(csrf_of(secretary), before.dialog.version, confirm=False),
    )
    assert answer.status_code == 422
    assert "Felaktig uppgift: Bekräftelse" in answer.text
    assert "tick the box to confirm" in answer.text
    assert dialog_detail(app, dialog_id) == before


def test_a_stale_form_is_a_conflict(planned_web: FastAPI, clock: FixedClock) -> None:
    app = _core(planned_web)
    dialog_id = _started(planned_web, clock)
    secretary = logged_in(planned_web, SECRETARY)
    version = dialog_detail(app, dialog_id).dialog.version
    answer = secretary.post(
        f"/sekreterare/dialog/{dialog_id}/genomford",
        data=_hold_form(csrf_of(secretary), version - 1),
    )
    assert answer.status_code == 409
    assert dialog_detail(app, dialog_id).dialog.state == "preparing"


def test_only_those_who_keep_the_dialog_may_hold_or_close_it(
    planned_web: FastAPI, clock: FixedClock
) -> None:
    app = _core(planned_web)
    dialog_id = _started(planned_web, clock)
    other = _dialog(app, "ekbackens-forskoleomrade").id
    secretary = logged_in(planned_web, SECRETARY)
    version = dialog_detail(app, dialog_id).dialog.version
    _post(
        secretary,
        f"/sekreterare/dialog/{dialog_id}/genomford",
        _hold_form(csrf_of(secretary), version),
    )
    before = dialog_detail(app, dialog_id)

    # The rektor reads their own unit's dialog, without forms; the service refuses a close.
    rektor = logged_in(planned_web, RECTOR)
    page = rektor.get(f"/sekreterare/dialog/{dialog_id}")
    assert page.status_code == 200
    assert "Avsluta uppföljningen" not in page.text
    assert "Du kan läsa dialogen" in page.text
    refused = rektor.post(
        f"/sekreterare/dialog/{dialog_id}/avsluta",
        data={"csrf_token": csrf_of(rektor), "confirm": "ja"},
    )
    assert refused.status_code == 403
    assert "Åtkomst nekad" in refused.text
    assert "close&#39; needs one of the roles area_head, secretary" in refused.text
    agreement = before.agreements[0].id
    refused = rektor.post(
        f"/sekreterare/overenskommelse/{agreement}/flytta",
        data={"csrf_token": csrf_of(rektor), "confirm": "ja"},
    )
    assert refused.status_code == 403
    assert dialog_detail(app, dialog_id) == before
    # ... and may not even read another unit's dialog.
    assert rektor.get(f"/sekreterare/dialog/{other}").status_code == 403

    # The head of grundskola-norr runs its dialogs, not those of förskola.
    head = logged_in(planned_web, HEAD)
    assert "Avsluta uppföljningen" in head.get(f"/sekreterare/dialog/{dialog_id}").text
    assert head.get(f"/sekreterare/dialog/{other}").status_code == 403
    other_before = dialog_detail(app, other)
    refused = head.post(
        f"/sekreterare/dialog/{other}/genomford",
        data=_hold_form(csrf_of(head), other_before.dialog.version),
    )
    assert refused.status_code == 403
    assert "hold&#39; needs one of the roles area_head, secretary" in refused.text
    assert dialog_detail(app, other) == other_before


def test_the_secretary_carries_a_meeting_action_to_the_next_meeting(
    app: App, web: FastAPI, clock: FixedClock
) -> None:
    first = schedule_meeting(
        app, "lg", datetime(2026, 9, 8, 13, tzinfo=STOCKHOLM), actor=SECRETARY, place="Jupiter"
    ).meeting_id
    add_agenda_item(app, first, actor=SECRETARY, kind="decision", title="Tidplan för VP")
    send_agenda(app, first, actor=SECRETARY)
    clock.set(datetime(2026, 9, 8, 16, tzinfo=STOCKHOLM))
    record = MeetingRecord(actions=[ActionInput("Ta fram tidplan", HEAD, date(2026, 10, 1))])
    hold_meeting(app, first, record, actor=SECRETARY)
    second = schedule_meeting(
        app, "lg", datetime(2026, 9, 22, 13, tzinfo=STOCKHOLM), actor=SECRETARY, place="Jupiter"
    ).meeting_id
    action = meeting_detail(app, first).actions[0].id

    secretary = logged_in(web, SECRETARY)
    page = secretary.get(f"/sekreterare/mote/{first}").text
    assert "Ta fram tidplan" in page
    assert "För till nästa möte" in page
    assert f"möte {first}" in secretary.get(f"/sekreterare/mote/{second}").text
    csrf = csrf_of(secretary)
    missing = secretary.post(
        f"/sekreterare/overenskommelse/{action}/flytta", data={"csrf_token": csrf}
    )
    assert missing.status_code == 422
    assert meeting_detail(app, second).actions == []
    location = _post(
        secretary,
        f"/sekreterare/overenskommelse/{action}/flytta",
        {"csrf_token": csrf, "confirm": "ja"},
    )
    assert location.startswith(f"/sekreterare/mote/{first}?")
    shown = secretary.get(location).text
    assert f"Åtgärden är förd till möte {second}." in shown
    assert "Åtgärd förd vidare" in shown
    assert [a.text for a in meeting_detail(app, second).actions] == ["Ta fram tidplan"]
    assert logged_in(web, RECTOR).get(f"/sekreterare/mote/{first}").status_code == 403
