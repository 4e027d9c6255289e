"""What one overdue page costs the web app: its statements, and its heap between requests.

The page must stay fast at a million steps (``bench/overdue_view.py``); these tests pin the
two things a change most easily breaks without any other test noticing: a statement more
per request (a lookup per row, a scope read twice), and the frozen startup heap that keeps
Python's full collections out of requests. Round 1 of 2026/27 is planned and a month has
passed, so the first page holds a hundred of 236 overdue steps.
"""

from __future__ import annotations

import gc
import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlcount import statements

from styrhjul.services.context import App

from .webkit import ROLES, logged_in

DIRECTOR_STATEMENTS = (
    "web_session",  # the session, its account and person (accounts.session_for)
    "role_assignment",  # the roles held today: the director reads everything
    "count(*)",  # the capped count
    "checklist_item",  # the page of steps, one more to tell whether a next page follows
    "up",  # the page's units and their areas, walking up the tree
    "org_unit",  # the units of the filter menus
)
"""The statements of the director's first overdue page, in order: one thing each reads."""


def _late(web: FastAPI) -> App:
    app: App = web.state.app
    app.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    return app


def _first_table(statement: str) -> str:
    """What a statement reads: a recursive walk's name, ``count(*)``, or its first table."""
    found = re.match(r"WITH RECURSIVE (\w+)", statement)
    if found is not None:
        return found.group(1)
    if statement.startswith("SELECT count(*)"):
        return "count(*)"
    found = re.search(r"\bFROM (\w+)", statement)
    assert found is not None, statement
    return found.group(1)


def test_the_director_s_overdue_page_is_sixstatements(planned_web: FastAPI) -> None:
    app = _late(planned_web)
    client = logged_in(planned_web, ROLES["director"])
    client.get("/oversikt/forsenat")  # the session's last-seen time is written once a minute
    with statements(app) as first:
        page = client.get("/oversikt/forsenat")
    assert page.status_code == 200
    assert "Visar <strong>1–100</strong>" in page.text
    assert tuple(_first_table(s) for s in first) == DIRECTOR_STATEMENTS, first
    with statements(app) as narrow:
        page = client.get("/oversikt/forsenat?enhet=vastra-skolan")
    assert page.status_code == 200
    # a filter by unit looks the unit up by its code: one more, whatever the page holds
    assert len(narrow) == len(DIRECTOR_STATEMENTS) + 1, narrow
    following = _next(client.get("/oversikt/forsenat").text)
    assert following is not None
    for cursor in (following, "sista"):  # a page after a cursor; the last (counted exactly)
        with statements(app) as other:
            assert client.get(f"/oversikt/forsenat?sida={cursor}").status_code == 200
        assert tuple(_first_table(s) for s in other) == DIRECTOR_STATEMENTS, other


def _next(html: str) -> str | None:
    found = re.search(r'href="/oversikt/forsenat\?[^"]*sida=([^"&]+)[^"]*" rel="next"', html)
    return found.group(1) if found else None


def test_an_area_head_s_page_reads_their_units_once(planned_web: FastAPI) -> None:
    """A scoped reader's page adds one statement: the subtrees of the units they hold.

    The head of Grundskola norr holds roles in three units; one walk reads all three.
    """
    app = _late(planned_web)
    client = logged_in(planned_web, ROLES["area_head"])
    client.get("/oversikt/forsenat")
    with statements(app) as seen:
        page = client.get("/oversikt/forsenat")
    assert page.status_code == 200
    assert "Grundskola norr" in page.text
    assert len(seen) == len(DIRECTOR_STATEMENTS) + 1, seen
    assert [_first_table(s) for s in seen].count("held") == 1, seen


def test_the_heap_is_frozen_while_the_app_serves(planned_web: FastAPI) -> None:
    """Startup freezes the heap it has (no full collection walks it); shutdown thaws it."""
    assert gc.get_freeze_count() == 0
    with TestClient(planned_web, base_url="http://testserver") as client:
        assert gc.get_freeze_count() > 10_000
        assert client.get("/login").status_code == 200
    assert gc.get_freeze_count() == 0


SECURITY = {
    "content-security-policy": "default-src 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.mark.parametrize(
    ("path", "status", "no_store"),
    [
        ("/login", 200, True),
        ("/oversikt/forsenat", 303, True),  # no login: to the login page
        ("/finns-inte", 404, True),
        ("/api/v1/overdue", 401, False),
        ("/static/styrhjul.css", 200, False),
    ],
)
def test_every_answer_carries_the_security_headers(
    planned_web: FastAPI, path: str, status: int, no_store: bool
) -> None:
    client = TestClient(planned_web, base_url="http://testserver", follow_redirects=False)
    answer = client.get(path)
    assert answer.status_code == status
    for name, start in SECURITY.items():
        assert answer.headers[name].startswith(start), name
        assert len(answer.headers.get_list(name)) == 1, name
    assert (answer.headers.get("cache-control") == "no-store") is no_store
