"""Logging in and out: with a password, or through the municipality's identity provider.

The login form is protected against login CSRF by a double-submit cookie: GET sets a
random value in a cookie and in the form; POST must bring both, equal.

With ``[web.oidc] enabled`` the login page also shows a button to ``GET /login/oidc``,
which sends the browser to the provider (``services.oidc``); the provider sends it back
to ``GET /login/oidc/callback``. The pending login (state, nonce, PKCE verifier, where to
go next) rides in the HMAC-signed cookie ``styrhjul_oidc`` (HttpOnly, path /login/oidc,
ten minutes, SameSite=Lax because it must come back on the provider's cross-site
redirect); the callback deletes it, so it serves one answer only. Every refusal of the
callback is logged as ``access.refused``, like the refusals of the rest of the app.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from styrhjul.errors import DeliveryFailed, NotAuthenticated, NotFound, PermissionDenied
from styrhjul.services import oidc
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
LOG = logging.getLogger("styrhjul.web")
OIDC_COOKIE = "styrhjul_oidc"
OIDC_PATH = "/login/oidc"
OIDC_FAILED = "Inloggningen med kommunens konto kunde inte slutföras. Försök igen."
OIDC_UNREACHABLE = (
    "Kommunens inloggningstjänst svarar inte just nu. Försök igen om en stund,"
    " eller logga in med lösenord om du har ett."
)


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect to another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_page(
    request: Request, *, error: str = "", status: int = 200, next_path: str | None = None
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    oidc_settings = core(request).settings.web.oidc
    response = page(
        request,
        "login.html",
        status_code=status,
        login_csrf=token,
        error=error,
        next=safe_next(next_path or request.query_params.get("next")),
        oidc_label=oidc_settings.button_label if oidc_settings.enabled else "",
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


# --- OIDC ----------------------------------------------------------------------------------


def _oidc_client(request: Request) -> oidc.OidcClient:
    """The web app's one client (it caches discovery and keys); 404 while OIDC is off."""
    app = core(request)
    if not app.settings.web.oidc.enabled:
        raise NotFound("page", request.url.path)
    client: oidc.OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None or client.settings is not app.settings.web.oidc:
        client = oidc.OidcClient.of(app)
        request.app.state.oidc = client
    return client


def _refused(request: Request, status: int, who: str, reason: str) -> None:
    LOG.warning(
        "access.refused",
        extra={
            "fields": {
                "status": status,
                "who": who or "anonymous",
                "method": request.method,
                "path": request.url.path,
                "reason": f"OIDC login: {reason}",
            }
        },
    )


def _without_pending(response: Response, request: Request) -> Response:
    response.delete_cookie(
        OIDC_COOKIE,
        path=OIDC_PATH,
        httponly=True,
        secure=core(request).settings.web.secure_cookies,
        samesite="lax",
    )
    return response


@router.get(OIDC_PATH, include_in_schema=False)
def oidc_start(request: Request) -> Response:
    client = _oidc_client(request)
    target = safe_next(request.query_params.get("next"))
    if optional_caller(request) is not None:
        return RedirectResponse(target, status_code=303)
    app = core(request)
    try:
        url, pending = oidc.begin(app, client, target)
    except DeliveryFailed as exc:
        _refused(request, 502, "", str(exc))
        return _login_page(request, error=OIDC_UNREACHABLE, status=502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        OIDC_COOKIE,
        oidc.seal(pending, client.key),
        max_age=oidc.PENDING_SECONDS,
        httponly=True,
        secure=app.settings.web.secure_cookies,
        samesite="lax",
        path=OIDC_PATH,
    )
    return response


@router.get(oidc.CALLBACK_PATH, include_in_schema=False)
def oidc_callback(request: Request) -> Response:
    client = _oidc_client(request)
    app = core(request)
    answer = dict(request.query_params.items())
    next_path: str | None = None
    try:
        pending = oidc.unseal(request.cookies.get(OIDC_COOKIE, ""), client.key, app.clock.now())
        next_path = pending.next
        identity = oidc.identify(app, client, pending, answer)
    except NotAuthenticated as exc:
        _refused(request, 401, "", str(exc))
        failed = _login_page(request, error=OIDC_FAILED, status=401, next_path=next_path)
        return _without_pending(failed, request)
    except DeliveryFailed as exc:
        _refused(request, 502, "", str(exc))
        failed = _login_page(request, error=OIDC_UNREACHABLE, status=502, next_path=next_path)
        return _without_pending(failed, request)
    try:
        session = oidc.log_in(app, identity)
    except NotFound as exc:
        _refused(request, 403, identity.value, f"{exc} (sub {identity.subject})")
        return _without_pending(
            _refusal_page(
                request,
                str(exc),
                title="Du finns inte i Styrhjul",
                explanation=(
                    f"Kommunens inloggningstjänst känner dig som {identity.value}, men ingen"
                    " person i organisationen i Styrhjul har den e-postadressen. Kontakta en"
                    " administratör om du ska kunna logga in."
                ),
            ),
            request,
        )
    except PermissionDenied as exc:
        _refused(request, 403, identity.value, str(exc))
        return _without_pending(
            _refusal_page(
                request,
                str(exc),
                title="Kontot är avstängt",
                explanation=(
                    f"Ditt konto i Styrhjul ({identity.value}) är avstängt. Kontakta en"
                    " administratör om du ska kunna logga in igen."
                ),
            ),
            request,
        )
    response = RedirectResponse(safe_next(pending.next), status_code=303)
    set_session_cookie(response, session, app)
    return _without_pending(response, request)


def _refusal_page(request: Request, detail: str, *, title: str, explanation: str) -> Response:
    return page(
        request,
        "error.html",
        status_code=403,
        title=title,
        explanation=explanation,
        detail=detail,
        status=403,
    )
