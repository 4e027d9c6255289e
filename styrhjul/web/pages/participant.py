"""The participant's pages: coming dialogs and meetings, ticking steps, invites, the feed link.

A rektor or a teacher opens ``/mitt`` to see what they must prepare before each dialog
and meeting they take part in, ticks a step when it is done (the same service as
``styrhjul steps done``, which decides whether they may), downloads the invite for their
own calendar, and makes a personal feed address under ``/mitt/kalender``. The feed itself
(``/kalender/<token>.ics``) needs no login: the unguessable token is the credential, and
an unknown or revoked token is a plain 404 that hints at nothing.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from styrhjul.errors import NotFound
from styrhjul.services.access import require_instance
from styrhjul.services.checklist import complete_step
from styrhjul.services.feed_tokens import create_token, feed_for_token
from styrhjul.services.web_participant import agenda, invite_ics, revoke_own_token, tokens_of
from styrhjul.web.pages.auth import safe_next
from styrhjul.web.params import RowId
from styrhjul.web.render import page
from styrhjul.web.security import Caller, caller, core, form_of

router = APIRouter()
Me = Annotated[Caller, Depends(caller)]
CALENDAR = "text/calendar; charset=utf-8"


def _done(target: str, message: str) -> RedirectResponse:
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}klart={quote(message)}", status_code=303)


@router.get("/mitt", response_class=HTMLResponse, include_in_schema=False)
def mine(request: Request, me: Me) -> HTMLResponse:
    entries = agenda(core(request), me.email)
    return page(request, "participant/mine.html", entries=entries)


@router.post("/steg/{step_id}/klar", include_in_schema=False)
async def tick_step(request: Request, step_id: RowId, me: Me) -> Response:
    form = await form_of(request)
    item = complete_step(core(request), step_id, actor=me.email)
    target = safe_next(form.get("next") or "/mitt")
    return _done(target, f"Klart: {item.title}")


@router.get("/dialoger/{dialog_id}/inbjudan.ics", include_in_schema=False)
def invite(request: Request, dialog_id: RowId, me: Me) -> Response:
    app = core(request)
    require_instance(app, me.viewer, dialog_id)
    data = invite_ics(app, dialog_id, me.email)
    return Response(
        data,
        media_type=CALENDAR,
        headers={"Content-Disposition": f'attachment; filename="dialog-{dialog_id}.ics"'},
    )


def _calendar_page(request: Request, me: Caller, *, feed_url: str = "") -> HTMLResponse:
    return page(
        request,
        "participant/calendar.html",
        tokens=tokens_of(core(request), me.email),
        feed_url=feed_url,
    )


@router.get("/mitt/kalender", response_class=HTMLResponse, include_in_schema=False)
def calendar_links(request: Request, me: Me) -> HTMLResponse:
    return _calendar_page(request, me)


@router.post("/mitt/kalender", response_class=HTMLResponse, include_in_schema=False)
async def make_calendar_link(request: Request, me: Me) -> HTMLResponse:
    form = await form_of(request)
    made = create_token(core(request), person=me.email, label=form.get("label", ""))
    # shown this once in the answer itself, never in a URL that history or logs keep
    return _calendar_page(request, me, feed_url=made.address)


@router.post("/mitt/kalender/{token_id}/aterkalla", include_in_schema=False)
async def revoke_calendar_link(request: Request, token_id: RowId, me: Me) -> Response:
    await form_of(request)
    revoke_own_token(core(request), token_id, me.email)
    return _done("/mitt/kalender", "Kalenderlänken är återkallad och slutar fungera nu.")


@router.get("/kalender/{name}", include_in_schema=False)
def feed(request: Request, name: str) -> Response:
    if not name.endswith(".ics"):
        raise NotFound("feed", "for this address")
    data = feed_for_token(core(request), name.removesuffix(".ics"))
    return Response(data, media_type=CALENDAR)
