"""The JSON API, version 1 (see styrhjul/web/api/__init__.py).

One router per concern, all under ``/api/v1``: ``core`` (the session, dialogs, meetings,
steps, instances, feeds, the wheel, VP-uppdrag, the scorecard), ``overdue`` (the overdue
steps, paged) and ``admin`` (accounts, workflows and people, for administrators).
"""

from __future__ import annotations

from fastapi import APIRouter

from styrhjul.web.api import admin, core, overdue

router = APIRouter(prefix="/api/v1")
router.include_router(core.router)
router.include_router(overdue.router)
router.include_router(admin.router)
