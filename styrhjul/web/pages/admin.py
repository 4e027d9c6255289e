"""The administrators' pages: accounts, workflows and people."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
