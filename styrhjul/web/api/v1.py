"""The JSON API, version 1 (see styrhjul/web/api/__init__.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
