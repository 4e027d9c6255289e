"""Parameters shared by the pages and the API: the bounds of a row id in a path.

A row id is a 32-bit integer in both databases; a larger number in a path would reach
PostgreSQL and fail there (a 500), so every route takes its ids through :data:`RowId` and
answers 422 naming the parameter instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**31 - 1
"""The largest id an INTEGER primary key holds on PostgreSQL."""

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
