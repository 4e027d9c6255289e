"""Shared helpers of the web tests: accounts for each role, a live server, a browser.

``ROLES`` names one person of the example organisation for each kind of user. Every one
gets an account with :data:`PASSWORD`. :class:`LiveServer` runs the real web app under
uvicorn on 127.0.0.1 in a thread; :func:`chromium` starts Debian's chromium (headless)
through its chromedriver, never a downloaded browser.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from support import free_port

from styrhjul.db.models import Person
from styrhjul.db.web import WebAccount
from styrhjul.services.accounts import create_account
from styrhjul.services.context import App

PASSWORD = "ett-langt-losenord-2026"
ROLES = {
    "director": "utbildningsdirektor@example.se",
    "controller": "chefscontroller@example.se",
    "secretary": "sekreterare.ledningsgrupp@example.se",
    "area_head": "verksamhetschef.grundskola-norr@example.se",
    "rektor": "rektor.vastra-skolan@example.se",
    "other_rektor": "rektor.ekbackens-forskoleomrade@example.se",
    "admin": "avdelningschef.administration-juridik@example.se",
}
"""One person per kind of user (``admin`` is an administrator account)."""


@functools.cache
def _password_hash() -> str:
    """A real Argon2id hash of :data:`PASSWORD`, made once: a hash costs about 0.1 s, and
    every web test would otherwise pay for seven of them before it starts."""
    return PasswordHasher().hash(PASSWORD)


def make_accounts(app: App) -> dict[str, str]:
    """An account with :data:`PASSWORD` for each of :data:`ROLES`; returns ROLES.

    The accounts are made by the service, then given the one precomputed hash; logging in
    still verifies it with Argon2 as in production.
    """
    for kind, email in ROLES.items():
        create_account(app, email, admin=kind == "admin")
    with app.db.session() as session:
        session.execute(
            update(WebAccount)
            .where(
                WebAccount.person_id.in_(select(Person.id).where(Person.email.in_(ROLES.values())))
            )
            .values(password_hash=_password_hash())
        )
    return ROLES


def logged_in(web: FastAPI, email: str) -> TestClient:
    """A client with a session of ``email``, its CSRF token sent with every request."""
    client = TestClient(web, base_url="http://testserver", follow_redirects=False)
    page = client.get("/login")
    token = page.cookies.get("styrhjul_login_csrf") or client.cookies.get("styrhjul_login_csrf")
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "login_csrf": token or "", "next": "/"},
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's session, read from the start page's logout form."""
    html = client.get("/").text
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


class LiveServer:
    """The web app under uvicorn on loopback, in a thread, for the browser tests."""

    def __init__(self, web: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(web, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def chromium(downloads: Path | None = None) -> Any:
    """Debian's chromium, headless, driven through Debian's chromedriver."""
    from selenium import webdriver  # noqa: PLC0415 - only the browser tests need it
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1366,900",
        "--lang=sv-SE",
    ):
        options.add_argument(argument)
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def shot(browser: Any, name: str, fallback: Path) -> Path:
    """Save a screenshot to ``$STYRHJUL_SCREENSHOTS`` (to look at) or ``fallback``."""
    folder = Path(os.environ.get("STYRHJUL_SCREENSHOTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def account_id_of(app: App, email: str) -> int:
    """The id of the account of ``email`` (StopIteration if there is none)."""
    from styrhjul.services.accounts import list_accounts  # noqa: PLC0415 - kept beside the helpers using it

    return next(a.id for a in list_accounts(app) if a.email == email)


def logs_in(app: App, email: str, password: str = PASSWORD) -> bool:
    """Whether ``email`` can log in with ``password`` now (the service, not a page)."""
    from styrhjul.errors import NotAuthenticated  # noqa: PLC0415 - kept beside the helpers using it
    from styrhjul.services.accounts import log_in  # noqa: PLC0415

    try:
        log_in(app, email, password)
    except NotAuthenticated:
        return False
    return True


def api_client(web: FastAPI, email: str) -> TestClient:
    """A client of the JSON API with a bearer token of ``email`` (and no cookie)."""
    client = TestClient(web, base_url="http://testserver")
    answer = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return client
