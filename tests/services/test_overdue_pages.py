"""The overdue listing a page at a time: keyset cursors, the capped count, filters and scope in SQL.

Round 1 of 2026/27 is planned (40 dialogs); on Friday 2 October at noon their first
preparation steps are overdue, well over a hundred of them, so small pages walk a listing
long enough to have a middle. The plan test reads how the database answers a page: through
the partial index of open steps, never a scan of every step and a sort.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Select, event, update
from sqlalchemy.engine.interfaces import DBAPICursor
from support import dialog_id_of

from styrhjul.calendar import WorkingCalendar
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import ChecklistItem, Instance
from styrhjul.errors import InputError, NotFound
from styrhjul.services.access import viewer_for
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import cancel
from styrhjul.services.org import person_by_email
from styrhjul.services.overdue import (
    OverdueFilter,
    StepRow,
    overdue_query,
    overdue_steps,
    working_days_after,
)
from styrhjul.services.overdue_pages import (
    LAST,
    Cursor,
    OverduePage,
    count_select,
    overdue_page,
    page_select,
    parse_cursor,
)

AREA = "grundskola-norr"
HEAD = "verksamhetschef.grundskola-norr@example.se"
SCHOOL = "vastra-skolan"
OTHER_SCHOOL = "ekbackens-forskoleomrade"
EVERYONE = OverdueFilter()


@pytest.fixture
def late_app(planned_app: App, clock: FixedClock) -> App:
    clock.set(datetime(2026, 10, 2, 12, tzinfo=STOCKHOLM))
    return planned_app


def _ids(rows: list[StepRow]) -> list[int]:
    return [r.id for r in rows]


def _walk(app: App, first: OverduePage, *, forward: bool, size: int) -> list[OverduePage]:
    pages = [first]
    while (token := pages[-1].next if forward else pages[-1].previous) is not None:
        cursor = parse_cursor(token, key="cursor")
        pages.append(overdue_page(app, None, EVERYONE, cursor=cursor, size=size))
    return pages


def test_pages_walk_the_whole_listing_forward_and_back(late_app: App) -> None:
    everything = overdue_steps(late_app)
    assert len(everything) > 100
    first = overdue_page(late_app, None, EVERYONE, size=7)
    assert (first.first, first.last_position, first.total, first.total_exact) == (
        1, 7, len(everything), True,
    )  # fmt: skip
    assert first.previous is None
    assert first.last == LAST
    forward = _walk(late_app, first, forward=True, size=7)
    assert [i for page in forward for i in _ids(page.rows)] == _ids(everything)
    assert [p.first for p in forward] == list(range(1, len(everything) + 1, 7))
    tail = forward[-1]
    assert (tail.next, tail.last, tail.last_position) == (None, None, len(everything))

    last = overdue_page(late_app, None, EVERYONE, cursor=parse_cursor(LAST, key="c"), size=7)
    assert _ids(last.rows) == _ids(everything[-7:])
    assert (last.first, last.last_position, last.next) == (
        len(everything) - 6,
        len(everything),
        None,
    )
    back = _walk(late_app, last, forward=False, size=7)
    ids = _ids(everything)
    for page in forward + back:
        assert _ids(page.rows) == ids[page.first - 1 : page.last_position]
    assert {i for page in back for i in _ids(page.rows)} == set(ids)
    assert (back[-1].first, back[-1].previous, len(back[-1].rows)) == (1, None, 7)


def test_a_page_read_back_to_the_start_after_steps_were_ticked_is_the_first_page(
    late_app: App,
) -> None:
    first = overdue_page(late_app, None, EVERYONE, size=5)
    second = overdue_page(
        late_app, None, EVERYONE, cursor=parse_cursor(first.next or "", key="c"), size=5
    )
    assert second.first == 6
    for row in first.rows[:3]:
        assert row.assignee is not None
        complete_step(late_app, row.id, actor=row.assignee)
    again = overdue_page(
        late_app, None, EVERYONE, cursor=parse_cursor(second.previous or "", key="c"), size=5
    )
    assert again.first == 1
    assert again.previous is None
    assert _ids(again.rows) == _ids(first.rows[3:]) + _ids(second.rows[:3])


def test_filters_are_those_of_the_whole_listing(late_app: App) -> None:
    def both(filters: OverdueFilter, **same: Any) -> tuple[list[int], list[int]]:
        page = overdue_page(late_app, None, filters, size=500)
        assert page.total == len(page.rows)
        return _ids(page.rows), _ids(overdue_steps(late_app, **same))

    for filters, same in (
        (OverdueFilter(area=AREA), {"unit": AREA}),
        (OverdueFilter(unit=SCHOOL), {"unit": SCHOOL}),
        (OverdueFilter(level="area_rektor"), {"level": "area_rektor"}),
        (OverdueFilter(assignee=HEAD.upper()), {"assignee": HEAD}),
        (OverdueFilter(min_days=3), {"min_days": 3}),
    ):
        paged, whole = both(filters, **same)
        assert paged == whole, filters
        assert paged, filters
    school = set(both(OverdueFilter(unit=SCHOOL), unit=SCHOOL)[0])
    area = set(both(OverdueFilter(area=AREA), unit=AREA)[0])
    assert school < area
    narrowed = overdue_page(late_app, None, OverdueFilter(area=AREA, unit=SCHOOL), size=500)
    assert set(_ids(narrowed.rows)) == school
    assert overdue_page(late_app, None, OverdueFilter(area="forskola", unit=SCHOOL)).rows == []
    with pytest.raises(NotFound, match="'nowhere'"):
        overdue_page(late_app, None, OverdueFilter(unit="nowhere"))
    with pytest.raises(InputError, match="unknown level 'principal'") as bad:
        overdue_page(late_app, None, OverdueFilter(level="principal"))
    assert bad.value.key == "level"
    with pytest.raises(InputError) as bad:
        overdue_page(late_app, None, OverdueFilter(min_days=401))
    assert bad.value.key == "min_days"
    with pytest.raises(InputError) as bad:
        overdue_page(late_app, None, EVERYONE, size=0)
    assert bad.value.key == "size"


def test_a_viewer_gets_their_units_and_their_own_steps_only(late_app: App) -> None:
    with late_app.db.session() as session:
        head_id = person_by_email(session, HEAD).id
    head = viewer_for(late_app, head_id)
    assert head.units is not None
    page = overdue_page(late_app, head, EVERYONE, size=500)
    area = {r.id for r in overdue_steps(late_app, unit=AREA)}
    own = {r.id for r in overdue_steps(late_app, assignee=HEAD)}
    assert set(_ids(page.rows)) == area | own
    assert page.total == len(area | own) < len(overdue_steps(late_app))
    with pytest.raises(
        InputError, match=f"no unit '{OTHER_SCHOOL}' among the units you read"
    ) as bad:
        overdue_page(late_app, head, OverdueFilter(unit=OTHER_SCHOOL))
    assert bad.value.key == "unit"
    with pytest.raises(InputError, match="'nowhere'") as bad:
        overdue_page(late_app, head, OverdueFilter(area="nowhere"))
    assert bad.value.key == "area"


def test_the_count_stops_at_the_cap(late_app: App) -> None:
    page = overdue_page(late_app, None, EVERYONE, size=3, count_cap=10)
    assert (page.total, page.total_exact, len(page.rows)) == (10, False, 3)
    assert page.last == LAST
    last = overdue_page(late_app, None, EVERYONE, cursor=parse_cursor(LAST, key="c"), count_cap=10)
    assert last.total_exact
    assert last.total == len(overdue_steps(late_app))


def test_the_capped_count_is_the_listing_s_length_up_to_the_cap(late_app: App) -> None:
    """Whatever it reads first, the count is min(length, cap), exact when within the cap.

    Two cancelled dialogs leave their open steps in the index of open steps, among the
    live ones, as a cancelled dialog does.
    """
    before = len(overdue_steps(late_app))
    for school in (SCHOOL, "norrbackaskolan"):
        cancel(late_app, dialog_id_of(late_app, school), actor=HEAD, reason="Ställs in")
    with late_app.db.session() as session:
        head = viewer_for(late_app, person_by_email(session, HEAD).id)
    everyone = len(overdue_steps(late_app))
    scoped = len(overdue_steps(late_app, viewer=head))
    assert 0 < scoped < everyone < before
    for viewer, length in ((None, everyone), (head, scoped)):
        for cap in sorted({1, 2, length // 2, length - 1, length, length + 1, 1000}):
            page = overdue_page(late_app, viewer, EVERYONE, size=5, count_cap=cap)
            assert (page.total, page.total_exact) == (min(length, cap), length <= cap), cap


def _sqlite_steps(app: App, query: Select[Any]) -> int:
    """The SQLite virtual machine's instructions for ``query``: the work, counted, not timed."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    with app.db.session() as session:
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        raw.set_progress_handler(tick, 1)  # type: ignore[attr-defined]
        try:
            session.connection().execute(query).all()
        finally:
            raw.set_progress_handler(None, 1)  # type: ignore[attr-defined]
    return steps


