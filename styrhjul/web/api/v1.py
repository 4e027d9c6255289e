"""The JSON API, version 1 (see styrhjul/web/api/__init__.py).

One router per concern, all under ``/api/v1``: ``core`` (the session, dialogs, meetings,
steps, instances, feeds, the wheel, VP-uppdrag, the scorecard), ``overdue`` (the overdue
steps, paged) and ``admin`` (accounts, workflows and people, for administrators). Every
route documents the error answers (``schemas.ERRORS``), one JSON shape for all.
"""

from __future__ import annotations

from fastapi import APIRouter

from styrhjul.web.api import admin, core, overdue
from styrhjul.web.api.schemas import ERRORS

router = APIRouter(prefix="/api/v1", responses=ERRORS)
router.include_router(core.router)
router.include_router(overdue.router)
router.include_router(admin.router)
