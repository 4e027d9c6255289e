"""Pages of the web app: see styrhjul/web/pages/__init__.py for who this module serves."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