def test_the_capped_count_reads_from_the_most_recently_due_steps(late_app: App) -> None:
    """Ended instances' open steps, old, fill the head of the index; the count skips them.

    The dialogs of the listing's last ten steps stay live, their other steps ticked off;
    every other dialog ends (its steps stay open, as a cancellation leaves them). So all
    but the last ten entries of the index are ended instances' steps. Counting five live
    steps from the newest end reads a few entries; from the head it would read nearly
    every one, as the exact count does.
    """
    rows = overdue_steps(late_app)
    tail = rows[-10:]
    kept = {r.instance_id for r in tail}
    with late_app.db.session() as session:
        session.execute(
            update(ChecklistItem)
            .where(
                ChecklistItem.instance_id.in_(kept),
                ChecklistItem.id.not_in([r.id for r in tail]),
            )
            .values(done_at=late_app.clock.now())
        )
        session.execute(
            update(Instance)
            .where(Instance.id.in_({r.instance_id for r in rows} - kept))
            .values(state="cancelled")
        )
        query = overdue_query(late_app, session, EVERYONE, None)
    assert _ids(overdue_steps(late_app)) == _ids(tail)
    capped, exact = count_select(query, 5), count_select(query, None)
    with late_app.db.session() as session:
        assert session.scalar(capped) == 6
        assert session.scalar(exact) == len(tail)
    if late_app.db.engine.dialect.name == "sqlite":
        assert _sqlite_steps(late_app, capped) * 4 < _sqlite_steps(late_app, exact)
    else:
        plan = _plan(late_app, capped)
        assert "Scan Backward using ix_checklist_item_overdue" in plan, plan


