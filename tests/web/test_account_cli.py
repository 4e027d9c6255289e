"""``styrhjul account`` on both databases: create, list, set-password, disable and enable.

These commands are how an operator lets people into the web app, so each is checked by
what it changes: the listing, and whether the password logs in (``accounts.log_in``).
"""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from support import Cli

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.errors import NotAuthenticated
from styrhjul.services.accounts import log_in
from styrhjul.wiring import build

EMAIL = "rektor.vastra-skolan@example.se"
NOW_AT = datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)
FIRST, SECOND = "ett-forsta-losenord-2026", "ett-andra-losenord-2026"


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))


def _logs_in(cli: Cli, password: str) -> bool:
    """Whether ``password`` opens a session of EMAIL now (the service the login page calls)."""
    app = build(load_settings(cli.config, environ={}), clock=FixedClock(NOW_AT))
    try:
        log_in(app, EMAIL, password)
    except NotAuthenticated:
        return False
    finally:
        app.close()
    return True


def test_an_account_is_created_listed_and_its_password_changed(
    org_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert org_cli.json("account", "list") == []
    _stdin(monkeypatch, FIRST)
    assert org_cli.ok("account", "create", EMAIL, "--password-stdin") == (
        f"account created for {EMAIL}\n"
    )
    [row] = org_cli.json("account", "list")
    assert (row["email"], row["admin"], row["password"], row["disabled_at"]) == (
        EMAIL,
        False,
        True,
        None,
    )
    assert _logs_in(org_cli, FIRST)

    _stdin(monkeypatch, FIRST)
    assert "already has an account" in org_cli.fails(
        2, "account", "create", EMAIL, "--password-stdin"
    )
    _stdin(monkeypatch, "kort")
    assert "at least 12 characters" in org_cli.fails(
        2, "account", "set-password", EMAIL, "--password-stdin"
    )
    _stdin(monkeypatch, SECOND)
    assert "sessions have ended" in org_cli.ok("account", "set-password", EMAIL, "--password-stdin")
    assert not _logs_in(org_cli, FIRST)
    assert _logs_in(org_cli, SECOND)


def test_a_disabled_account_cannot_log_in_until_enabled(
    org_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, FIRST)
    org_cli.ok("account", "create", EMAIL, "--admin", "--password-stdin")
    assert org_cli.json("account", "list")[0]["admin"] is True
    assert org_cli.ok("account", "disable", EMAIL) == f"account of {EMAIL} disabled\n"
    assert org_cli.json("account", "list")[0]["disabled_at"] is not None
    assert not _logs_in(org_cli, FIRST)
    org_cli.ok("account", "enable", EMAIL)
    assert _logs_in(org_cli, FIRST)
    assert "nobody@example.se" in org_cli.fails(3, "account", "disable", "nobody@example.se")
