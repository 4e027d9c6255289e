"""The JSON API's overdue route: the overdue steps the caller reads, a page at a time.

``GET /api/v1/overdue`` answers what the page Försenat shows, from the same service
(:func:`styrhjul.services.overdue_pages.overdue_page`), with the same filters and the same
narrowing to what the caller reads: one page, most overdue first, the total (counted up
to a cap, then ``total_exact`` is false) and the cursors of the pages around it, which a
client passes back as ``cursor``. Bad values are 422 (the type or range of a parameter)
or 400 (an unknown level or unit, a unit the caller does not read, a malformed cursor),
each naming the parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from styrhjul.services.overdue import MAX_MIN_DAYS
from styrhjul.services.overdue_pages import (
    LAST,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    overdue_page,
    parse_cursor,
    query_filter,
)
from styrhjul.web.api.deps import Core, Me

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""No control character (NUL above all, which PostgreSQL can neither store nor compare)."""

router = APIRouter(tags=["overdue"])


class OverdueStepOut(BaseModel):
    """An overdue step, with its instance, level, unit, area and assignee."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    title: str
    required: bool
    instance_kind: str = Field(description="`dialog`, `assignment`, `meeting` or `process`.")
    instance_id: int
    instance_title: str
    instance_state: str
    level: str = Field(description="The dialog level (`area_rektor`...) or the instance kind.")
    unit: str = Field(description="The code of the instance's unit.")
    unit_name: str
    area: str = Field(description="The code of the unit's area or department; empty if none.")
    area_name: str
    assignee: str | None = Field(description="The assignee's e-mail address; null if none.")
    assignee_title: str | None
    due_at: datetime
    days_overdue: int = Field(description="Working days after the due day, up to today.")
    escalation_level: int = Field(description="0 not escalated, 1 to the manager, 2 above.")


class OverduePageOut(BaseModel):
    """One page of overdue steps, the total, and the cursors of the pages around it."""

    items: list[OverdueStepOut]
    first: int = Field(description="The position of the first item, from 1; 0 if none.")
    total: int = Field(description="Overdue steps in all, counted up to a cap.")
    total_exact: bool = Field(description="False when the count stopped: more than `total`.")
    size: int
    next: str | None = Field(description="The `cursor` of the next page; null on the last.")
    previous: str | None = Field(
        description="The `cursor` of the previous page; null on the first."
    )
    last: str | None = Field(description=f"The last page's `cursor` (`{LAST}`), if not on it.")


def _text(description: str, max_length: int) -> object:
    return Query(description=description, max_length=max_length, pattern=NO_CONTROL)


@router.get("/overdue", response_model=OverduePageOut)
def list_overdue(
    app: Core,
    me: Me,
    level: Annotated[
        str | None, _text("A dialog level (`area_rektor`) or an instance kind (`dialog`).", 40)
    ] = None,
    area: Annotated[
        str | None, _text("An area's code: its units and everything under.", 64)
    ] = None,
    unit: Annotated[str | None, _text("A unit's code: it and everything under it.", 64)] = None,
    assignee: Annotated[str | None, _text("The assignee's e-mail address.", 254)] = None,
    min_days: Annotated[
        int, Query(ge=0, le=MAX_MIN_DAYS, description="At least this many working days overdue.")
    ] = 0,
    cursor: Annotated[
        str | None, _text(f"From a page's `next`, `previous` or `last` (`{LAST}`).", 80)
    ] = None,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Steps a page.")] = PAGE_SIZE,
) -> OverduePageOut:
    """The overdue steps the caller reads, most overdue first, a page at a time."""
    filters = query_filter(level=level, area=area, unit=unit, assignee=assignee, min_days=min_days)
    found = overdue_page(
        app,
        me.viewer,
        filters,
        cursor=parse_cursor(cursor or "", key="cursor"),
        size=size,
    )
    return OverduePageOut(
        items=[OverdueStepOut.model_validate(row) for row in found.rows],
        first=found.first,
        total=found.total,
        total_exact=found.total_exact,
        size=found.size,
        next=found.next,
        previous=found.previous,
        last=found.last,
    )
