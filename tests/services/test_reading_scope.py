"""The reading scope of every person of the example organisation, read the two ways it is read.

``viewer_for`` reads the person; ``viewer_of`` (each web request) takes the person the
session already read. Both must give the same Viewer, and the units it reads must be each
held unit's subtree, walked one unit at a time as ``org.subtree_ids`` walks it, although the
scope walks all of them in one query.
"""

from __future__ import annotations

from sqlalchemy import select

from styrhjul.db.models import Person, RoleAssignment
from styrhjul.services.access import READS_ALL, viewer_for, viewer_of
from styrhjul.services.context import App
from styrhjul.services.org import subtree_ids, valid_on


def test_every_person_s_scope_is_their_held_units_subtrees(app: App) -> None:
    today = app.clock.today()
    with app.db.session() as session:
        people = session.execute(select(Person.id, Person.email, Person.title)).all()
        held: dict[int, set[tuple[str, int]]] = {}
        for person_id, role, unit_id in session.execute(
            select(RoleAssignment.person_id, RoleAssignment.role, RoleAssignment.unit_id).where(
                *valid_on(today)
            )
        ):
            held.setdefault(person_id, set()).add((role, unit_id))
        expected: dict[int, frozenset[int] | None] = {}
        for person_id, _, _ in people:
            roles = held.get(person_id, set())
            if any(role in READS_ALL for role, _ in roles):
                expected[person_id] = None
                continue
            units: set[int] = set()
            for _, unit_id in roles:
                units.update(session.scalars(subtree_ids(unit_id)))
            expected[person_id] = frozenset(units)
    scoped = [p for p, units in expected.items() if units]
    nested = [p for p in scoped if len({u for _, u in held[p]}) > 1]
    assert len(scoped) > 20
    assert nested  # someone holds roles in several units (an area head: the area and more)
    assert None in expected.values()
    assert frozenset() in expected.values()  # and someone holds no role today
    for person_id, email, title in people:
        viewer = viewer_for(app, person_id, admin=person_id % 2 == 0)
        assert viewer.units == expected[person_id], email
        assert (viewer.email, viewer.title, viewer.admin) == (email, title, person_id % 2 == 0)
        again = viewer_of(app, person_id, email, title, admin=person_id % 2 == 0)
        assert again == viewer, email
