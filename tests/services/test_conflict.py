"""Optimistic concurrency: a change based on a stale read is refused, and nothing of it is saved."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, time

import pytest
from sqlalchemy import func, select
from support import dialog_id_of

from styrhjul.clock import STOCKHOLM
from styrhjul.db.models import AuditEvent, OutboxMessage
from styrhjul.errors import ConflictError, TransitionRefused
from styrhjul.services.context import App
from styrhjul.services.dialogs import cancel, dialog_transaction, postpone
from styrhjul.services.instances import fire
from styrhjul.services.views import dialog_detail

SECRETARY = "sekreterare.ledningsgrupp@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
DIRECTOR = "utbildningsdirektor@example.se"


def _audit_triggers(app: App, dialog_id: int) -> list[str]:
    with app.db.session() as session:
        return list(
            session.scalars(
                select(AuditEvent.trigger)
                .where(AuditEvent.entity == "dialog", AuditEvent.entity_id == dialog_id)
                .order_by(AuditEvent.id)
            )
        )


def _outbox_count(app: App, kind: str) -> int:
    with app.db.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)
            )
            or 0
        )


def test_a_stale_expected_version_is_refused(planned_app: App) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    read = dialog_detail(app, dialog_id).dialog.version

    with dialog_transaction(app, dialog_id, expected_version=read) as (_, dialog):
        dialog.location = "Rum 1"
    after_first = dialog_detail(app, dialog_id)
    assert after_first.location == "Rum 1"
    assert after_first.dialog.version == read + 1

    with (
        pytest.raises(ConflictError, match=f"expected version {read}") as caught,
        dialog_transaction(app, dialog_id, expected_version=read) as (_, dialog),
    ):
        dialog.location = "Rum 2"
    assert caught.value.ref == f"dialog {dialog_id}"
    assert "nothing was saved" in str(caught.value)
    assert dialog_detail(app, dialog_id).location == "Rum 1"
    assert dialog_detail(app, dialog_id).dialog.version == read + 1


def test_services_refuse_a_stale_expected_version(planned_app: App) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    read = dialog_detail(app, dialog_id).dialog.version
    with dialog_transaction(app, dialog_id) as (_, dialog):
        dialog.location = "Aulan"
    cancels_before = _outbox_count(app, "cancel")
    with pytest.raises(ConflictError):
        cancel(app, dialog_id, actor=SECRETARY, reason="krock", expected_version=read)
    detail = dialog_detail(app, dialog_id)
    assert detail.dialog.state == "planned"
    assert detail.ical_sequence == 0
    assert _audit_triggers(app, dialog_id) == ["plan"]
    assert _outbox_count(app, "cancel") == cancels_before
    # With the current version it goes through.
    assert (
        cancel(app, dialog_id, actor=SECRETARY, reason="krock", expected_version=read + 1)
        == "cancelled"
    )


def _read_then_write_after_b_commits(app: App, dialog_id: int, write: str) -> None:
    """Session A loads the dialog; B (a whole service call) commits; then A writes."""
    with dialog_transaction(app, dialog_id) as (session, dialog):
        assert dialog.state == "planned"  # A only reads before B runs: no row lock held
        assert cancel(app, dialog_id, actor=DIRECTOR, reason="Stängt") == "cancelled"
        if write == "cancel":
            # A decides on what it read: the dialog looked 'planned', so cancel is allowed.
            assert fire(app, session, dialog, "cancel", SECRETARY, "också") == "cancelled"
            dialog.ical_sequence += 1
        else:
            dialog.location = "Rum 3"


def test_a_transition_made_on_a_stale_read_is_refused(planned_app: App) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    with pytest.raises(ConflictError, match=f"dialog {dialog_id} was changed by someone else"):
        _read_then_write_after_b_commits(app, dialog_id, "cancel")
    detail = dialog_detail(app, dialog_id)
    assert detail.dialog.state == "cancelled"
    assert detail.ical_sequence == 1
    # A's audit row went with its rollback: only B's cancel is recorded.
    assert [(h.actor, h.trigger) for h in detail.history] == [
        ("system", "plan"),
        (DIRECTOR, "cancel"),
    ]


def test_a_field_change_made_on_a_stale_read_saves_nothing(planned_app: App) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    before = dialog_detail(app, dialog_id)
    with pytest.raises(ConflictError):
        _read_then_write_after_b_commits(app, dialog_id, "location")
    detail = dialog_detail(app, dialog_id)
    assert detail.location == before.location
    assert detail.dialog.state == "cancelled"
    assert detail.dialog.version == before.dialog.version + 1


def _run_together(workers: list[Callable[[], object]]) -> list[object]:
    """Run each worker in its own thread; return what each returned or raised."""
    results: list[object] = [None] * len(workers)

    def run(i: int) -> None:
        try:
            results[i] = workers[i]()
        except Exception as exc:  # the outcome is what the test inspects
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return results


def test_two_threads_that_both_read_before_writing(planned_app: App) -> None:
    """Both load the dialog, then both cancel it: exactly one wins, the other conflicts."""
    app = planned_app
    dialog_id = dialog_id_of(app)
    both_loaded = threading.Barrier(2, timeout=30)

    def worker() -> str:
        with dialog_transaction(app, dialog_id) as (session, dialog):
            both_loaded.wait()
            state = fire(app, session, dialog, "cancel", SECRETARY, "dubbelt")
            dialog.ical_sequence += 1
            return state

    results = _run_together([worker, worker])
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "str"]
    assert "cancelled" in results
    assert _audit_triggers(app, dialog_id) == ["plan", "cancel"]
    assert dialog_detail(app, dialog_id).ical_sequence == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_threads_cancel_at_the_same_time(planned_app: App, attempt: int) -> None:
    app = planned_app
    dialog_id = dialog_id_of(app)
    start = threading.Barrier(2, timeout=30)

    def worker() -> str:
        start.wait()
        return cancel(app, dialog_id, actor=SECRETARY, reason=f"försök {attempt}")

    results = _run_together([worker, worker])
    winners = [r for r in results if r == "cancelled"]
    losers = [r for r in results if isinstance(r, ConflictError | TransitionRefused)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert _audit_triggers(app, dialog_id) == ["plan", "cancel"]
    detail = dialog_detail(app, dialog_id)
    assert detail.dialog.state == "cancelled"
    assert detail.ical_sequence == 1
    assert _outbox_count(app, "cancel") == 2


def test_postpone_and_cancel_race(planned_app: App) -> None:
    """Two different changes at once: one is applied whole, the other not at all."""
    app = planned_app
    dialog_id = dialog_id_of(app)
    before = dialog_detail(app, dialog_id)
    day = app.calendar.add_working_days(before.dialog.starts_at.date(), 5)
    new_start = datetime.combine(day, time(13, 0), tzinfo=STOCKHOLM)
    start = threading.Barrier(2, timeout=30)

    def do_cancel() -> object:
        start.wait()
        return cancel(app, dialog_id, actor=SECRETARY, reason="inställt")

    def do_postpone() -> object:
        start.wait()
        return postpone(app, dialog_id, actor=HEAD, starts_at=new_start, reason="flytt")

    results = _run_together([do_cancel, do_postpone])
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) <= 1, results
    for error in errors:
        assert isinstance(error, ConflictError | TransitionRefused), error
    triggers = _audit_triggers(app, dialog_id)
    detail = dialog_detail(app, dialog_id)
    assert triggers[0] == "plan"
    assert len(triggers) == 1 + (2 - len(errors))
    assert detail.ical_sequence == len(triggers) - 1
