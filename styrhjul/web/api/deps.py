"""The dependencies every API router shares: the caller, the App, the bearer scheme.

``bearer`` only documents the scheme in OpenAPI (``auto_error=False``): the caller is
found by :func:`styrhjul.web.security.caller`, from the bearer token or the session cookie,
the same for every route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from styrhjul.services.context import App
from styrhjul.web.security import Caller, caller, core

bearer = HTTPBearer(
    auto_error=False,
    description="The token of `POST /api/v1/session` (or the session cookie with `X-CSRF-Token`).",
)


def _me(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The caller (:func:`styrhjul.web.security.caller`); ``bearer`` documents the scheme."""
    return caller(request)


Me = Annotated[Caller, Depends(_me)]
Core = Annotated[App, Depends(core)]
