"""Logging in and out with a password.

The login form is protected against login CSRF by a double-submit cookie: GET sets a
random value in a cookie and in the form; POST must bring both, equal.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from styrhjul.errors import NotAuthenticated
from styrhjul.services.accounts import log_in, log_out
from styrhjul.web.render import page
from styrhjul.web.security import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    clear_session_cookie,
    core,
    form_of,
    optional_caller,
    set_session_cookie,
)

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect to another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_page(request: Request, *, error: str = "", status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        status_code=status,
        login_csrf=token,
        error=error,
        next=safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=core(request).settings.web.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request) -> Response:
    if optional_caller(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = fields.get("login_csrf", "")
    if not cookie or not secrets.compare_digest(cookie, sent):
        return _login_page(request, error="Formuläret hade gått ut. Försök igen.", status=400)
    app = core(request)
    try:
        session = log_in(app, fields.get("email", ""), fields.get("password", ""))
    except NotAuthenticated:
        return _login_page(
            request,
            error="Fel e-postadress eller lösenord, eller så är kontot spärrat.",
            status=401,
        )
    response = RedirectResponse(safe_next(fields.get("next")), status_code=303)
    set_session_cookie(response, session, app)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    await form_of(request)
    app = core(request)
    log_out(app, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, app)
    return response
