"""``styrhjul feed`` and its tokens: the service and the command line.

Tokens: shown once, only the digest stored, unknown and revoked ones refused, last use
recorded. The CLI: exit codes, standard output, ``--out`` written whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select
from support import Cli

from styrhjul.clock import FixedClock
from styrhjul.db.models import FeedToken
from styrhjul.errors import InputError, NotFound
from styrhjul.services.context import App
from styrhjul.services.feed_tokens import (
    create_token,
    feed_for_token,
    list_tokens,
    revoke_token,
)

PRINCIPAL = "rektor.vastra-skolan@example.se"


def _stored(app: App) -> list[FeedToken]:
    with app.db.session() as session:
        rows = list(session.scalars(select(FeedToken)))
        session.expunge_all()
    return rows


def test_a_token_is_shown_once_and_only_its_digest_is_stored(app: App) -> None:
    created = create_token(app, person=PRINCIPAL, label="Outlook")
    assert len(created.token) >= 43  # 32 random bytes, URL-safe base64
    (row,) = _stored(app)
    assert row.digest == hashlib.sha256(created.token.encode()).hexdigest()
    assert created.token not in repr(vars(row))
    assert created.address == f"{app.settings.web.base_url}/kalender/{created.token}.ics"
    listed = list_tokens(app)
    assert [(r.id, r.owner_kind, r.owner, r.label) for r in listed] == [
        (row.id, "person", PRINCIPAL, "Outlook")
    ]
    assert created.token not in repr(listed)
    other = create_token(app, unit="vastra-skolan")
    assert other.token != created.token
    assert other.row.owner_kind == "unit"


def test_the_token_gives_the_feed_and_records_its_use(app: App, clock: FixedClock) -> None:
    created = create_token(app, unit="vastra-skolan", token="t" * 43)
    clock.advance(dt.timedelta(hours=2))
    data = feed_for_token(app, created.token)
    assert str(Calendar.from_ical(data)["NAME"]) == "Styrhjul – Västra skolan"
    (row,) = _stored(app)
    assert row.last_used_at == clock.now()


def test_unknown_and_revoked_tokens_are_refused_alike(app: App) -> None:
    created = create_token(app, person=PRINCIPAL)
    with pytest.raises(NotFound) as unknown:
        feed_for_token(app, created.token[:-1] + ("A" if created.token[-1] != "A" else "B"))
    revoked = revoke_token(app, created.row.id)
    assert revoked.revoked_at is not None
    with pytest.raises(NotFound) as refused:
        feed_for_token(app, created.token)
    assert str(unknown.value) == str(refused.value) == "feed for this token not found"
    assert created.token not in str(refused.value)
    assert revoke_token(app, created.row.id).revoked_at == revoked.revoked_at  # no change
    (row,) = _stored(app)
    assert row.last_used_at is None
    with pytest.raises(NotFound, match="feed token 999 not found"):
        revoke_token(app, 999)


def test_a_token_needs_exactly_one_owner_that_exists(app: App) -> None:
    with pytest.raises(InputError, match="either a person or a unit"):
        create_token(app)
    with pytest.raises(InputError, match="either a person or a unit"):
        create_token(app, person=PRINCIPAL, unit="vastra-skolan")
    with pytest.raises(NotFound, match="unit 'nowhere'"):
        create_token(app, unit="nowhere")
    with pytest.raises(InputError, match="one line"):
        create_token(app, person=PRINCIPAL, label="a\nb")
    assert _stored(app) == []


# --- the command line ---------------------------------------------------------------------


def test_feed_to_stdout_and_to_a_file(org_cli: Cli, tmp_path: Path) -> None:
    out = org_cli.ok("feed", "--person", PRINCIPAL)
    assert out.startswith("BEGIN:VCALENDAR")
    assert "X-WR-CALNAME:Styrhjul – Rektor Västra skolan" in out
    target = tmp_path / "feeds" / "vastra.ics"
    target.parent.mkdir()
    target.write_text("the old feed", encoding="utf-8")
    code, _, err = org_cli("feed", "--unit", "vastra-skolan", "--out", str(target))
    assert code == 0, err
    assert f"wrote {target}" in err
    assert Calendar.from_ical(target.read_bytes())["METHOD"] == "PUBLISH"
    assert b"\r\n" in target.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["vastra.ics"]  # no leftovers


def test_feed_errors_leave_the_file_alone(org_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "kept.ics"
    target.write_text("the old feed", encoding="utf-8")
    err = org_cli.fails(3, "feed", "--unit", "nowhere", "--out", str(target))
    assert "unit 'nowhere' not found" in err
    assert target.read_text(encoding="utf-8") == "the old feed"
    assert "one of them" in org_cli.fails(2, "feed")
    assert "one of them" in org_cli.fails(
        2, "feed", "--person", PRINCIPAL, "--unit", "vastra-skolan"
    )
    err = org_cli.fails(2, "feed", "--unit", "vastra-skolan", "--out", str(tmp_path / "no/x.ics"))
    assert "does not exist" in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".partial") == []


def test_token_commands(org_cli: Cli) -> None:
    code, out, err = org_cli("feed", "token", "create", "--person", PRINCIPAL, "--label", "Mac")
    assert code == 0, err
    token = out.strip()
    assert len(token) >= 43
    assert f"http://127.0.0.1:8080/kalender/{token}.ics" in err
    assert "only time" in err
    (row,) = org_cli.json("feed", "token", "list")
    assert (row["owner_kind"], row["owner"], row["label"]) == ("person", PRINCIPAL, "Mac")
    assert row["revoked_at"] is None
    assert token not in org_cli.ok("feed", "token", "list")
    assert f"token {row['id']} for person {PRINCIPAL} revoked" in org_cli.ok(
        "feed", "token", "revoke", str(row["id"])
    )
    (row,) = org_cli.json("feed", "token", "list")
    assert row["revoked_at"] is not None
    assert "feed token 99 not found" in org_cli.fails(3, "feed", "token", "revoke", "99")
    assert "one of them" in org_cli.fails(2, "feed", "token", "create")
