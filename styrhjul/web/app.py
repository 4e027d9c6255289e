"""The FastAPI application: routes, error pages, security headers. Built, never imported ready.

:func:`create_web_app` takes the :class:`~styrhjul.services.context.App` that
``wiring.build`` made, so the web app runs on the same service layer (and in tests on the
same clock) as the CLI and the daemon. Errors map to HTTP statuses in one place
(:data:`styrhjul.errors.HTTP_STATUSES`): a page gets a Swedish error page (a missing login
a redirect to the login page), the API a JSON body. Every refusal (401 and 403) is logged
with who asked for what.

While it serves, the heap it started with is frozen (:func:`_frozen_heap`): see there why.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from styrhjul import __version__
from styrhjul.errors import StyrhjulError, http_status
from styrhjul.services.context import App
from styrhjul.web import api, pages
from styrhjul.web.render import environment, page

LOG = logging.getLogger("styrhjul.web")
STATIC = Path(__file__).parent / "static"

TITLES = {
    400: "Felaktig uppgift",
    401: "Inte inloggad",
    403: "Åtkomst nekad",
    404: "Hittades inte",
    409: "Kunde inte genomföras",
    422: "Felaktig uppgift",
    502: "Kunde inte skickas",
}
EXPLANATIONS = {
    400: "Något i det du skickade stämmer inte. Rätta uppgiften och försök igen.",
    403: "Du har inte behörighet till detta. Kontakta en administratör om du behöver den.",
    404: "Det du letar efter finns inte, eller har tagits bort.",
    409: "Åtgärden går inte att göra i det läge som ärendet har nu, eller så har någon"
    " annan ändrat det samtidigt. Ladda om sidan och försök igen.",
    422: "Något i det du skickade stämmer inte. Rätta uppgiften och försök igen.",
    502: "Meddelandet kunde inte lämnas till e-postservern. Det försöks igen automatiskt.",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every answer, ``no-store`` on pages.

    A header the route set itself is kept. Written against ASGI rather than with
    ``@app.middleware("http")``, whose wrapper runs each request in a task group and
    passes the body through a memory stream: that cost 0.13 ms a request (four times the
    rest of the ASGI stack around a route), to add a few headers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.always = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        wanted = list(self.always)
        if not path.startswith(("/api/", "/static/")):
            wanted.append((b"cache-control", b"no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in wanted if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _who(request: Request) -> str:
    found = getattr(request.state, "caller", None)
    return found.email if found is not None else "anonymous"


def error_response(request: Request, status: int, detail: str) -> Response:
    """The answer to a failed request: JSON for the API, a Swedish page otherwise."""
    if status in (401, 403):
        LOG.warning(
            "access.refused",
            extra={
                "fields": {
                    "status": status,
                    "who": _who(request),
                    "method": request.method,
                    "path": request.url.path,
                    "reason": detail,
                }
            },
        )
    if _is_api(request):
        return JSONResponse({"error": detail, "status": status}, status_code=status)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return page(
        request,
        "error.html",
        status_code=status,
        title=TITLES.get(status, "Något gick fel"),
        explanation=EXPLANATIONS.get(status, ""),
        detail=detail,
        status=status,
    )


@asynccontextmanager
async def _frozen_heap(_web: FastAPI) -> AsyncIterator[None]:
    """Serve with the objects that exist at startup moved out of the cyclic collector's way.

    The application, its workflow machines, SQLAlchemy's mappings and the imported modules
    are some 200,000 objects that live as long as the process. Python's cyclic garbage
    collector walks all of them in every full collection, and a request allocates enough
    to set one off every hundred requests or so: a pause of 100-300 ms inside that request,
    five to ten times the page itself (the p99 of ``bench/overdue_view.py``). ``gc.freeze``
    (after a collection, so no garbage is frozen with them) leaves them out of every later
    collection; what requests allocate is collected as before. Stopping the server
    unfreezes them, so that a process that starts several apps (the tests) frees them.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_web_app(app: App) -> FastAPI:
    """The web application on ``app``'s services, clock and database."""
    web = FastAPI(
        title="Styrhjul",
        version=__version__,
        description=(
            "The JSON API of Styrhjul, the school administration's governance calendar"
            " (årshjul): overdue steps, dialogs, checklists, the audit trail. Authenticate"
            " with `POST /api/v1/session` and send the token as `Authorization: Bearer`."
        ),
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_frozen_heap,
    )
    web.state.app = app
    web.state.templates = environment()

    @web.exception_handler(StyrhjulError)
    async def _styrhjul_error(request: Request, exc: StyrhjulError) -> Response:
        return error_response(request, http_status(exc), str(exc))

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return error_response(request, 422, problems or "invalid request")

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail))

    web.add_middleware(SecurityHeaders)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (*pages.routers(), *api.routers()):
        web.include_router(router)
    return web
