"""The JSON API's admin routes on both databases: the same services and rules as the pages.

Checked by what they change (``log_in`` and the account listing), by the JSON errors
(403 for non-administrators on every route, for an administrator's own account, 404, 422),
and by the OpenAPI description, which types every answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from styrhjul.db.models import Instance
from styrhjul.services.accounts import OPERATOR, account_history, list_accounts, log_in
from styrhjul.services.context import App

from .webkit import PASSWORD, ROLES, account_id_of, logs_in

ADMIN, RECTOR = ROLES["admin"], ROLES["rektor"]
NEWCOMER = "verksamhetschef.forskola@example.se"
NEW_PASSWORD = "ett-nytt-losenord-2026"
ROUTES = [
    ("GET", "/api/v1/admin/accounts"),
    ("POST", "/api/v1/admin/accounts"),
    ("POST", "/api/v1/admin/accounts/1/disable"),
    ("POST", "/api/v1/admin/accounts/1/enable"),
    ("POST", "/api/v1/admin/accounts/1/unlock"),
    ("PUT", "/api/v1/admin/accounts/1/admin"),
    ("DELETE", "/api/v1/admin/accounts/1/admin"),
    ("GET", "/api/v1/admin/people"),
    ("GET", "/api/v1/admin/workflows"),
]


def _core(web: FastAPI) -> App:
    app: App = web.state.app
    return app


def _bearer(web: FastAPI, email: str) -> TestClient:
    """A client with a bearer token of ``email`` (as an API client logs in)."""
    token = log_in(_core(web), email, PASSWORD).token
    return TestClient(web, headers={"Authorization": f"Bearer {token}"})


def test_the_openapi_lists_every_admin_route_with_typed_answers(web: FastAPI) -> None:
    spec = TestClient(web).get("/api/v1/openapi.json").json()
    for method, path in ROUTES:
        templated = path.replace("/1/", "/{account_id}/")
        operation = spec["paths"][templated][method.lower()]
        assert "admin" in operation["tags"]
        ok = next(code for code in operation["responses"] if code.startswith("2"))
        assert "$ref" in str(operation["responses"][ok]["content"]), (method, path)
    assert "AccountOut" in spec["components"]["schemas"]


def test_every_admin_route_refuses_a_non_administrator(web: FastAPI) -> None:
    client = _bearer(web, RECTOR)
    for method, path in ROUTES:
        body: dict[str, Any] | None = {"email": NEWCOMER} if path.endswith("accounts") else None
        answer = client.request(method, path, json=body)
        assert answer.status_code == 403, (method, path)
        assert "is not an administrator" in answer.json()["error"]
    assert NEWCOMER not in [a.email for a in list_accounts(_core(web))]
    assert TestClient(web).get("/api/v1/admin/accounts").status_code == 401


def test_accounts_are_listed_created_disabled_and_enabled(web: FastAPI) -> None:
    app = _core(web)
    client = _bearer(web, ADMIN)
    rows = client.get("/api/v1/admin/accounts").json()
    assert {r["email"] for r in rows} == set(ROLES.values())
    assert {r["state"] for r in rows} == {"active"}
    made = client.post("/api/v1/admin/accounts", json={"email": NEWCOMER, "password": NEW_PASSWORD})
    assert made.status_code == 201
    account = made.json()
    assert (account["email"], account["admin"], account["state"]) == (NEWCOMER, False, "active")
    assert logs_in(app, NEWCOMER, NEW_PASSWORD)
    disabled = client.post(f"/api/v1/admin/accounts/{account['id']}/disable")
    assert disabled.json()["state"] == "disabled"
    assert not logs_in(app, NEWCOMER, NEW_PASSWORD)
    enabled = client.post(f"/api/v1/admin/accounts/{account['id']}/enable")
    assert enabled.json()["state"] == "active"
    assert [e.actor for e in account_history(app, NEWCOMER)] == [ADMIN] * 3
    assert [(e.trigger, e.actor) for e in account_history(app, RECTOR)] == [
        ("create", OPERATOR)  # made by make_accounts, as `styrhjul account create` does
    ]
    again = client.post("/api/v1/admin/accounts", json={"email": NEWCOMER})
    assert again.status_code == 400
    assert "already has an account" in again.json()["error"]


def test_bad_account_requests_name_what_is_wrong(web: FastAPI) -> None:
    client = _bearer(web, ADMIN)
    unknown = client.post("/api/v1/admin/accounts", json={"email": "ingen@example.se"})
    assert unknown.status_code == 404
    assert "ingen@example.se" in unknown.json()["error"]
    extra = client.post("/api/v1/admin/accounts", json={"email": NEWCOMER, "roll": "x"})
    assert extra.status_code == 422
    assert "roll" in extra.json()["error"]
    short = client.post("/api/v1/admin/accounts", json={"email": NEWCOMER, "password": "kort"})
    assert short.status_code == 400
    assert "password" in short.json()["error"]
    assert client.post("/api/v1/admin/accounts/9999/disable").status_code == 404
    assert client.post(f"/api/v1/admin/accounts/{2**40}/disable").status_code == 422


def test_admin_is_granted_and_revoked_but_never_ones_own(web: FastAPI) -> None:
    app = _core(web)
    client = _bearer(web, ADMIN)
    me, rektor = account_id_of(app, ADMIN), account_id_of(app, RECTOR)
    for answer in (
        client.delete(f"/api/v1/admin/accounts/{me}/admin"),
        client.post(f"/api/v1/admin/accounts/{me}/disable"),
    ):
        assert answer.status_code == 403
        assert "their own" in answer.json()["error"]
    granted = client.put(f"/api/v1/admin/accounts/{rektor}/admin")
    assert granted.json()["admin"] is True
    assert _bearer(web, RECTOR).get("/api/v1/admin/people").status_code == 200
    revoked = client.delete(f"/api/v1/admin/accounts/{rektor}/admin")
    assert revoked.json()["admin"] is False
    assert _bearer(web, RECTOR).get("/api/v1/admin/people").status_code == 403


def test_a_locked_account_is_unlocked(web: FastAPI) -> None:
    app = _core(web)
    for _ in range(app.settings.web.max_failed_logins):
        assert not logs_in(app, RECTOR, "fel-losenord-fel-losenord")
    client = _bearer(web, ADMIN)
    rektor = account_id_of(app, RECTOR)
    [row] = [r for r in client.get("/api/v1/admin/accounts").json() if r["id"] == rektor]
    assert row["state"] == "locked"
    assert row["locked_until"].startswith("2026-09-01T")
    assert client.post(f"/api/v1/admin/accounts/{rektor}/unlock").json()["state"] == "active"
    assert logs_in(app, RECTOR)
    assert client.post(f"/api/v1/admin/accounts/{rektor}/unlock").status_code == 400


@pytest.mark.parametrize(("q", "expected"), [("", 68), ("västra", None), ("ingen-sådan", 0)])
def test_people_are_listed_and_searched(web: FastAPI, q: str, expected: int | None) -> None:
    body = _bearer(web, ADMIN).get("/api/v1/admin/people", params={"q": q}).json()
    if expected is not None:
        assert body["total"] == expected
        return
    rektor = next(p for p in body["people"] if p["email"] == RECTOR)
    assert {"role": "rektor", "unit_code": "vastra-skolan", "unit_name": "Västra skolan"} in (
        rektor["roles"]
    )
    assert rektor["account"] == "active"


def test_workflows_are_listed_with_instances_per_version(planned_web: FastAPI) -> None:
    with _core(planned_web).db.session() as session:
        counted = dict(
            session.execute(
                select(Instance.workflow, func.count()).group_by(Instance.workflow)
            ).all()
        )
    assert sum(counted.values()) == 40  # the planned round, nothing finished yet
    rows = _bearer(planned_web, ADMIN).get("/api/v1/admin/workflows").json()
    assert len(rows) == 11
    for row in rows:
        assert row["version"] == 1
        running = counted.get(row["name"], 0)
        expected = [(1, running, 0)] if running else []
        assert [(v["version"], v["running"], v["finished"]) for v in row["versions"]] == expected
