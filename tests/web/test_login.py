"""Logging in and out, sessions, CSRF, lockout, and the error pages."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from styrhjul.clock import FixedClock
from styrhjul.services.accounts import set_disabled
from styrhjul.vocabulary import ROLES as ALL_ROLES
from styrhjul.web.render import ROLE_NAMES

from .webkit import PASSWORD, ROLES, csrf_of, logged_in


def test_a_page_without_login_redirects_to_the_login_page(web: FastAPI) -> None:
    client = TestClient(web, follow_redirects=False)
    answer = client.get("/?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/%3Fx%3D1"
    page = client.get("/login")
    assert page.status_code == 200
    assert "Logga in" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_login_sets_an_httponly_cookie_and_shows_the_start_page(web: FastAPI) -> None:
    client = logged_in(web, ROLES["director"])
    cookie = client.cookies.get("styrhjul_session")
    assert cookie
    start = client.get("/")
    assert start.status_code == 200
    assert "<h1>Välkommen, Utbildningsdirektör</h1>" in start.text
    assert "Försenat" in start.text


def test_the_menu_and_the_start_page_link_the_desk_for_secretaries_only(web: FastAPI) -> None:
    secretary = logged_in(web, ROLES["secretary"]).get("/").text
    assert secretary.count('href="/sekreterare"') == 2  # the menu and the card
    assert secretary.count('href="/oversikt/forsenat"') == 2
    rektor = logged_in(web, ROLES["rektor"]).get("/").text
    assert 'href="/sekreterare"' not in rektor
    assert rektor.count('href="/oversikt/forsenat"') == 2
    assert "Försenade steg i styrkedjan inom dina enheter" in rektor


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(web: FastAPI) -> None:
    client = TestClient(web, follow_redirects=False)
    client.get("/login")
    token = client.cookies.get("styrhjul_login_csrf")
    for email in (ROLES["director"], "nobody@example.se"):
        answer = client.post(
            "/login", data={"email": email, "password": "fel-losenord-123", "login_csrf": token}
        )
        assert answer.status_code == 401
        assert "Fel e-postadress eller lösenord" in answer.text
        token = client.cookies.get("styrhjul_login_csrf")


def test_login_without_the_double_submit_cookie_is_refused(web: FastAPI) -> None:
    client = TestClient(web, follow_redirects=False)
    answer = client.post(
        "/login", data={"email": ROLES["director"], "password": PASSWORD, "login_csrf": "x"}
    )
    assert answer.status_code == 400
    assert "styrhjul_session" not in answer.cookies


def test_an_account_is_locked_after_repeated_failures(web: FastAPI) -> None:
    settings = web.state.app.settings.web
    client = TestClient(web, follow_redirects=False)
    for _ in range(settings.max_failed_logins):
        client.get("/login")
        client.post(
            "/login",
            data={
                "email": ROLES["rektor"],
                "password": "fel-losenord-123",
                "login_csrf": client.cookies.get("styrhjul_login_csrf"),
            },
        )
    client.get("/login")
    answer = client.post(
        "/login",
        data={
            "email": ROLES["rektor"],
            "password": PASSWORD,
            "login_csrf": client.cookies.get("styrhjul_login_csrf"),
        },
    )
    assert answer.status_code == 401  # right password, but locked
    clock: FixedClock = web.state.app.clock
    clock.advance(timedelta(minutes=settings.lockout_minutes, seconds=1))
    assert logged_in(web, ROLES["rektor"]).get("/").status_code == 200


def test_logout_needs_the_csrf_token_and_ends_the_session(web: FastAPI) -> None:
    client = logged_in(web, ROLES["director"])
    refused = client.post("/logout", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert client.get("/").status_code == 200
    done = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert done.status_code == 303
    client.cookies.clear()
    # The old token no longer opens anything, even when sent again by hand.
    again = TestClient(web, follow_redirects=False)
    assert again.get("/").status_code == 303


def test_disabling_an_account_ends_its_sessions(web: FastAPI) -> None:
    client = logged_in(web, ROLES["area_head"])
    assert client.get("/").status_code == 200
    set_disabled(web.state.app, ROLES["area_head"], disabled=True)
    assert client.get("/").status_code == 303


def test_an_idle_session_ends(web: FastAPI) -> None:
    client = logged_in(web, ROLES["controller"])
    clock: FixedClock = web.state.app.clock
    clock.advance(timedelta(minutes=web.state.app.settings.web.session_idle_minutes + 1))
    assert client.get("/").status_code == 303


def test_a_used_session_stays_alive(web: FastAPI) -> None:
    client = logged_in(web, ROLES["controller"])
    clock: FixedClock = web.state.app.clock
    idle = timedelta(minutes=web.state.app.settings.web.session_idle_minutes)
    for _ in range(3):
        clock.advance(idle - timedelta(minutes=1))
        assert client.get("/").status_code == 200
    clock.advance(idle + timedelta(minutes=1))
    assert client.get("/").status_code == 303


def test_next_never_leads_off_the_site(web: FastAPI) -> None:
    client = TestClient(web, follow_redirects=False)
    client.get("/login")
    answer = client.post(
        "/login",
        data={
            "email": ROLES["director"],
            "password": PASSWORD,
            "login_csrf": client.cookies.get("styrhjul_login_csrf"),
            "next": "//evil.example.se/x",
        },
    )
    assert answer.headers["location"] == "/"


def test_an_unknown_page_is_a_swedish_404(web: FastAPI) -> None:
    client = logged_in(web, ROLES["director"])
    answer = client.get("/finns-inte")
    assert answer.status_code == 404
    assert "Hittades inte" in answer.text


def test_every_role_has_a_swedish_name() -> None:
    assert set(ROLE_NAMES) == set(ALL_ROLES)
