"""The JSON API under ``/api/v1``, described by OpenAPI at ``/api/v1/openapi.json``.

The same operations as the pages, on the same services with the same checks: log in for a
bearer token, read the agenda, a dialog, a meeting, an instance and its audit trail, the
year's events, VP-uppdrag and the scorecard; tick a step, hold, close, cancel or move a
dialog or meeting, finish or carry an agreement, make and revoke feed links; list overdue
steps; administer accounts, workflows and people. One router per concern (``v1``), the
bodies typed in ``schemas``. Errors are ``{"error": ..., "status": ...}``.
"""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from styrhjul.web.api import v1  # noqa: PLC0415 - imported when the app is built

    return [v1.router]
