"""``simulate``: a dry run of a planned dialog round on a simulated clock, on a private copy.

Round 1 of 2026/27 is planned; one dialog is kept (Västra skolan, Tuesday 6 October 14.30,
under the shipped definition, which escalates once, two working days after due). Its
preparation opens Tuesday 8 September 08.00; the rektor's step "Uppdatera
kvalitetsrapporten" is reminded Friday 18 September 08.00, due Tuesday 22 September 16.00
and escalated to the area head Thursday 24 September 08.00. The 80 invites of the round are
pending in the outbox and go out at the fixture's clock, Tuesday 1 September 09.00.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support import dialog_id_of, keep_dialogs

from styrhjul.clock import STOCKHOLM
from styrhjul.db.models import Base, OutboxMessage
from styrhjul.errors import InputError
from styrhjul.services.context import App
from styrhjul.services.dialogs import postpone
from styrhjul.services.simulation import SCRATCH_PREFIX, check_period, simulate
from styrhjul.services.simulation_report import DayReport, SimulationReport

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
postgres_only = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
QUALITY_REPORT = "Uppdatera kvalitetsrapporten med analys och bedömning"
FIRST, DIALOG_DAY = date(2026, 9, 1), date(2026, 10, 6)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """Where the simulation puts its private copy: empty again once it is done."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


@pytest.fixture
def vastra(planned_app: App) -> App:
    keep_dialogs(planned_app, "vastra-skolan")
    return planned_app


def state_of(app: App) -> dict[str, Any]:
    """Every table's row count, and each outbox row's status, attempts and sending time."""
    with app.db.session() as session:
        counts = {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
        outbox = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.status,
                OutboxMessage.attempts,
                OutboxMessage.sent_at,
            ).order_by(OutboxMessage.id)
        ).all()
    return {"counts": counts, "outbox": [tuple(row) for row in outbox]}


def mails(app: App) -> list[Path]:
    new = app.settings.maildir_path / "new"
    return sorted(new.iterdir()) if new.exists() else []


def day_of(report: SimulationReport, day: date) -> DayReport:
    found = [d for d in report.days if d.day == day]
    assert found, f"nothing reported on {day}; days: {[str(d.day) for d in report.days]}"
    return found[0]


@sqlite_only
def test_the_round_unfolds_day_by_day_on_the_right_working_days(vastra: App, scratch: Path) -> None:
    report = simulate(vastra, FIRST, DIALOG_DAY, scratch=scratch)

    invites = [s for s in day_of(report, FIRST).sent if s.kind == "invite"]
    assert len(invites) == 80  # the round's pending invites, at the clock of the real app
    assert {s.at for s in invites} == {at(9, 1, 9)}
    (to_rector,) = [s for s in invites if s.to == RECTOR]
    assert "Västra skolan" in to_rector.subject
    assert to_rector.message_id.startswith("<")

    (opened,) = day_of(report, date(2026, 9, 8)).changes
    assert (opened.what, opened.at, opened.title) == (
        "open_preparation",
        at(9, 8, 8),
        "Verksamhetsdialog Västra skolan",
    )
    assert opened.detail.startswith("planned → preparing")

    reminded = day_of(report, date(2026, 9, 18)).sent
    assert [(s.kind, s.to, s.at) for s in reminded if QUALITY_REPORT in s.subject] == [
        ("reminder", RECTOR, at(9, 18, 8))
    ]

    due_day = day_of(report, date(2026, 9, 22))
    assert [(c.what, c.at) for c in due_day.changes if QUALITY_REPORT in c.detail] == [
        ("overdue", at(9, 22, 16))
    ]
    assert [(s.kind, s.to) for s in due_day.sent if QUALITY_REPORT in s.subject] == [
        ("overdue", RECTOR)
    ]

    escalation_day = day_of(report, date(2026, 9, 24))
    assert [(e.step, e.level, e.to, e.at) for e in escalation_day.escalated] == [
        (QUALITY_REPORT, 1, HEAD, at(9, 24, 8))
    ]
    assert [(s.kind, s.to) for s in escalation_day.sent if s.kind == "escalation"] == [
        ("escalation", HEAD)
    ]
    assert all(not e.escalated for e in report.days if e.day < date(2026, 9, 22))

    weekend = {date(2026, 9, 5), date(2026, 9, 6), date(2026, 9, 12), date(2026, 9, 13)}
    assert not weekend & {d.day for d in report.days}
    assert report.days_simulated == 36
    assert report.quiet_days == 36 - len(report.days)
    assert report.totals["sent"] == sum(report.sent_by_kind.values())
    assert report.totals["escalated"] == sum(len(d.escalated) for d in report.days)


