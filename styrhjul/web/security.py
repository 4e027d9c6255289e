"""Sessions, CSRF and the caller of a request.

A browser carries its session in the ``styrhjul_session`` cookie (HttpOnly, SameSite=Lax,
Secure when ``web.secure_cookies``); an API client sends the same kind of token as
``Authorization: Bearer``. Every unsafe request made with the cookie must echo the
session's CSRF token: forms in the hidden field ``csrf_token``, scripts in the
``X-CSRF-Token`` header. A bearer token is no ambient credential, so it needs no CSRF token.
The login form has no session yet; it is protected by a double-submit cookie.

:func:`caller` is the dependency of every route that needs a login. It raises
:class:`~styrhjul.errors.NotAuthenticated`, which pages answer with a redirect to the login
page and the API with 401.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response

from styrhjul.errors import NotAuthenticated, PermissionDenied
from styrhjul.services.access import Viewer, viewer_of
from styrhjul.services.accounts import Login, Who, session_for
from styrhjul.services.context import App

COOKIE = "styrhjul_session"
LOGIN_CSRF_COOKIE = "styrhjul_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """Who is asking, what they may read, and how they proved it."""

    who: Who
    viewer: Viewer
    via: Literal["cookie", "bearer"]

    @property
    def csrf(self) -> str:
        return self.who.csrf

    @property
    def email(self) -> str:
        return self.who.email


def core(request: Request) -> App:
    app: App = request.app.state.app
    return app


def _token(request: Request) -> tuple[str, Literal["cookie", "bearer"]] | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), "bearer"
    cookie = request.cookies.get(COOKIE)
    if cookie:
        return cookie, "cookie"
    return None


def caller(request: Request) -> Caller:
    """The logged-in caller; unsafe cookie requests must carry the CSRF token (header)."""
    found = getattr(request.state, "caller", None)
    if isinstance(found, Caller):
        return found
    token = _token(request)
    if token is None:
        raise NotAuthenticated("not logged in")
    app = core(request)
    who = session_for(app, token[0])
    viewer = viewer_of(app, who.person_id, who.email, who.title, admin=who.admin)
    found = Caller(who, viewer, token[1])
    request.state.caller = found
    if (
        found.via == "cookie"
        and request.method not in SAFE_METHODS
        and request.url.path.startswith("/api/")
    ):
        check_csrf(found, request.headers.get(CSRF_HEADER))
    return found


def optional_caller(request: Request) -> Caller | None:
    try:
        return caller(request)
    except NotAuthenticated:
        return None


def check_csrf(found: Caller, sent: str | None) -> None:
    """Refuse an unsafe cookie request whose CSRF token is missing or wrong."""
    if found.via == "bearer":
        return
    if not sent or not secrets.compare_digest(sent, found.csrf):
        raise PermissionDenied(
            "the request's CSRF token is missing or wrong (reload the page and try again)"
        )


async def form_of(request: Request) -> dict[str, str]:
    """The posted form of a page, after checking its CSRF token; text fields only."""
    found = caller(request)
    form = await request.form()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    check_csrf(found, fields.get(CSRF_FIELD))
    return fields


async def form_lists(request: Request) -> dict[str, list[str]]:
    """Like :func:`form_of`, keeping every value of repeated fields (rows of a form)."""
    found = caller(request)
    form = await request.form()
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    sent = fields.get(CSRF_FIELD) or []
    check_csrf(found, sent[0] if sent else None)
    return fields


def set_session_cookie(response: Response, login: Login, app: App) -> None:
    response.set_cookie(
        COOKIE,
        login.token,
        max_age=app.settings.web.session_max_hours * 3600,
        httponly=True,
        secure=app.settings.web.secure_cookies,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, app: App) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, secure=app.settings.web.secure_cookies, samesite="lax"
    )
