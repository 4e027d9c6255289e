"""The private PostgreSQL server the suite starts: a real round trip, templates, stop.

Only the tests that start a server carry the ``postgres`` marker; finding the programs does not.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from pgserver import INSTALL_HINT, PostgresServer, find_bindir
from sqlalchemy import create_engine, text

TITLES = ["Verksamhetsdialog med rektor, Östra skolan", "Dialogrunda 2"]


def _port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _read_titles(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT title FROM dialog ORDER BY id")))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_server_round_trip_template_and_stop(tmp_path: Path) -> None:
    started = time.monotonic()
    with PostgresServer(tmp_path) as pg:
        elapsed = time.monotonic() - started
        port = pg.port
        assert port is not None
        assert _port_is_open(port)
        assert pg.url("first") == f"postgresql+psycopg://postgres@127.0.0.1:{port}/first"

        pg.create_database("first")
        engine = create_engine(pg.url("first"))
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE dialog (id serial PRIMARY KEY, title text)"))
                conn.execute(
                    text("INSERT INTO dialog (title) VALUES (:title)"),
                    [{"title": title} for title in TITLES],
                )
            with engine.connect() as conn:
                assert conn.scalar(text("SHOW fsync")) == "off"
                assert conn.scalar(text("SHOW max_connections")) == "200"
                assert conn.scalar(text("SELECT current_setting('server_encoding')")) == "UTF8"
        finally:
            engine.dispose()
        assert _read_titles(pg.url("first")) == TITLES

        pg.create_database("second", template="first")
        assert _read_titles(pg.url("second")) == TITLES

        pg.drop_database("second")
        with pg.connect() as conn:
            names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        assert "first" in names
        assert "second" not in names

    assert pg.port is None
    assert not _port_is_open(port)
    assert (tmp_path / "data" / "PG_VERSION").is_file()
    assert (tmp_path / "postgres.log").is_file()
    print(f"PostgreSQL start took {elapsed:.2f} s")  # visible with -s


@pytest.mark.postgres
def test_failed_start_reports_the_log(tmp_path: Path) -> None:
    server = PostgresServer(tmp_path, settings={"shared_buffers": "plenty"})
    with pytest.raises(RuntimeError, match="did not start") as caught:
        server.start()
    assert "shared_buffers" in str(caught.value)
    assert server.port is None


def test_highest_installed_version_is_chosen(tmp_path: Path) -> None:
    for version in ("9.6", "10", "16", "not-a-version"):
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        for name in ("initdb", "pg_ctl", "postgres"):
            (bindir / name).write_text("#!/bin/sh\n")
            os.chmod(bindir / name, 0o755)
    (tmp_path / "16" / "bin" / "postgres").unlink()  # a client-only install does not count

    found = find_bindir(pg_config="no-such-pg-config", debian_root=tmp_path)

    assert found == tmp_path / "10" / "bin"


def test_missing_binaries_fail_with_the_install_hint(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as caught:
        find_bindir(pg_config="no-such-pg-config", debian_root=tmp_path)
    assert INSTALL_HINT in str(caught.value)