@sqlite_only
def test_nothing_is_sent_and_the_real_database_is_unchanged(vastra: App, scratch: Path) -> None:
    before = state_of(vastra)
    report = simulate(vastra, FIRST, date(2026, 9, 24), scratch=scratch)
    assert report.totals["sent"] > 80
    assert state_of(vastra) == before
    assert mails(vastra) == []
    assert list(scratch.iterdir()) == []  # the copy is gone


@sqlite_only
def test_a_simulation_failing_halfway_leaves_everything_as_it_was(
    vastra: App, scratch: Path
) -> None:
    before = state_of(vastra)
    seen: list[date] = []

    def fail_on_the_15th(sim: App, day: date) -> None:
        assert sim.db.url != vastra.db.url
        seen.append(day)
        if day == date(2026, 9, 15):
            raise RuntimeError("before_day broke")

    with pytest.raises(RuntimeError, match="before_day broke"):
        simulate(vastra, FIRST, DIALOG_DAY, before_day=fail_on_the_15th, scratch=scratch)
    assert seen[0] == FIRST
    assert seen[-1] == date(2026, 9, 15)
    assert state_of(vastra) == before
    assert mails(vastra) == []
    assert not [p for p in scratch.iterdir() if p.name.startswith(SCRATCH_PREFIX)]


@sqlite_only
def test_the_same_simulation_twice_gives_the_same_report(vastra: App, scratch: Path) -> None:
    first = simulate(vastra, FIRST, date(2026, 9, 24), scratch=scratch)
    again = simulate(vastra, FIRST, date(2026, 9, 24), scratch=scratch)
    assert first == again
    assert first.totals["escalated"] == 2  # the area head's and the rektor's first steps


@sqlite_only
def test_what_before_day_does_is_reported_on_its_day(vastra: App, scratch: Path) -> None:
    """before_day acts on the simulated application at the start of its day, on its clock."""
    dialog = dialog_id_of(vastra)
    before = state_of(vastra)
    clocks: list[datetime] = []

    def move_on_the_10th(sim: App, day: date) -> None:
        clocks.append(sim.clock.now())
        if day == date(2026, 9, 10):
            postpone(
                sim, dialog, actor=HEAD, starts_at=at(10, 13, 14, 30), reason="Krockar med APT"
            )

    report = simulate(
        vastra, FIRST, date(2026, 9, 11), before_day=move_on_the_10th, scratch=scratch
    )
    assert clocks[0] == at(9, 1, 9)  # the walk starts at the real clock, not before it
    assert clocks[1:] == [at(9, d, 0) for d in range(2, 12)]
    moved_day = day_of(report, date(2026, 9, 10))
    (moved,) = moved_day.moved
    assert (moved.instance_id, moved.at, moved.starts_at) == (
        dialog,
        at(9, 10, 0),
        at(10, 13, 14, 30),
    )
    assert moved.sequence == 1
    assert "Krockar med APT" in moved.reason
    assert {(s.kind, s.to) for s in moved_day.sent} == {("invite", RECTOR), ("invite", HEAD)}
    assert state_of(vastra) == before
    assert [d.day for d in report.days if d.moved] == [date(2026, 9, 10)]


@sqlite_only
@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        (date(2026, 9, 2), date(2026, 9, 1), "ends (2026-09-01) before it begins"),
        (date(2026, 9, 1), date(2028, 9, 1), "longer than 2 years"),
        (date(2028, 2, 29), date(2030, 3, 1), "longer than 2 years"),
    ],
)
def test_a_bad_period_is_refused_naming_the_options(
    app: App, scratch: Path, first: date, last: date, says: str
) -> None:
    with pytest.raises(InputError, match=re.escape(says)) as caught:
        simulate(app, first, last, scratch=scratch)
    assert caught.value.key == "--from/--to"
    assert list(scratch.iterdir()) == []


def test_two_years_to_the_day_are_allowed() -> None:
    check_period(date(2026, 9, 1), date(2028, 8, 31))
    check_period(date(2028, 2, 29), date(2030, 2, 28))
    check_period(date(2026, 9, 1), date(2026, 9, 1))


@postgres_only
def test_the_copy_is_taken_from_postgresql_too(vastra: App, scratch: Path) -> None:
    assert vastra.db.engine.dialect.name == "postgresql"
    before = state_of(vastra)
    report = simulate(vastra, FIRST, date(2026, 9, 8), scratch=scratch)
    assert len([s for s in day_of(report, FIRST).sent if s.kind == "invite"]) == 80
    (opened,) = day_of(report, date(2026, 9, 8)).changes
    assert (opened.what, opened.at) == ("open_preparation", at(9, 8, 8))
    assert state_of(vastra) == before
    assert list(scratch.iterdir()) == []
