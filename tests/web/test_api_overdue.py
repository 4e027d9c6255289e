"""``GET /api/v1/overdue``: the overdue steps a page at a time, as Försenat shows them.

Round 1 of 2026/27 is planned and a month has passed: 236 preparation steps are overdue
for the director. Each client logs in for a bearer token, as API clients do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from styrhjul.services.context import App

from .webkit import ROLES, api_client

API = "/api/v1"
NORR = "grundskola-norr"
SCHOOL = "vastra-skolan"


@pytest.fixture
def late_web(planned_web: FastAPI) -> FastAPI:
    app: App = planned_web.state.app
    app.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    return planned_web


def _get(client: TestClient, **params: Any) -> Any:
    answer = client.get(f"{API}/overdue", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_director_pages_through_every_overdue_step(late_web: FastAPI) -> None:
    client = api_client(late_web, ROLES["director"])
    first = _get(client)
    assert (first["first"], first["total"], first["total_exact"], first["size"]) == (
        1,
        236,
        True,
        100,
    )
    assert len(first["items"]) == 100
    assert first["previous"] is None
    assert first["last"] == "sista"
    step = first["items"][0]
    assert {"id", "title", "instance_id", "level", "unit", "area", "due_at", "days_overdue"} <= set(
        step
    )
    ids = [s["id"] for s in first["items"]]
    page = first
    while page["next"] is not None:
        page = _get(client, cursor=page["next"])
        ids += [s["id"] for s in page["items"]]
    assert page["first"] == 201
    assert len(ids) == len(set(ids)) == 236
    days = [s["days_overdue"] for s in first["items"]]
    assert days == sorted(days, reverse=True)
    back = _get(client, cursor=page["previous"])
    assert back["first"] == 101
    assert [s["id"] for s in back["items"]] == ids[100:200]
    last = _get(client, cursor="sista", size=10)
    assert (last["first"], last["next"], [s["id"] for s in last["items"]]) == (227, None, ids[-10:])


def test_filters_and_scope_match_the_page_and_are_kept_in_sql(late_web: FastAPI) -> None:
    director = api_client(late_web, ROLES["director"])
    norr = _get(director, area=NORR, size=500)
    school = _get(director, area=NORR, unit=SCHOOL, size=500)
    assert 0 < school["total"] < norr["total"] < 236
    assert {s["unit"] for s in school["items"]} == {SCHOOL}
    assert {s["area"] for s in norr["items"]} == {NORR}
    late = _get(director, min_days=5, level="area_rektor", size=500)
    assert late["items"]
    assert all(s["days_overdue"] >= 5 for s in late["items"])
    head = api_client(late_web, ROLES["area_head"])
    theirs = _get(head, size=500)
    assert theirs["total"] == norr["total"]
    assert {s["id"] for s in theirs["items"]} == {s["id"] for s in norr["items"]}
    mine = _get(api_client(late_web, ROLES["rektor"]), size=500)
    assert {s["unit"] for s in mine["items"]} == {SCHOOL}
    assert _get(director, level="assignment")["items"] == []


@pytest.mark.parametrize(
    ("query", "status", "named"),
    [
        ({"cursor": "e0.1.1"}, 400, "cursor"),
        ({"cursor": "nonsense"}, 400, "cursor"),
        ({"cursor": "e1.999999999999999999.1"}, 400, "cursor"),
        ({"cursor": "x" * 81}, 422, "cursor"),
        ({"level": "principal"}, 400, "level"),
        ({"unit": "nowhere"}, 400, "unit"),
        ({"area": "ekbackens-forskoleomrade"}, 400, "area"),  # not among the rektor's units
        ({"unit": "a\x00b"}, 422, "unit"),
        ({"assignee": "x\x00@example.se"}, 422, "assignee"),
        ({"min_days": "-1"}, 422, "min_days"),
        ({"min_days": "fem"}, 422, "min_days"),
        ({"min_days": "401"}, 422, "min_days"),
        ({"size": "0"}, 422, "size"),
        ({"size": "501"}, 422, "size"),
        ({"size": "99999999999999999999999"}, 422, "size"),
    ],
)
def test_bad_values_are_4xx_naming_the_parameter(
    planned_web: FastAPI, query: dict[str, str], status: int, named: str
) -> None:
    client = api_client(planned_web, ROLES["rektor"])
    answer = client.get(f"{API}/overdue", params=query)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status
    assert named in body["error"]


def test_nothing_overdue_and_no_login(planned_web: FastAPI) -> None:
    empty = _get(api_client(planned_web, ROLES["director"]))
    assert empty == {"items": [], "first": 0, "total": 0, "total_exact": True, "size": 100,
                     "next": None, "previous": None, "last": None}  # fmt: skip
    anonymous = TestClient(planned_web, base_url="http://testserver")
    assert anonymous.get(f"{API}/overdue").status_code == 401


def test_openapi_describes_the_route_and_its_answer(planned_web: FastAPI) -> None:
    schema = TestClient(planned_web).get(f"{API}/openapi.json").json()
    operation = schema["paths"][f"{API}/overdue"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"level", "area", "unit", "assignee", "min_days", "cursor", "size"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/OverduePageOut"}
    page = schema["components"]["schemas"]["OverduePageOut"]
    assert {"items", "first", "total", "total_exact", "next", "previous", "last"} <= set(
        page["properties"]
    )
    assert "days_overdue" in schema["components"]["schemas"]["OverdueStepOut"]["properties"]
