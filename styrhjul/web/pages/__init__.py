"""The HTML pages, one module per audience: who each page is for says where it lives.

``auth`` (login, logout, OIDC), ``home`` (the start page by role), ``director`` (overdue
steps, the wheel, VP-uppdrag, the scorecard), ``secretary`` (the dialogs and meetings kept;
a dialog held, closed, moved, cancelled, its agreements carried) and ``secretary_meetings``
(a meeting from agenda to close), ``participant`` (coming dialogs and meetings, checklists,
invites, the feed link), ``instances`` (an instance's timeline and state diagram),
``admin`` (accounts, workflows and people, for administrators).
"""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from styrhjul.web.pages import (  # noqa: PLC0415 - imported when the app is built
        admin,
        auth,
        director,
        home,
        instances,
        participant,
        secretary,
        secretary_meetings,
    )

    return [
        auth.router,
        home.router,
        director.router,
        secretary.router,
        secretary_meetings.router,
        participant.router,
        instances.router,
        admin.router,
    ]
