"""Logging in through the municipality's identity provider (OIDC, code flow with PKCE).

The provider is real: ``oidc_idp.FakeIdp`` on loopback, with discovery, JWKS, consent and a
token endpoint that checks the client secret and the PKCE verifier. The test plays the
browser: it takes the web app's redirect to the provider, visits it over HTTP, and brings
the provider's redirect back to the web app.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from support import write_config

from styrhjul.clock import FixedClock
from styrhjul.config import ENV_OIDC_CLIENT_SECRET, load_settings
from styrhjul.db.web import WebSession
from styrhjul.errors import ConfigError
from styrhjul.services.accounts import (
    account_history,
    create_account,
    list_accounts,
    set_disabled,
)
from styrhjul.services.context import App
from styrhjul.services.oidc import FIRST_LOGIN
from styrhjul.web.app import create_web_app

from .oidc_idp import FakeIdp, serving
from .webkit import ROLES, LiveServer, shot

BASE = "http://testserver"
CALLBACK = f"{BASE}/login/oidc/callback"
NEWCOMER = "rektor.lindhagens-forskoleomrade@example.se"
"""A person of the example organisation without an account."""


@pytest.fixture
def idp(clock: FixedClock) -> Iterator[FakeIdp]:
    with serving(FakeIdp(now=clock.now, redirect_uri=CALLBACK)) as running:
        yield running


@pytest.fixture
def oidc_web(app: App, idp: FakeIdp, tmp_path: Path, db_url: str) -> FastAPI:
    """The web app with [web.oidc] pointing at ``idp``; the rektor has an account already.

    It has no password: hashing the passwords of every role would only slow the tests.
    """
    folder = tmp_path / "oidc"
    folder.mkdir()
    extra = (
        f'\n[web]\nbase_url = "{BASE}"\n\n[web.oidc]\nenabled = true\n'
        f'issuer = "{idp.issuer}"\nclient_id = "{idp.client_id}"\n'
    )
    app.settings = load_settings(
        write_config(folder, db_url, extra), environ={ENV_OIDC_CLIENT_SECRET: idp.client_secret}
    )
    create_account(app, ROLES["rektor"])
    return create_web_app(app)


def browser(web: FastAPI) -> TestClient:
    return TestClient(web, base_url=BASE, follow_redirects=False)


def to_idp(client: TestClient, idp: FakeIdp, next_path: str = "/") -> str:
    """Start the login; the provider's redirect back (the callback URL with code and state)."""
    start = client.get(f"/login/oidc?next={quote(next_path)}")
    assert start.status_code == 303, start.text
    assert start.headers["location"].startswith(f"{idp.issuer}/authorize?")
    at_idp = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_idp.status_code == 302, at_idp.text
    back: str = at_idp.headers["location"]
    assert back.startswith(CALLBACK + "?")
    return back


