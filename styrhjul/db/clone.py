"""A private copy of a whole database in a SQLite file, for dry runs that must not touch it.

:func:`clone_to_sqlite` creates the schema from the models' metadata and copies every
table's rows, ids kept, in dependency order with SQLAlchemy Core, so it works the same from
SQLite and from PostgreSQL. All tables are read in one transaction that sees one snapshot
(``REPEATABLE READ`` on PostgreSQL, an explicit ``BEGIN`` on SQLite), so a copy taken while
the daemon writes is still consistent. The source is only read, through an engine of its
own that is disposed afterwards; the application's engine and its settings are left alone.

What the copy lacks: Alembic's version table and the trigger that keeps ``audit_event``
append-only (neither is part of the metadata). A copy is scratch space, not a database to
migrate or to keep.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, Connection, Engine, Table, create_engine, event, insert, select

from styrhjul.db.models import Base  # styrhjul.db registers the governance tables too

BATCH = 1000
"""Rows read and inserted at a time: bounded memory, few round trips."""


def clone_to_sqlite(source_url: str | URL, target: Engine) -> dict[str, int]:
    """Copy every table of the database at ``source_url`` into the empty SQLite ``target``.

    Returns the number of rows copied per table. Foreign keys are checked at the end of the
    copy (``PRAGMA defer_foreign_keys``), so a row may refer to one later in its own table,
    such as a unit moved under a unit created after it.
    """
    if target.dialect.name != "sqlite":
        raise ValueError(f"the copy goes into SQLite, not {target.dialect.name}")
    Base.metadata.create_all(target)
    source = _snapshot_engine(source_url)
    copied: dict[str, int] = {}
    try:
        with source.connect() as reader, target.begin() as writer:
            if source.dialect.name == "postgresql":
                reader.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            writer.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            with reader.begin():
                for table in Base.metadata.sorted_tables:
                    copied[table.name] = _copy_table(reader, writer, table)
    finally:
        source.dispose()
    return copied


def _copy_table(reader: Connection, writer: Connection, table: Table) -> int:
    """Copy ``table``'s rows in primary-key order, batch by batch."""
    keys = [column.key for column in table.columns]
    query = select(table).order_by(*table.primary_key.columns)
    count = 0
    for batch in reader.execution_options(yield_per=BATCH).execute(query).partitions(BATCH):
        writer.execute(insert(table), [dict(zip(keys, row, strict=True)) for row in batch])
        count += len(batch)
    return count


def _snapshot_engine(url: str | URL) -> Engine:
    """An engine of its own on the source; on SQLite its transactions really begin.

    Python's sqlite3 module sends no ``BEGIN`` before a ``SELECT``, so each query would
    see the file as it is at that moment; SQLAlchemy's documented recipe takes the
    transaction control over, so one ``BEGIN`` covers every table of the copy.
    """
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine
