"""Who may see what: the reading scope of a person, from their roles in the organisation.

What a person may *do* to an instance is decided where it is done, by the workflow's roles
relative to the instance's unit (``services.instances``: a secretary closes only the
dialogs they keep). What a person may *see* is decided here, once, for the CLI's future
``--as`` views, the web pages and the JSON API alike:

* the director and the controllers read everything (``reads_all``);
* every other role reads the subtree of each unit where the person holds it: a rektor
  their unit and its teams, an area head their area, the secretary of the administration
  the whole administration;
* everyone reads the instances in which a step is assigned to them, wherever those are;
* administrators manage accounts, workflows and people; that alone gives no reading right.

A refusal is a :class:`~styrhjul.errors.PermissionDenied` naming the person, the thing and
why, which the web app answers with 403 and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from styrhjul.db.models import ChecklistItem, Instance, OrgUnit, Person, RoleAssignment
from styrhjul.errors import NotFound, PermissionDenied
from styrhjul.services.context import App
from styrhjul.services.org import ids_below, valid_on

READS_ALL = ("director", "controller")


@dataclass(frozen=True)
class Viewer:
    """A person with the roles they hold today and the units they may read."""

    person_id: int
    email: str
    title: str
    admin: bool
    roles: tuple[tuple[str, str], ...]
    """(role, unit code) of every role held today."""
    units: frozenset[int] | None
    """Ids of the units whose instances this person reads; None: every unit."""

    @property
    def reads_all(self) -> bool:
        return self.units is None

    def holds(self, *roles: str) -> bool:
        return any(role in roles for role, _ in self.roles)

    @property
    def oversees(self) -> bool:
        """Whether the overview pages show them anything: any role today (``reads_all`` too)."""
        return bool(self.roles)

    @property
    def is_secretary(self) -> bool:
        """Whether they keep dialogs and meetings as secretary of some unit today."""
        return self.holds("secretary")

    def sees_unit(self, unit_id: int | None) -> bool:
        return self.units is None or (unit_id is not None and unit_id in self.units)


def viewer_for(app: App, person_id: int, *, admin: bool = False, on: date | None = None) -> Viewer:
    """The reading scope of the person ``person_id`` on ``on`` (today)."""
    with app.db.session() as session:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound("person", person_id)
        return _scope(
            session, person.id, person.email, person.title, admin, on or app.clock.today()
        )


def viewer_of(app: App, person_id: int, email: str, title: str, *, admin: bool = False) -> Viewer:
    """:func:`viewer_for` today, of a person already read (as a login session reads them).

    The web app asks this on every request, right after ``accounts.session_for`` read the
    session with its person: reading the person again would be one more statement of the
    few a page needs.
    """
    with app.db.session() as session:
        return _scope(session, person_id, email, title, admin, app.clock.today())


def _scope(
    session: Session, person_id: int, email: str, title: str, admin: bool, today: date
) -> Viewer:
    held = session.execute(
        select(RoleAssignment.role, OrgUnit.id, OrgUnit.code)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(
            RoleAssignment.person_id == person_id,
            *valid_on(today),
        )
        .order_by(OrgUnit.code, RoleAssignment.role)
    ).all()
    roles = tuple((role, code) for role, _, code in held)
    units: frozenset[int] | None
    if any(role in READS_ALL for role, _ in roles):
        units = None
    elif held:
        # every held unit's subtree in one walk down the tree: one statement, not one a role
        # (UNION, not UNION ALL: a unit held under another held unit is walked once)
        roots = sorted({unit_id for _, unit_id, _ in held})
        units = frozenset(session.scalars(ids_below(OrgUnit.id.in_(roots), "held")))
    else:
        units = frozenset()
    return Viewer(person_id, email, title, admin, roles, units)


def takes_part(session: Session, viewer: Viewer, instance_id: int) -> bool:
    """Whether a step of the instance is assigned to the viewer."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    ChecklistItem.instance_id == instance_id,
                    ChecklistItem.assignee_id == viewer.person_id,
                )
            )
        )
    )


def require_instance(app: App, viewer: Viewer, instance_id: int) -> None:
    """Refuse (PermissionDenied) unless the viewer may read instance ``instance_id``."""
    with app.db.session() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("instance", instance_id)
        if viewer.sees_unit(instance.unit_id) or takes_part(session, viewer, instance_id):
            return
        unit = session.get(OrgUnit, instance.unit_id) if instance.unit_id else None
        raise PermissionDenied(
            f"{viewer.email} may not see {instance.kind} {instance_id}: it belongs to"
            f" {unit.code if unit else 'no unit'}, outside the units of their roles"
            f" ({', '.join(code for _, code in viewer.roles) or 'none'})"
        )
