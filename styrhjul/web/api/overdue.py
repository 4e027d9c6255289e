"""The JSON API's overdue routes (see styrhjul/web/api/v1.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
