"""One page of the overdue listing, with keyset cursors and a capped count.

The pages and the JSON API show the overdue steps a page at a time, most overdue first.
A page is read by *keyset*: "the steps after (due_at, id) X", which the partial index of
open steps (``ix_checklist_item_overdue``, ``(due_at, id) WHERE done_at IS NULL``)
answers by reading one page of index entries, however deep the page; ``OFFSET`` would
read and throw away every row before it. The order is total (the id breaks ties), so a
step never shows on two pages nor falls between them while the list stands still.

A cursor is a short text the caller hands back (``e101.1758204000000000.4711``): the
direction (``e`` the page after, ``f`` the page before), the position its first (or last)
row has in the listing, and the key (due instant in UTC microseconds, step id) it starts
from; ``sista`` is the last page. The position is carried, not counted, so "Visar
101–200" costs nothing; when steps are ticked off meanwhile it may be a little off, which
a listing that changes under the reader cannot avoid.

The total is counted up to :data:`COUNT_CAP` and then reported as "more than": a count
reads every index entry it counts and looks up each one's instance (is it live?), so an
uncapped count of a million-step database costs tens of milliseconds, more than the page
itself, while a thousand entries cost about a millisecond; beyond a thousand overdue steps
the exact number tells a director little that "more than 1 000" does not. The last page
counts exactly (its position needs the total).

Open steps of ended instances (a closed dialog's optional step, a cancelled dialog's
every step) stay in the partial index, at its head since they are old; each page steps
over those before it. In a database that has run for years they are tens of thousands of
entries (see ``bench/overdue_view.py``); marking a step when its instance ends, and
leaving such steps out of the index, would remove that cost. The capped count does not
pay it: how many of a set there are, up to a cap, does not depend on which members are
read first, so it walks the index from its other end, the most recently due steps,
where the live instances are. Walking from the head it read about ten index entries of
ended instances for each live one (some 11,000 entries and instance look-ups for the
first 1,001 live steps, 14 ms at a million steps); from the tail about 1,100 (1.3 ms).
When fewer than ``cap`` steps are overdue both ends read them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from styrhjul.db.models import ChecklistItem
from styrhjul.errors import InputError
from styrhjul.services.access import Viewer
from styrhjul.services.context import App
from styrhjul.services.overdue import OverdueFilter, StepRow, overdue_query, shape_rows

PAGE_SIZE = 100
"""Steps on a page unless the caller asks for another size."""

MAX_PAGE_SIZE = 500
"""The largest page a caller may ask for."""

COUNT_CAP = 1_000
"""The total is counted up to here; beyond it the page says "more than"."""

LAST = "sista"
"""The cursor of the last page."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"([ef])([1-9][0-9]{0,8})\.(-?[0-9]{1,18})\.([1-9][0-9]{0,18})")
_MAX_ID = 2**31 - 1
"""Ids are INTEGER columns: a larger one in a cursor is no step's."""


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (``forward``) or before the step ``(due_at, step_id)``.

    ``position`` is the place in the listing of the page's first row (forward) or of its
    last row (backward), counted from 1.
    """

    forward: bool
    position: int
    due_at: datetime
    step_id: int

    def token(self) -> str:
        micros = (self.due_at - _EPOCH) // timedelta(microseconds=1)
        return f"{'e' if self.forward else 'f'}{self.position}.{micros}.{self.step_id}"


def parse_cursor(text: str, *, key: str) -> Cursor | None:
    """The cursor ``text`` names (None: the first page); an :class:`InputError` at ``key``.

    :data:`LAST` gives a cursor with ``position`` 0, read backward from the end.
    """
    text = text.strip()
    if not text:
        return None
    if text == LAST:
        return Cursor(forward=False, position=0, due_at=_EPOCH, step_id=0)
    found = _CURSOR.fullmatch(text)
    if found is None:
        raise InputError(
            f"{text[:40]!r} is not a page cursor (take it from a link of the listing,"
            f" or {LAST!r} for the last page)",
            key=key,
        )
    direction, position, micros, step_id = found.groups()
    try:
        due_at = _EPOCH + timedelta(microseconds=int(micros))
    except OverflowError:
        raise InputError(f"{text[:40]!r}: the cursor's instant is out of range", key=key) from None
    if int(step_id) > _MAX_ID:
        raise InputError(f"{text[:40]!r}: the cursor's step id is out of range", key=key)
    return Cursor(direction == "e", int(position), due_at, int(step_id))


def query_filter(
    *,
    level: str | None,
    area: str | None,
    unit: str | None,
    assignee: str | None,
    min_days: int,
) -> OverdueFilter:
    """The filter a query string asks for (the page's or the API's): a blank text is none."""
    return OverdueFilter(
        level=level or None,
        area=area or None,
        unit=unit or None,
        assignee=assignee or None,
        min_days=min_days,
    )


@dataclass(frozen=True)
class OverduePage:
    """One page of overdue steps, the total, and the cursors of the pages around it."""

    rows: list[StepRow]
    first: int
    """The position of the first row in the listing, from 1 (0 when the page is empty)."""
    total: int
    total_exact: bool
    """False when the count stopped at :data:`COUNT_CAP`: there are more than ``total``."""
    size: int
    next: str | None
    previous: str | None
    last: str | None
    """The last page's cursor, when there are pages after this one."""

    @property
    def last_position(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def _after(cursor: Cursor) -> ColumnElement[bool]:
    due, ident = ChecklistItem.due_at, ChecklistItem.id
    # the first term alone is a range on the index; the second breaks the ties
    if cursor.forward:
        return and_(due >= cursor.due_at, or_(due > cursor.due_at, ident > cursor.step_id))
    return and_(due <= cursor.due_at, or_(due < cursor.due_at, ident < cursor.step_id))


def count_select(query: Select[Any], cap: int | None) -> Select[Any]:
    """SQL: how many steps ``query`` finds, up to ``cap + 1`` (every one when ``cap`` is None).

    Capped, it reads the most recently due steps first: the same number, read where the
    live steps are (see the module's docstring).
    """
    steps = query.with_only_columns(ChecklistItem.id)
    if cap is not None:
        steps = steps.order_by(ChecklistItem.due_at.desc(), ChecklistItem.id.desc())
        steps = steps.limit(cap + 1)
    return select(func.count()).select_from(steps.subquery())


def _count(session: Session, query: Select[Any], *, cap: int | None) -> tuple[int, bool]:
    """The number of steps ``query`` finds, counted up to ``cap``; and whether it is exact."""
    found = session.connection().scalar(count_select(query, cap)) or 0
    if cap is None:
        return found, True
    return min(found, cap), found <= cap


def page_select(query: Select[Any], cursor: Cursor | None, size: int) -> Select[Any]:
    """SQL: the page ``cursor`` names, and one row more, to tell whether more follow.

    ``query`` is :func:`~styrhjul.services.overdue.overdue_query`'s. Read backward (a
    previous or the last page), the rows come in reverse order.
    """
    if cursor is not None and cursor.position > 0:
        query = query.where(_after(cursor))
    if cursor is None or cursor.forward:
        query = query.order_by(ChecklistItem.due_at, ChecklistItem.id)
    else:
        query = query.order_by(ChecklistItem.due_at.desc(), ChecklistItem.id.desc())
    return query.limit(size + 1)


def overdue_page(
    app: App,
    viewer: Viewer | None,
    filters: OverdueFilter,
    *,
    cursor: Cursor | None = None,
    size: int = PAGE_SIZE,
    count_cap: int = COUNT_CAP,
) -> OverduePage:
    """One page of the overdue steps ``viewer`` reads that pass ``filters``, most overdue first.

    ``cursor`` comes from :func:`parse_cursor` (None: the first page). A page read
    backward that reaches the start becomes the first page, full. The total is counted
    up to ``count_cap`` (exactly for the last page, whose position needs it).
    """
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InputError(f"page size {size} must be from 1 to {MAX_PAGE_SIZE}", key="size")
    forward = cursor is None or cursor.forward
    to_end = cursor is not None and cursor.position == 0
    with app.db.session() as session:
        query = overdue_query(app, session, filters, viewer)
        total, exact = _count(session, query, cap=None if to_end else count_cap)
        # Core execution: plain columns, and the ORM's result handling cost more than the query
        # .all(): one fetch of every row, not one a row as iterating does
        found = list(session.connection().execute(page_select(query, cursor, size)).all())
        more = len(found) > size
        found = found[:size]
        if not forward:
            found.reverse()
            if not more and len(found) < size and not to_end:
                # what lay before was ticked off meanwhile: show the first page, full
                return overdue_page(app, viewer, filters, size=size, count_cap=count_cap)
        rows = shape_rows(app, session, found)
    if not rows:
        return OverduePage([], 0, total, exact, size, None, None, None)
    if cursor is None or (not forward and not more):
        first = 1
    elif forward:
        first = cursor.position
    elif to_end:
        first = max(total - len(rows) + 1, 1)
    else:
        first = max(cursor.position - len(rows) + 1, 1)
    head, tail = rows[0], rows[-1]
    has_next = more if forward else not to_end
    has_previous = first > 1 if forward else more
    after = Cursor(True, first + len(rows), tail.due_at, tail.id)
    before = Cursor(False, max(first - 1, 1), head.due_at, head.id)
    return OverduePage(
        rows=rows,
        first=first,
        total=total,
        total_exact=exact,
        size=size,
        next=after.token() if has_next else None,
        previous=before.token() if has_previous else None,
        last=LAST if has_next else None,
    )
