"""UTCDateTime reads back every stored instant as the aware UTC instant that was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import DateTime

from styrhjul.db.types import UTCDateTime


def _table() -> Table:
    return Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime)
    )


def test_instants_round_trip_on_sqlite_whatever_their_zone_or_precision() -> None:
    table = _table()
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    written = [
        start + timedelta(seconds=7_919 * n, microseconds=(n * 104_729) % 1_000_000 * (n % 2))
        for n in range(500)
    ]
    written.append(datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2))))
    with engine.begin() as connection:
        connection.execute(insert(table), [{"at": at} for at in written] + [{"at": None}])
        read = connection.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read[:-1] == written
    assert all(at is not None and at.tzinfo is UTC for at in read[:-1])
    assert read[-1] is None


@pytest.mark.parametrize(
    "stored",
    [
        "2026-10-14T08:00:00",
        "2026-10-14 08:00",
        "2026-10-14 08:00:00+02:00",
        "2026-10-14 08:00:00.5",
    ],
)
def test_text_in_other_shapes_reads_as_the_general_processor_reads_it(stored: str) -> None:
    """The fast path must never disagree with SQLAlchemy's own parse plus the zone."""
    table = _table()
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t (at) VALUES (:at)"), {"at": stored})
        read = connection.execute(select(table.c.at)).scalar_one()
    dialect = sqlite.dialect()
    general = DateTime(timezone=True).dialect_impl(dialect).result_processor(dialect, None)
    assert general is not None
    assert read == UTCDateTime().process_result_value(general(stored), dialect)
