"""The JSON API ``/api/v1`` on both databases: every route allowed and refused at least once.

A client logs in with ``POST /api/v1/session`` and sends the token as a bearer token; a
browser script may use the session cookie, but then every unsafe request needs the
``X-CSRF-Token`` header. Refusals are the services' (403 not theirs, 409 the state or a
stale version, 404 nothing there), answered as ``{"error", "status"}``; a body that does
not match the schema is a 422 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.services.context import App
from styrhjul.services.dialogs import open_due_preparations
from styrhjul.services.meeting_agenda import add_agenda_item
from styrhjul.services.meeting_views import meeting_detail
from styrhjul.services.meetings import schedule_meeting
from styrhjul.services.planning import plan_round
from styrhjul.services.views import DialogRow, dialog_detail, list_dialogs

from .webkit import PASSWORD, ROLES, api_client, csrf_of, logged_in

API = "/api/v1"
SECRETARY, RECTOR, HEAD = ROLES["secretary"], ROLES["rektor"], ROLES["area_head"]
DIRECTOR, OTHER = ROLES["director"], ROLES["other_rektor"]


def _core(web: FastAPI) -> App:
    app: App = web.state.app
    return app


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def _refused(answer: Any, status: int, *words: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status
    for word in words:
        assert word in body["error"], body["error"]
    return str(body["error"])


def _dialog(app: App, unit: str) -> DialogRow:
    return next(d for d in list_dialogs(app) if d.unit == unit)


def _started(web: FastAPI, clock: FixedClock, unit: str = "vastra-skolan") -> int:
    """The unit's round-1 dialog, under way (preparation open, the start passed)."""
    app = _core(web)
    row = _dialog(app, unit)
    clock.set(row.starts_at + timedelta(minutes=80))
    open_due_preparations(app)
    return row.id


def _held(web: FastAPI, clock: FixedClock) -> tuple[int, int, TestClient]:
    """A dialog held by the secretary with one agreement of the rektor's: (dialog, agreement)."""
    dialog_id = _started(web, clock)
    secretary = api_client(web, SECRETARY)
    held = _ok(
        secretary.post(
            f"{API}/dialogs/{dialog_id}/held",
            json={
                "minutes": "Vi gick igenom kvalitetsrapporten.",
                "agreements": [
                    {"text": "Plan för ökad närvaro", "owner": RECTOR, "due_on": "2026-12-01"}
                ],
            },
        )
    )
    assert held["state"] == "following_up"
    agreement = dialog_detail(_core(web), dialog_id).agreements[0].id
    return dialog_id, agreement, secretary


# --- the session -------------------------------------------------------------------------


def test_a_bearer_token_opens_reads_and_ends_a_session(web: FastAPI) -> None:
    anonymous = TestClient(web)
    _refused(anonymous.get(f"{API}/me"), 401, "not logged in")
    wrong = anonymous.post(f"{API}/session", json={"email": RECTOR, "password": "fel"})
    _refused(wrong, 401)
    assert "token" not in wrong.json()

    client = api_client(web, RECTOR)
    me = _ok(client.get(f"{API}/me"))
    assert me["email"] == RECTOR
    assert me["admin"] is False
    assert me["reads_all"] is False
    assert {"role": "rektor", "unit": "vastra-skolan"} in me["roles"]
    assert "vastra-skolan" in me["units"]
    assert "ekbackens-forskoleomrade" not in me["units"]
    director = _ok(api_client(web, DIRECTOR).get(f"{API}/me"))
    assert director["reads_all"] is True
    assert _ok(api_client(web, ROLES["admin"]).get(f"{API}/me"))["admin"] is True

    assert client.delete(f"{API}/session").status_code == 204
    _refused(client.get(f"{API}/me"), 401, "session has ended")
    _refused(client.delete(f"{API}/session"), 401)


