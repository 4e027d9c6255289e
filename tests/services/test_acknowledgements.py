"""Acknowledgements (kvittenser): the rektor hears of what others do for their unit, once."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from sqlalchemy import select
from support import body_of, dialog_id_of

from styrhjul.calendar import SchoolYear
from styrhjul.db.models import ChecklistItem, OutboxMessage
from styrhjul.services.acknowledgements import acknowledge
from styrhjul.services.assignments import NewAssignment, change_units, create_assignment
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.org import unit_by_code

RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
DIRECTOR = "utbildningsdirektor@example.se"


def _step(app: App, key: str) -> int:
    with app.db.session() as session:
        found = session.scalar(
            select(ChecklistItem.id).where(
                ChecklistItem.instance_id == dialog_id_of(app), ChecklistItem.key == key
            )
        )
    assert found is not None
    return found


def _acknowledgements(app: App) -> list[tuple[str, EmailMessage]]:
    with app.db.session() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "acknowledgement")
            .order_by(OutboxMessage.id)
        )
        parsed = []
        for row in rows:
            message = email.message_from_bytes(row.payload, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append((row.key, message))
        return parsed


def test_the_rektor_gets_a_kvittens_when_the_area_head_ticks_a_step(planned_app: App) -> None:
    ident = _step(planned_app, "quality_criteria")  # the area head's step
    complete_step(planned_app, ident, actor=HEAD)
    ((key, message),) = _acknowledgements(planned_app)
    assert key == f"acknowledgement:step-done:{ident}"
    (to,) = message["To"].addresses
    assert to.addr_spec == RECTOR
    assert message["Subject"] == (
        "Kvittens: Steget ”Fastställ kvalitetskriterier och valda indikatorer för dialogen”"
        " i Verksamhetsdialog Västra skolan är klart."
    )
    text = body_of(message)
    assert "Av: Verksamhetschef grundskola norr" in text
    assert "När: tisdag 1 september 2026 kl. 09.00" in text
    assert "rektor för Västra skolan" in text
    html = message.get_body(("html",))
    assert html is not None
    assert "Verksamhetschef grundskola norr" in str(html.get_content())

    complete_step(planned_app, ident, actor=HEAD)  # ticking again changes nothing
    assert len(_acknowledgements(planned_app)) == 1


def test_no_kvittens_when_the_rektor_ticks_their_own_step(planned_app: App) -> None:
    complete_step(planned_app, _step(planned_app, "quality_report"), actor=RECTOR)
    assert _acknowledgements(planned_app) == []


def test_a_step_the_rektor_owns_ticked_by_the_area_head_is_acknowledged(
    planned_app: App,
) -> None:
    ident = _step(planned_app, "facts")
    complete_step(planned_app, ident, actor=HEAD)
    ((key, message),) = _acknowledgements(planned_app)
    assert key == f"acknowledgement:step-done:{ident}"
    assert "Steget ”Samla in och analysera fakta" in message["Subject"]


def test_acknowledge_is_idempotent_by_key_and_skips_units_without_a_rektor(app: App) -> None:
    with app.db.session() as session:
        school = unit_by_code(session, "vastra-skolan")
        what = "Ett förslag om läsfrämjande insatser är inlämnat."
        assert acknowledge(app, session, school, what=what, actor=HEAD, key="idea:1")
        assert not acknowledge(app, session, school, what=what, actor=HEAD, key="idea:1")
        team = unit_by_code(session, "vastra-skolan-f-3")  # a team: its school's rektor
        assert acknowledge(app, session, team, what=what, actor="system", key="idea:2")
        area = unit_by_code(session, "grundskola-norr")  # an area has no rektor
        assert not acknowledge(app, session, area, what=what, actor=HEAD, key="idea:3")
        assert not acknowledge(app, session, school, what=what, actor=RECTOR.upper(), key="idea:4")
    sent = _acknowledgements(app)
    assert [key for key, _ in sent] == ["acknowledgement:idea:1", "acknowledgement:idea:2"]
    assert all(m["To"].addresses[0].addr_spec == RECTOR for _, m in sent)
    assert "Av: Styrhjul" in body_of(sent[1][1])


def test_each_rektor_hears_of_a_plan_assignment_that_concerns_their_unit(app: App) -> None:
    new = NewAssignment(
        title="Matematik",
        responsible=HEAD,
        school_year=SchoolYear(2026),
        description="Höjda resultat i matematik.",
        units=("vastra-skolan", "norrbackaskolan"),
        steering_group=(DIRECTOR, HEAD),
        support=(),
    )
    assignment_id = create_assignment(app, new, actor=DIRECTOR)
    sent = _acknowledgements(app)
    assert [key for key, _ in sent] == [
        f"acknowledgement:assignment-unit:{assignment_id}:vastra-skolan",
        f"acknowledgement:assignment-unit:{assignment_id}:norrbackaskolan",
    ]
    _, message = sent[0]
    assert message["To"].addresses[0].addr_spec == RECTOR
    assert "Enheten berörs av VP-uppdraget ”Matematik” (läsåret 2026/27)." in body_of(message)
    change_units(app, assignment_id, actor=DIRECTOR, add=("ostra-skolan",))
    later = [key for key, _ in _acknowledgements(app)]
    assert later[-1] == f"acknowledgement:assignment-unit:{assignment_id}:ostra-skolan"
    assert len(later) == 3
