"""The participant's pages: /mitt, ticking a step, the invite download and the feed links."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar

from .webkit import ROLES, csrf_of, logged_in


def _mine(client: TestClient) -> str:
    answer = client.get("/mitt")
    assert answer.status_code == 200, answer.text
    return answer.text


def _first_dialog(html: str) -> int:
    found = re.search(r'href="/arenden/(\d+)"', html)
    assert found, "no dialog on /mitt"
    return int(found.group(1))


def _my_open_steps(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'action="/steg/(\d+)/klar"', html)]


def _others_step(html: str) -> int:
    found = re.search(r'<tr class="" id="steg-(\d+)">', html)
    assert found, "no step of someone else on /mitt"
    return int(found.group(1))


def test_a_rektor_sees_their_dialog_and_their_steps_marked(planned_web: FastAPI) -> None:
    html = _mine(logged_in(planned_web, ROLES["rektor"]))
    assert "Verksamhetsdialog Västra skolan" in html
    assert 'class="mine"' in html
    assert "ditt steg" in html
    assert len(_my_open_steps(html)) >= 2
    assert "/dialoger/" in html
    assert "inbjudan.ics" in html


def test_someone_without_dialogs_gets_an_empty_state(planned_web: FastAPI) -> None:
    html = _mine(logged_in(planned_web, ROLES["admin"]))
    assert "Inga kommande dialoger eller möten" in html


def test_ticking_a_step_marks_it_done(planned_web: FastAPI) -> None:
    client = logged_in(planned_web, ROLES["rektor"])
    html = _mine(client)
    step = _my_open_steps(html)[0]
    answer = client.post(f"/steg/{step}/klar", data={"csrf_token": csrf_of(client)})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/mitt?klart=")
    after = client.get(answer.headers["location"]).text
    assert step not in _my_open_steps(after)
    row = after[after.index(f'id="steg-{step}"') :]
    assert "Klart" in row[: row.index("</tr>")]
    assert 'class="flash"' in after


def test_ticking_without_the_csrf_token_is_refused(planned_web: FastAPI) -> None:
    client = logged_in(planned_web, ROLES["rektor"])
    step = _my_open_steps(_mine(client))[0]
    for data in ({}, {"csrf_token": "fel"}):
        answer = client.post(f"/steg/{step}/klar", data=data)
        assert answer.status_code == 403
        assert "Åtkomst nekad" in answer.text
    assert step in _my_open_steps(_mine(client))


def test_ticking_another_persons_step_is_refused_by_the_service(planned_web: FastAPI) -> None:
    client = logged_in(planned_web, ROLES["rektor"])
    html = _mine(client)
    step = _others_step(html)
    answer = client.post(f"/steg/{step}/klar", data={"csrf_token": csrf_of(client)})
    assert answer.status_code == 403
    assert "holds rektor here" in answer.text  # the service names who may tick it
    assert f'<tr class="" id="steg-{step}">' in _mine(client)


def test_the_invite_is_the_calendar_part_of_the_mail(planned_web: FastAPI) -> None:
    client = logged_in(planned_web, ROLES["rektor"])
    dialog = _first_dialog(_mine(client))
    answer = client.get(f"/dialoger/{dialog}/inbjudan.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert "attachment" in answer.headers["content-disposition"]
    calendar = Calendar.from_ical(answer.content)
    assert calendar["METHOD"] == "REQUEST"
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert "Västra skolan" in str(events[0]["SUMMARY"])
    attendees = [str(a).lower() for a in events[0].get("ATTENDEE")]
    assert f"mailto:{ROLES['rektor']}" in attendees


def test_another_units_rektor_may_not_download_the_invite(planned_web: FastAPI) -> None:
    dialog = _first_dialog(_mine(logged_in(planned_web, ROLES["rektor"])))
    other = logged_in(planned_web, ROLES["other_rektor"])
    answer = other.get(f"/dialoger/{dialog}/inbjudan.ics")
    assert answer.status_code == 403
    assert "Åtkomst nekad" in answer.text


def test_a_feed_link_is_made_used_and_revoked(planned_web: FastAPI) -> None:
    client = logged_in(planned_web, ROLES["rektor"])
    assert "Du har ingen kalenderlänk ännu" in client.get("/mitt/kalender").text
    made = client.post(
        "/mitt/kalender", data={"csrf_token": csrf_of(client), "label": "Outlook på jobbet"}
    )
    assert made.status_code == 200
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', made.text)
    assert url, made.text
    path = url.group(1)[url.group(1).index("/kalender/") :]
    assert "Outlook på jobbet" in made.text
    assert 'src="/static/copy.js"' in made.text
    anonymous = TestClient(planned_web)
    feed = anonymous.get(path)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert b"Verksamhetsdialog V" in feed.content
    assert len(list(Calendar.from_ical(feed.content).walk("VEVENT"))) >= 1
    listing = client.get("/mitt/kalender").text
    assert path not in listing  # shown once only
    token_id = re.search(r'action="/mitt/kalender/(\d+)/aterkalla"', listing)
    assert token_id
    other = logged_in(planned_web, ROLES["other_rektor"])
    refused = other.post(
        f"/mitt/kalender/{token_id.group(1)}/aterkalla", data={"csrf_token": csrf_of(other)}
    )
    assert refused.status_code == 403
    assert anonymous.get(path).status_code == 200
    revoked = client.post(
        f"/mitt/kalender/{token_id.group(1)}/aterkalla", data={"csrf_token": csrf_of(client)}
    )
    assert revoked.status_code == 303
    assert "Återkallad" in client.get(revoked.headers["location"]).text
    gone = anonymous.get(path)
    assert gone.status_code == 404
    assert anonymous.get("/kalender/inget-sadant.ics").status_code == 404
    assert gone.text == anonymous.get("/kalender/inget-sadant.ics").text
