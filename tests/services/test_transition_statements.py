"""A transition's SQL: a fixed number of statements, however much the instance holds.

Every transition loads the instance with its steps and agreements (one query each), asks
who the actor is and which roles they hold over the unit chain (one query), writes its
audit row and state, and commits. A lazy load per step, per agreement or per unit above
the instance's (a query per row in a loop) shows here as a count that grows, or as one
above the ceiling of the transition it crept into.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlcount import statements
from support import dialog_id_of

from styrhjul.clock import FixedClock
from styrhjul.db.models import ChecklistItem, Dialog, Person
from styrhjul.errors import NotFound
from styrhjul.services.actors import unit_chain
from styrhjul.services.checklist import complete_agreement, complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import AgreementInput, close, hold
from styrhjul.services.instances import actor_roles, add_step, instance_transaction
from styrhjul.services.instances import fire_trigger as fire_instance
from styrhjul.services.org import ancestors, person_by_email, roles_of
from styrhjul.services.views import dialog_detail
from styrhjul.vocabulary import SYSTEM

SECRETARY = "sekreterare.ledningsgrupp@example.se"
RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
CEILINGS = {"open_preparation": 3, "mark_ready": 10, "hold": 11, "close": 5}
"""Statements each transition of the life below may take (what it took when pinned)."""


def life(app: App, clock: FixedClock, *dialog_ids: int) -> list[dict[str, int]]:
    """Take the dialogs from planned to closed, phase by phase; each one's statements for
    each state change."""
    details = [dialog_detail(app, i) for i in dialog_ids]
    counts: list[dict[str, int]] = [{} for _ in dialog_ids]

    def measured(phase: str, n: int, call: Callable[[], object]) -> None:
        with statements(app) as seen:
            call()
        counts[n][phase] = len(seen)

    clock.set(max(d.prepare_at for d in details))
    for n, i in enumerate(dialog_ids):
        measured("open_preparation", n, lambda i=i: fire_instance(app, i, "open_preparation",
                                                                   actor=SYSTEM))  # fmt: skip
    clock.advance(timedelta(hours=1))
    for n, i in enumerate(dialog_ids):
        *others, last = [s for s in dialog_detail(app, i).checklist if s.required]
        for step in others:
            complete_step(app, step.id, actor=step.assignee or "")
        measured("mark_ready", n, lambda s=last: complete_step(app, s.id, actor=s.assignee or ""))
    clock.set(max(d.dialog.starts_at for d in details) + timedelta(minutes=5))
    agreed = [AgreementInput("Analysera resultaten", RECTOR, date(2026, 12, 1))]
    for n, i in enumerate(dialog_ids):
        measured("hold", n, lambda i=i: hold(app, i, actor=SECRETARY, minutes="Resultat.",
                                             agreements=agreed))  # fmt: skip
    for n, i in enumerate(dialog_ids):
        for agreement in dialog_detail(app, i).agreements:
            complete_agreement(app, agreement.id, actor=agreement.owner)
        measured("close", n, lambda i=i: close(app, i, actor=SECRETARY))
        assert dialog_detail(app, i).dialog.state == "closed"
    return counts


def test_each_transition_stays_under_its_ceiling(planned_app: App, clock: FixedClock) -> None:
    [counts] = life(planned_app, clock, dialog_id_of(planned_app))
    over = {k: (n, CEILINGS[k]) for k, n in counts.items() if n > CEILINGS[k]}
    assert not over, f"statements (taken, ceiling) per transition: {over}"


def test_more_steps_and_assignees_cost_no_statement(planned_app: App, clock: FixedClock) -> None:
    """A dialog with twelve more steps, each with another assignee, costs the same."""
    app = planned_app
    plain, big = dialog_id_of(app, "vastra-skolan"), dialog_id_of(app, "bergaskolan")
    with app.db.session() as session:
        people = list(session.scalars(select(Person).order_by(Person.id).limit(12)))
    with instance_transaction(app, big, model=Dialog) as (_, dialog):
        for n, person in enumerate(people):
            add_step(
                dialog,
                key=f"extra_{n}",
                title=f"Extra {n}",
                assignee_role="rektor",
                assignee=person,
                required=False,
                due_at=dialog.checklist[0].due_at,
                remind_at=None,
                escalate_at=None,
            )
    first, second = life(app, clock, plain, big)
    assert first == second


def test_actor_roles_answer_as_roles_of_does(planned_app: App, clock: FixedClock) -> None:
    """One query over the unit chain gives what person_by_email and roles_of give, for every
    person, on the day and after a role ended (Östra skolan's rektor until 2025-07-31)."""
    app = planned_app
    units = ("vastra-skolan", "ostra-skolan", "bergaskolan")
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id_of(app, "ostra-skolan"))
        assert dialog is not None
        ended = person_by_email(session, "tidigare-rektor.ostra-skolan@example.se")
        assert roles_of(session, ended, dialog.unit, date(2025, 7, 31)) == {"rektor"}
    for _ in range(2):
        today = app.clock.today()
        with app.db.session() as session:
            people = list(session.scalars(select(Person)))
            for code in units:
                dialog = session.get(Dialog, dialog_id_of(app, code))
                assert dialog is not None
                for person in people:
                    mine = actor_roles(app, session, dialog, f" {person.email.upper()} ")
                    theirs = roles_of(session, person, dialog.unit, today)
                    assert mine == theirs, (code, person.email, today)
        clock.advance(timedelta(days=400))
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id_of(app))
        assert dialog is not None
        with pytest.raises(NotFound) as mine_missing:
            actor_roles(app, session, dialog, "Nobody@example.se")
        with pytest.raises(NotFound) as theirs_missing:
            person_by_email(session, "Nobody@example.se")
        assert str(mine_missing.value) == str(theirs_missing.value)
        assert actor_roles(app, session, dialog, SYSTEM) == {SYSTEM}


def test_unit_chain_is_ancestors_in_one_statement(planned_app: App) -> None:
    app = planned_app
    with app.db.session() as session:
        item = session.scalars(select(ChecklistItem).limit(1)).one()
        instance = item.instance
        expected = [u.id for u in ancestors(session, instance.unit)]
    assert len(expected) > 2
    with app.db.session() as session, statements(app) as seen:
        instance = session.get(Dialog, instance.id)
        assert instance is not None
        loaded = len(seen)
        chain = unit_chain(session, instance)
        assert [u.id for u in chain] == expected
        assert [u.id for u in ancestors(session, instance.unit)] == expected
    assert len(seen) == loaded + 1