def come_back(client: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def refusals(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [
        r.fields  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "styrhjul.web" and r.getMessage() == "access.refused"
    ]


# --- the whole flow ------------------------------------------------------------------------


def test_a_rektor_logs_in_through_the_identity_provider(oidc_web: FastAPI, idp: FakeIdp) -> None:
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"].upper()}
    client = browser(oidc_web)
    login_page = client.get("/login").text
    assert 'href="/login/oidc?next=/"' in login_page
    assert "Logga in med kommunens konto" in login_page

    back = to_idp(client, idp, "/mitt?vy=alla")
    sent = idp.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256"
    assert sent["scope"] == "openid email profile"
    assert client.cookies.get("styrhjul_oidc")

    answer = come_back(client, back)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/mitt?vy=alla"
    assert client.cookies.get("styrhjul_session")
    assert not client.cookies.get("styrhjul_oidc")  # one answer per started login
    token_request = idp.token_requests[-1]
    assert token_request["code_verifier"]
    assert token_request["authorization"].startswith("Basic ")
    start = client.get("/")
    assert start.status_code == 200
    assert "Välkommen, Rektor" in start.text
    with oidc_web.state.app.db.session() as session:
        methods = session.scalars(select(WebSession.method)).all()
    assert methods == ["oidc"]

    client.post("/logout", data={"csrf_token": _csrf(start.text)})
    assert client.get("/").status_code == 303  # the local session has ended


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_a_first_login_creates_an_account_without_password_or_admin(
    oidc_web: FastAPI, idp: FakeIdp
) -> None:
    app = oidc_web.state.app
    assert NEWCOMER not in {a.email for a in list_accounts(app)}
    idp.user = {"sub": "kommun-4712", "email": NEWCOMER}
    client = browser(oidc_web)
    assert come_back(client, to_idp(client, idp)).status_code == 303
    (row,) = [a for a in list_accounts(app) if a.email == NEWCOMER]
    assert (row.password, row.admin, row.disabled_at) == (False, False, None)
    assert row.last_login_at is not None
    (created,) = account_history(app, NEWCOMER)
    assert (created.trigger, created.actor) == ("create", FIRST_LOGIN)
    again = browser(oidc_web)
    assert come_back(again, to_idp(again, idp)).status_code == 303  # the same row, reused
    assert [a.email for a in list_accounts(app)].count(NEWCOMER) == 1


def test_next_never_leaves_the_site(oidc_web: FastAPI, idp: FakeIdp) -> None:
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"]}
    client = browser(oidc_web)
    answer = come_back(client, to_idp(client, idp, "https://elak.example.se/"))
    assert answer.headers["location"] == "/"


# --- refusals --------------------------------------------------------------------------------


def assert_refused(answer: httpx.Response, client: TestClient, status: int = 401) -> None:
    assert answer.status_code == status, answer.text
    assert not client.cookies.get("styrhjul_session")
    if status == 401:
        assert "Inloggningen med kommunens konto kunde inte slutföras" in answer.text


def test_a_wrong_or_missing_state_is_refused(
    oidc_web: FastAPI, idp: FakeIdp, caplog: pytest.LogCaptureFixture
) -> None:
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"]}
    client = browser(oidc_web)
    back = to_idp(client, idp)
    pending = client.cookies.get("styrhjul_oidc") or ""
    query = parse_qs(urlsplit(back).query)
    for state in ("x" * 43, "å" * 43):  # non-ASCII too: a refusal, never a crash
        forged = f"/login/oidc/callback?{urlencode({'code': query['code'][0], 'state': state})}"
        assert_refused(client.get(forged), client)
        assert "state" in str(refusals(caplog)[-1]["reason"])
        client.cookies.set("styrhjul_oidc", pending)
    assert idp.token_requests == []  # the code was never redeemed
    stranger = browser(oidc_web)  # another browser, without the pending-login cookie
    assert_refused(come_back(stranger, back), stranger)
    assert "cookie missing" in str(refusals(caplog)[-1]["reason"])


def test_a_replayed_code_is_refused(
    oidc_web: FastAPI, idp: FakeIdp, caplog: pytest.LogCaptureFixture
) -> None:
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"]}
    client = browser(oidc_web)
    back = to_idp(client, idp)
    pending = client.cookies.get("styrhjul_oidc")
    assert come_back(client, back).status_code == 303
    replay = browser(oidc_web)
    replay.cookies.set("styrhjul_oidc", pending or "")
    assert_refused(come_back(replay, back), replay)
    assert "invalid_grant" in str(refusals(caplog)[-1]["reason"])


def test_a_login_started_too_long_ago_is_refused(
    oidc_web: FastAPI, idp: FakeIdp, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"]}
    client = browser(oidc_web)
    back = to_idp(client, idp)
    clock.advance(timedelta(minutes=11))
    assert_refused(come_back(client, back), client)
    assert "start again" in str(refusals(caplog)[-1]["reason"])


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ({"foreign_key": True}, "Signature verification failed"),
        ({"overrides": {"aud": "en-annan-klient"}}, "Audience doesn't match"),
        ({"overrides": {"iss": "https://idp.example.se/realms/annan"}}, "Invalid issuer"),
        ({"overrides": {"exp": 1788245880}}, "expired at 2026-09-01 06:58:00 UTC"),
        ({"overrides": {"nonce": "en-annan-nonce"}}, "nonce is not the one"),
        ({"overrides": {"email_verified": False}}, "not verified"),
        ({"user": None}, "access_denied"),
    ],
    ids=["signature", "aud", "iss", "expired", "nonce", "unverified", "denied"],
)
def test_a_spoilt_answer_is_refused(
    oidc_web: FastAPI,
    idp: FakeIdp,
    caplog: pytest.LogCaptureFixture,
    spoil: dict[str, object],
    reason: str,
) -> None:
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"]}
    for name, value in spoil.items():
        setattr(idp, name, value)
    client = browser(oidc_web)
    assert_refused(come_back(client, to_idp(client, idp)), client)
    assert reason in str(refusals(caplog)[-1]["reason"])
    with oidc_web.state.app.db.session() as session:
        assert session.scalars(select(WebSession)).all() == []


def test_a_person_outside_the_organisation_is_refused_with_a_page_and_a_log_record(
    oidc_web: FastAPI, idp: FakeIdp, caplog: pytest.LogCaptureFixture
) -> None:
    idp.user = {"sub": "kommun-9999", "email": "konsult@example.se"}
    client = browser(oidc_web)
    with caplog.at_level(logging.WARNING, logger="styrhjul.web"):
        answer = come_back(client, to_idp(client, idp))
    assert_refused(answer, client, 403)
    assert "<h1>Du finns inte i Styrhjul</h1>" in answer.text
    assert "känner dig som konsult@example.se" in answer.text
    (record,) = refusals(caplog)
    assert record["status"] == 403
    assert record["who"] == "konsult@example.se"
    assert "kommun-9999" in str(record["reason"])
    assert "konsult@example.se" not in {a.email for a in list_accounts(oidc_web.state.app)}


def test_a_disabled_account_is_refused(
    oidc_web: FastAPI, idp: FakeIdp, caplog: pytest.LogCaptureFixture
) -> None:
    set_disabled(oidc_web.state.app, ROLES["rektor"], disabled=True)
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"]}
    client = browser(oidc_web)
    answer = come_back(client, to_idp(client, idp))
    assert_refused(answer, client, 403)
    assert "<h1>Kontot är avstängt</h1>" in answer.text
    assert refusals(caplog)[-1]["who"] == ROLES["rektor"]
    (row,) = [a for a in list_accounts(oidc_web.state.app) if a.email == ROLES["rektor"]]
    assert row.disabled_at is not None  # a login through the provider never enables it


def test_without_oidc_there_is_no_button_and_no_route(app: App) -> None:
    client = browser(create_web_app(app))
    assert "/login/oidc" not in client.get("/login").text
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_an_unreachable_provider_gives_a_clear_page(app: App, tmp_path: Path, db_url: str) -> None:
    with serving(FakeIdp(now=app.clock.now)) as gone:
        issuer = gone.issuer
    path = write_config(
        tmp_path,
        db_url,
        f'\n[web.oidc]\nenabled = true\nissuer = "{issuer}"\nclient_id = "styrhjul"\n',
    )
    app.settings = load_settings(path, environ={ENV_OIDC_CLIENT_SECRET: "hemlig"})
    answer = browser(create_web_app(app)).get("/login/oidc")
    assert answer.status_code == 502
    assert "Kommunens inloggningstjänst svarar inte just nu" in answer.text


# --- in the browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_a_rektor_logs_in_with_the_button_in_chromium(
    app: App, idp: FakeIdp, tmp_path: Path, db_url: str, browser: Any
) -> None:
    idp.user = {"sub": "kommun-4711", "email": ROLES["rektor"]}
    with LiveServer(create_web_app(app)) as live:
        extra = (
            f'\n[web]\nbase_url = "{live.url}"\n\n[web.oidc]\nenabled = true\n'
            f'issuer = "{idp.issuer}"\nclient_id = "{idp.client_id}"\n'
        )
        folder = tmp_path / "live"
        folder.mkdir()
        app.settings = load_settings(
            write_config(folder, db_url, extra),
            environ={ENV_OIDC_CLIENT_SECRET: idp.client_secret},
        )
        idp.redirect_uri = f"{live.url}/login/oidc/callback"
        browser.get(f"{live.url}/mitt")
        button = browser.find_element(By.CSS_SELECTOR, ".login .oidc a.button")
        assert button.text == "Logga in med kommunens konto"
        shot(browser, "login-oidc", tmp_path)
        button.click()
        WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/mitt"))
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Mina dialoger")
        assert idp.token_requests, "the code was redeemed at the provider"