def test_nothing_overdue_is_one_empty_page(planned_app: App) -> None:
    page = overdue_page(planned_app, None, EVERYONE)
    assert (page.rows, page.first, page.total, page.total_exact) == ([], 0, 0, True)
    assert (page.next, page.previous, page.last) == (None, None, None)
    after = Cursor(True, 101, datetime(2026, 9, 18, 16, tzinfo=STOCKHOLM), 1)
    assert overdue_page(planned_app, None, EVERYONE, cursor=after).rows == []


@pytest.mark.parametrize(
    "text",
    ["x", "e0.1.1", "e1.1", "g1.1.1", "e1.1.0", "e1.999999999999999999.1", "e1.1.3000000000",
     "e1.-999999999999999999.1", "e1.1.1;drop"],
)  # fmt: skip
def test_a_bad_cursor_is_an_input_error_naming_the_parameter(text: str) -> None:
    with pytest.raises(InputError) as bad:
        parse_cursor(text, key="sida")
    assert bad.value.key == "sida"
    assert str(bad.value).startswith("sida: ")


def test_a_cursor_round_trips() -> None:
    cursor = Cursor(False, 201, datetime(2026, 9, 18, 16, 0, 0, 123, tzinfo=STOCKHOLM), 4711)
    assert parse_cursor(cursor.token(), key="c") == cursor
    assert parse_cursor(" ", key="c") is None


@contextmanager
def _explained(engine: Engine) -> Iterator[None]:
    """Every statement run meanwhile is asked for its plan instead (EXPLAIN)."""
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "

    def explain(
        conn: object, cursor: DBAPICursor, statement: str, parameters: Any, *args: Any
    ) -> tuple[str, Any]:
        return prefix + statement, parameters

    event.listen(engine, "before_cursor_execute", explain, retval=True)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", explain)


def _plan(app: App, query: Select[Any]) -> str:
    with app.db.session() as session:
        connection = session.connection()
        if app.db.engine.dialect.name == "postgresql":
            # a few hundred steps fit a page or two: the planner would rightly scan them;
            # with scans and sorts priced out it must show whether the index can serve
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_sort = off")
        with _explained(app.db.engine):
            # the rows are the plan's, not the query's: read them from the DB-API cursor
            rows = connection.execute(query).cursor.fetchall()
        return "\n".join(" ".join(str(v) for v in row) for row in rows)


def test_a_page_is_read_through_the_partial_index_of_open_steps(late_app: App) -> None:
    cursor = parse_cursor(overdue_page(late_app, None, EVERYONE, size=5).next or "", key="c")
    with late_app.db.session() as session:
        queries = [
            page_select(overdue_query(late_app, session, filters, None), where, 100)
            for filters in (EVERYONE, OverdueFilter(level="area_rektor", min_days=2))
            for where in (None, cursor)
        ]
    for query in queries:
        plan = _plan(late_app, query)
        assert "ix_checklist_item_overdue" in plan, plan
        if late_app.db.engine.dialect.name == "sqlite":
            assert "TEMP B-TREE" not in plan, plan  # the index gives the order: no sort


def test_days_overdue_by_prefix_counts_equal_the_calendar_s_walk() -> None:
    calendar = WorkingCalendar({date(2026, 11, 2): "Höstlov", date(2025, 12, 31): "Stängt"})
    start = date(2024, 12, 20)
    days = [start + timedelta(days=n) for n in range(0, 800, 3)]
    for day in days:
        for today in (date(2024, 12, 31), date(2025, 1, 1), date(2026, 11, 3), date(2027, 2, 1)):
            expected = max(calendar.working_days_between(day, today), 0)
            assert working_days_after(calendar, day, today) == expected, (day, today)
