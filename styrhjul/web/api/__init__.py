"""The JSON API under ``/api/v1``, described by OpenAPI at ``/api/v1/openapi.json``.

The same operations as the pages, on the same services: log in for a bearer token, list
overdue steps, dialogs and meetings, read an instance and its audit trail, tick a step,
record a dialog as held, close it. Errors are ``{"error": ..., "status": ...}``.
"""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from styrhjul.web.api import v1  # noqa: PLC0415 - imported when the app is built

    return [v1.router]
