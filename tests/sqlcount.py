"""Counting the SQL statements a piece of code sends: how tests bound work that must not grow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from styrhjul.services.context import App


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    """The statements sent to ``app``'s database inside the block, in order, each on one line."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(app.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", count)