def test_the_login_lockout_applies_to_the_api(web: FastAPI) -> None:
    client = TestClient(web)
    limit = _core(web).settings.web.max_failed_logins
    for _ in range(limit):
        _refused(client.post(f"{API}/session", json={"email": HEAD, "password": "fel"}), 401)
    locked = client.post(f"{API}/session", json={"email": HEAD, "password": PASSWORD})
    _refused(locked, 401)


def test_a_cookie_needs_the_csrf_header_on_unsafe_requests(web: FastAPI) -> None:
    browser = logged_in(web, RECTOR)
    assert _ok(browser.get(f"{API}/me"))["email"] == RECTOR  # reading needs no token
    _refused(browser.post(f"{API}/feed-tokens", json={}), 403, "CSRF token")
    _refused(
        browser.post(f"{API}/feed-tokens", json={}, headers={"X-CSRF-Token": "fel"}),
        403,
        "CSRF token",
    )
    assert _ok(browser.get(f"{API}/feed-tokens")) == []
    csrf = csrf_of(browser)
    made = _ok(browser.post(f"{API}/feed-tokens", json={}, headers={"X-CSRF-Token": csrf}), 201)
    assert made["address"].endswith(".ics")
    _refused(browser.delete(f"{API}/session"), 403, "CSRF token")
    assert browser.delete(f"{API}/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    _refused(browser.get(f"{API}/me"), 401)


def test_bad_json_is_a_422_naming_the_field(planned_web: FastAPI) -> None:
    client = api_client(planned_web, SECRETARY)
    broken = client.post(
        f"{API}/session", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    _refused(broken, 422, "body", "JSON")
    dialog_id = _dialog(_core(planned_web), "vastra-skolan").id
    url = f"{API}/dialogs/{dialog_id}/held"
    _refused(client.post(url, json={}), 422, "body.minutes", "required")
    _refused(client.post(url, json={"minutes": "x", "minuter": "y"}), 422, "body.minuter")
    bad_due = {"minutes": "x", "agreements": [{"text": "t", "owner": RECTOR, "due_on": "1 dec"}]}
    _refused(client.post(url, json=bad_due), 422, "body.agreements.0.due_on")
    _refused(
        client.post(url, json={"minutes": "x", "expected_version": -1}), 422, "expected_version"
    )
    _refused(client.get(f"{API}/dialogs/abc"), 422, "path.dialog_id")
    _refused(client.get(f"{API}/dialogs/{2**40}"), 422, "path.dialog_id")
    _refused(client.get(f"{API}/events", params={"year": 1800}), 422, "query.year")
    naive = {"starts_at": "2026-10-01T10:00:00", "reason": "Krock"}
    _refused(client.post(f"{API}/dialogs/{dialog_id}/postpone", json=naive), 422, "starts_at")
    assert dialog_detail(_core(planned_web), dialog_id).dialog.state == "planned"


# --- reads -------------------------------------------------------------------------------


def test_a_participant_reads_their_agenda_dialog_and_invite(planned_web: FastAPI) -> None:
    app = _core(planned_web)
    own, other = _dialog(app, "vastra-skolan").id, _dialog(app, "ekbackens-forskoleomrade").id
    rektor = api_client(planned_web, RECTOR)
    entries = _ok(rektor.get(f"{API}/agenda"))
    entry = next(e for e in entries if e["id"] == own)
    assert entry["kind"] == "dialog"
    assert entry["has_invite"] is True
    assert entry["open_mine"] >= 2
    assert any(s["mine"] for s in entry["steps"])
    assert _ok(api_client(planned_web, ROLES["admin"]).get(f"{API}/agenda")) == []

    dialog = _ok(rektor.get(f"{API}/dialogs/{own}"))
    assert dialog["unit"] == "vastra-skolan"
    assert dialog["state"] == "planned"
    assert dialog["may_run"] is False
    assert dialog["timeline"][0]["trigger"] == "plan"
    _refused(rektor.get(f"{API}/dialogs/{other}"), 403, "may not see dialog")
    _refused(rektor.get(f"{API}/dialogs/{2**31 - 1}"), 404, "not found")
    assert _ok(api_client(planned_web, SECRETARY).get(f"{API}/dialogs/{own}"))["may_run"] is True

    invite = rektor.get(f"{API}/dialogs/{own}/invite.ics")
    assert invite.status_code == 200
    assert invite.headers["content-type"].startswith("text/calendar")
    assert Calendar.from_ical(invite.content).get("METHOD") == "REQUEST"
    _refused(rektor.get(f"{API}/dialogs/{other}/invite.ics"), 403)


def test_an_instance_with_its_timeline_for_those_who_may_read_it(planned_web: FastAPI) -> None:
    app = _core(planned_web)
    dialog_id = _dialog(app, "vastra-skolan").id
    head = _ok(api_client(planned_web, HEAD).get(f"{API}/instances/{dialog_id}"))
    assert head["kind"] == "dialog"
    assert head["state"] == "planned"
    assert head["final"] is False
    assert [e["trigger"] for e in head["timeline"]][:1] == ["plan"]
    assert head["checklist"]
    _refused(api_client(planned_web, OTHER).get(f"{API}/instances/{dialog_id}"), 403)
    _refused(api_client(planned_web, OTHER).get(f"{API}/instances/999999"), 404)


def test_the_overviews_are_scoped_to_the_reader(planned_web: FastAPI) -> None:
    director, rektor = api_client(planned_web, DIRECTOR), api_client(planned_web, RECTOR)
    everything = _ok(director.get(f"{API}/events", params={"year": 2026}))
    mine = _ok(rektor.get(f"{API}/events", params={"year": 2026}))
    assert {e["kind"] for e in everything} >= {"dialog"}
    assert 0 < len(mine) < len(everything)
    assert all(e["unit"] != "ekbackens-forskoleomrade" for e in mine)
    assert _ok(rektor.get(f"{API}/events")) == mine  # this year by default
    assert isinstance(_ok(director.get(f"{API}/assignments")), list)
    assert isinstance(_ok(director.get(f"{API}/scorecard")), list)
    for path in ("events", "assignments", "scorecard", "agenda", "desk", "feed-tokens", "me"):
        _refused(TestClient(planned_web).get(f"{API}/{path}"), 401)


def test_the_desk_lists_what_the_secretary_keeps(planned_web: FastAPI) -> None:
    desk = _ok(api_client(planned_web, SECRETARY).get(f"{API}/desk"))
    assert len(desk["to_hold"]) == 40
    assert desk["to_close"] == desk["closed"] == []
    refused = api_client(planned_web, RECTOR).get(f"{API}/desk")
    assert refused.status_code == 403
    assert "is no secretary today" in refused.json()["error"]


# --- actions on dialogs ------------------------------------------------------------------


def test_a_participant_ticks_their_own_step_not_anothers(planned_web: FastAPI) -> None:
    rektor = api_client(planned_web, RECTOR)
    entry = next(e for e in _ok(rektor.get(f"{API}/agenda")) if e["kind"] == "dialog")
    own = next(s for s in entry["steps"] if s["mine"] and s["done_at"] is None)
    others = next(s for s in entry["steps"] if not s["mine"])
    done = _ok(rektor.post(f"{API}/steps/{own['id']}/done"))
    assert done["id"] == own["id"]
    assert done["done_by"] == RECTOR
    assert done["instance"]["id"] == entry["id"]
    _refused(rektor.post(f"{API}/steps/{others['id']}/done"), 403, "mark checklist step")
    _refused(rektor.post(f"{API}/steps/{2**31 - 1}/done"), 404)


def test_a_dialog_held_followed_up_and_closed(planned_web: FastAPI, clock: FixedClock) -> None:
    app = _core(planned_web)
    dialog_id = _started(planned_web, clock)
    version = dialog_detail(app, dialog_id).dialog.version
    url = f"{API}/dialogs/{dialog_id}"
    body = {
        "minutes": "Vi gick igenom kvalitetsrapporten.",
        "agreements": [{"text": "Plan för närvaro", "owner": RECTOR, "due_on": "2026-12-01"}],
    }
    secretary = api_client(planned_web, SECRETARY)
    stale = secretary.post(f"{url}/held", json={**body, "expected_version": version - 1})
    _refused(stale, 409, "changed by someone else")
    _refused(api_client(planned_web, RECTOR).post(f"{url}/held", json=body), 403, "hold")
    unknown = {**body, "agreements": [{**body["agreements"][0], "owner": "x@example.se"}]}
    _refused(secretary.post(f"{url}/held", json=unknown), 400, "agreement[1].owner")
    assert dialog_detail(app, dialog_id).dialog.state == "preparing"

    held = _ok(secretary.post(f"{url}/held", json={**body, "expected_version": version}))
    assert held["state"] == "following_up"
    assert "close" in held["allowed"]
    _refused(secretary.post(f"{url}/held", json=body), 409, "cannot 'hold'")
    _refused(secretary.post(f"{url}/close"), 409, "still open")
    agreement = _ok(secretary.get(url))["agreements"][0]
    assert agreement["open"] is True
    _refused(api_client(planned_web, OTHER).post(f"{API}/agreements/{agreement['id']}/done"), 403)
    done = _ok(api_client(planned_web, RECTOR).post(f"{API}/agreements/{agreement['id']}/done"))
    assert done["done_by"] == RECTOR
    _refused(api_client(planned_web, RECTOR).post(f"{url}/close", json={"reason": "Klart"}), 403)
    closed = _ok(secretary.post(f"{url}/close", json={"reason": "Allt klart"}))
    assert closed["state"] == "closed"
    assert closed["final"] is True
    timeline = _ok(secretary.get(f"{API}/instances/{dialog_id}"))["timeline"]
    assert (timeline[-1]["trigger"], timeline[-1]["reason"]) == ("close", "Allt klart")


def test_an_agreement_carried_to_the_next_round(planned_web: FastAPI, clock: FixedClock) -> None:
    dialog_id, agreement, secretary = _held(planned_web, clock)
    url = f"{API}/agreements/{agreement}/carry"
    _refused(secretary.post(url), 400, "plan the next round first")
    plan_round(_core(planned_web), SchoolYear(2026), 2)
    _refused(secretary.post(url, json={"to_meeting": 5}), 400, "not to a meeting")
    _refused(api_client(planned_web, RECTOR).post(url), 403, "carry its agreements")
    carried = _ok(secretary.post(url, json={"due_on": "2027-02-01"}))
    assert carried["kind"] == "dialog"
    assert carried["from_instance"] == dialog_id
    assert carried["to_instance"] != dialog_id
    target = _ok(secretary.get(f"{API}/dialogs/{carried['to_instance']}"))
    assert [(a["id"], a["due_on"]) for a in target["agreements"]] == [
        (carried["new_agreement_id"], "2027-02-01")
    ]
    _refused(secretary.post(url), 400, "already carried")
    _refused(secretary.post(f"{API}/agreements/{2**31 - 1}/carry"), 404)


def test_a_dialog_postponed_and_cancelled(planned_web: FastAPI) -> None:
    app = _core(planned_web)
    row = _dialog(app, "vastra-skolan")
    url = f"{API}/dialogs/{row.id}"
    secretary = api_client(planned_web, SECRETARY)
    later = (row.starts_at + timedelta(days=7)).isoformat()
    sunday = datetime(2026, 10, 4, 10, tzinfo=STOCKHOLM).isoformat()
    _refused(
        secretary.post(f"{url}/postpone", json={"starts_at": sunday, "reason": "Krock"}),
        400,
        "starts_at",
        "not a working day",
    )
    _refused(
        api_client(planned_web, RECTOR).post(
            f"{url}/postpone", json={"starts_at": later, "reason": "Krock"}
        ),
        403,
    )
    far = datetime(9999, 12, 30, 10, tzinfo=STOCKHOLM).isoformat()  # no invite can say 10000
    _refused(
        secretary.post(f"{url}/postpone", json={"starts_at": far, "reason": "Krock"}),
        400,
        "starts_at",
        "more than 800 days",
    )
    moved = _ok(secretary.post(f"{url}/postpone", json={"starts_at": later, "reason": "Krock"}))
    assert moved["state"] == "planned"
    assert dialog_detail(app, row.id).dialog.starts_at == row.starts_at + timedelta(days=7)
    _refused(secretary.post(f"{url}/cancel", json={"reason": " "}), 400, "reason")
    _refused(api_client(planned_web, RECTOR).post(f"{url}/cancel", json={"reason": "Sjuk"}), 403)
    cancelled = _ok(secretary.post(f"{url}/cancel", json={"reason": "Rektor sjuk"}))
    assert cancelled["state"] == "cancelled"
    _refused(secretary.post(f"{url}/cancel", json={"reason": "Igen"}), 409, "cannot 'cancel'")


# --- meetings ----------------------------------------------------------------------------


def _meeting(app: App, day: int) -> int:
    return schedule_meeting(
        app, "lg", datetime(2026, 9, day, 13, tzinfo=STOCKHOLM), actor=SECRETARY, place="Jupiter"
    ).meeting_id


def test_a_meeting_from_agenda_to_closed(app: App, web: FastAPI, clock: FixedClock) -> None:
    first, second = _meeting(app, 8), _meeting(app, 22)
    url = f"{API}/meetings/{first}"
    secretary, director = api_client(web, SECRETARY), api_client(web, DIRECTOR)
    rektor = api_client(web, RECTOR)
    _refused(rektor.get(url), 403)
    _refused(secretary.post(f"{url}/send-agenda"), 400, "agenda is empty")
    item = add_agenda_item(app, first, actor=SECRETARY, kind="decision", title="Tidplan för VP")
    _refused(rektor.post(f"{url}/send-agenda"), 403)
    version = _ok(secretary.get(url))["version"]
    _refused(secretary.post(f"{url}/send-agenda", json={"expected_version": version + 1}), 409)
    sent = _ok(secretary.post(f"{url}/send-agenda", json={"expected_version": version}))
    assert sent["instance"]["state"] == "agenda_sent"
    assert sent["messages"] > 0
    _refused(secretary.post(f"{url}/send-agenda"), 409, "cannot 'send_agenda'")

    record = {
        "notes": "Tema: verksamhetsplanering",
        "items": [{"id": item, "decision": "Tidplanen fastställs.", "take_up_again": True}],
        "actions": [{"text": "Ta fram tidplan", "owner": HEAD, "due_on": "2026-10-01"}],
    }
    _refused(secretary.post(f"{url}/held", json=record), 409, "hold")  # not started yet
    clock.set(datetime(2026, 9, 8, 16, tzinfo=STOCKHOLM))  # sessions idle out: log in again
    secretary, director = api_client(web, SECRETARY), api_client(web, DIRECTOR)
    rektor = api_client(web, RECTOR)
    bad = {**record, "items": [{"id": item + 1000}]}
    _refused(secretary.post(f"{url}/held", json=bad), 400, "item[0].id", "no agenda item")
    held = _ok(secretary.post(f"{url}/held", json=record))
    assert held["instance"]["state"] == "held"
    assert held["resumed_at"] == second
    assert held["take_up_again"] == ["Tidplan för VP"]
    assert [a["text"] for a in _ok(secretary.get(url))["actions"]] == ["Ta fram tidplan"]

    _refused(secretary.post(f"{url}/approve"), 403, "approve")
    assert _ok(director.post(f"{url}/approve"))["state"] == "approved"
    _refused(secretary.post(f"{url}/close"), 409, "still open")
    action = held["actions"][0]
    _refused(rektor.post(f"{API}/agreements/{action}/carry"), 403)
    carried = _ok(secretary.post(f"{API}/agreements/{action}/carry", json={"to_meeting": second}))
    assert (carried["kind"], carried["to_instance"]) == ("meeting", second)
    assert [a.text for a in meeting_detail(app, second).actions] == ["Ta fram tidplan"]
    assert _ok(secretary.post(f"{url}/close", json={}))["state"] == "closed"


def test_a_meeting_postponed_and_cancelled(app: App, web: FastAPI) -> None:
    first, second = _meeting(app, 8), _meeting(app, 22)
    url = f"{API}/meetings/{first}"
    secretary = api_client(web, SECRETARY)
    taken = datetime(2026, 9, 22, 9, tzinfo=STOCKHOLM).isoformat()
    _refused(
        secretary.post(f"{url}/postpone", json={"starts_at": taken, "reason": "Krock"}),
        400,
        "already meets",
    )
    free = datetime(2026, 9, 15, 13, tzinfo=STOCKHOLM).isoformat()
    _refused(
        api_client(web, RECTOR).post(
            f"{url}/postpone", json={"starts_at": free, "reason": "Krock"}
        ),
        403,
    )
    moved = _ok(secretary.post(f"{url}/postpone", json={"starts_at": free, "reason": "Krock"}))
    assert moved["state"] == "planned"
    assert meeting_detail(app, first).meeting.starts_at.date() == date(2026, 9, 15)
    _refused(api_client(web, RECTOR).post(f"{url}/cancel", json={"reason": "Inget"}), 403)
    assert _ok(secretary.post(f"{url}/cancel", json={"reason": "Inget att ta upp"}))["final"]
    _refused(secretary.post(f"{url}/close"), 409)
    _refused(secretary.get(f"{API}/meetings/{2**31 - 1}"), 404)
    assert _ok(secretary.get(f"{API}/meetings/{second}"))["state"] == "planned"


# --- calendar feeds ----------------------------------------------------------------------


def test_feed_tokens_made_listed_and_revoked_only_by_their_owner(web: FastAPI) -> None:
    rektor = api_client(web, RECTOR)
    made = _ok(rektor.post(f"{API}/feed-tokens", json={"label": "Telefonen"}), 201)
    assert made["address"].startswith("http")
    feed = TestClient(web).get("/kalender/" + made["address"].rsplit("/", 1)[1])
    assert feed.status_code == 200
    listed = _ok(rektor.get(f"{API}/feed-tokens"))
    assert [(t["id"], t["label"], t["revoked_at"]) for t in listed] == [
        (made["feed"]["id"], "Telefonen", None)
    ]
    assert "address" not in listed[0]
    token_id = made["feed"]["id"]
    _refused(api_client(web, OTHER).delete(f"{API}/feed-tokens/{token_id}"), 403, "not theirs")
    _refused(rektor.post(f"{API}/feed-tokens", json={"label": "a\nb"}), 400, "label")
    revoked = _ok(rektor.delete(f"{API}/feed-tokens/{token_id}"))
    assert revoked["revoked_at"] is not None
    assert TestClient(web).get("/kalender/" + made["address"].rsplit("/", 1)[1]).status_code == 404
    _refused(rektor.delete(f"{API}/feed-tokens/{2**31 - 1}"), 404)


# --- the description ---------------------------------------------------------------------


def test_the_openapi_describes_every_answer(web: FastAPI) -> None:
    schema = TestClient(web).get(f"{API}/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    operations = [
        (path, method, op)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
        if path.startswith(API)
    ]
    assert len(operations) >= 27
    for path, method, op in operations:
        for status in ("400", "401", "403", "404", "409", "422"):
            content = op["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/ApiError"}, (path, method, status)
        success = [code for code in op["responses"] if code.startswith("2")]
        assert success, (path, method)