# --- configuration -----------------------------------------------------------------------------

GOOD = """
[web.oidc]
enabled = true
issuer = "https://login.example.se/realms/kommunen"
client_id = "styrhjul"
"""


@pytest.mark.parametrize(
    ("change", "environ", "key", "message"),
    [
        ("", {}, "$STYRHJUL_OIDC_CLIENT_SECRET", "client secret is needed"),
        ('client_id = "styrhjul"', {}, "web.oidc.client_id", "needed when web.oidc.enabled"),
        ("https://login", None, "web.oidc.issuer", "expected an https:// URL"),
        ('scopes = "email"', None, "web.oidc.scopes", "must include 'openid'"),
        ('claim = "e mail"', None, "web.oidc.claim", "should match pattern"),
        ('button_label = ""', None, "web.oidc.button_label", "at least 1 character"),
        ('client_secret = "x"', None, "web.oidc.client_secret", "$STYRHJUL_OIDC_CLIENT_SECRET"),
        ("enabled = true", None, "web.oidc.enabled", "valid boolean"),
        ('prompt = "login"', None, "web.oidc.prompt", "unknown key"),
    ],
    ids=["secret", "client_id", "issuer", "scopes", "claim", "label", "in-file", "type", "key"],
)
def test_config_errors_name_the_key(
    tmp_path: Path, change: str, environ: dict[str, str] | None, key: str, message: str
) -> None:
    text = textwrap.dedent(GOOD)
    if change == 'client_id = "styrhjul"':
        text = text.replace(change, "")
    elif change == "https://login":
        text = text.replace(change, "http://login")
    elif change == "enabled = true":
        text = text.replace(change, 'enabled = "ja"')
    else:
        text += change + "\n"
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    env = {ENV_OIDC_CLIENT_SECRET: "hemlig"} if environ is None else environ
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=env)
    assert caught.value.key == key
    assert message in str(caught.value)


def test_loopback_issuers_may_use_plain_http(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = textwrap.dedent(GOOD).replace("https://login.example.se", "http://localhost:8443")
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path, environ={ENV_OIDC_CLIENT_SECRET: "hemlig"})
    assert settings.web.oidc.issuer == "http://localhost:8443/realms/kommunen"
    assert settings.web.oidc.claim == "email"
    assert settings.secrets == {ENV_OIDC_CLIENT_SECRET: "hemlig"}
