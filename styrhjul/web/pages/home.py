"""The start page: what the logged-in person can do, by the roles they hold today."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from styrhjul.web.render import page
from styrhjul.web.security import Caller, caller

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, me: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    return page(request, "home.html")
