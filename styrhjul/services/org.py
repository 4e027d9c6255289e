"""The organisation: the chain of command as a tree, people, and who holds which role when.

Role assignments carry validity dates, so "who is the rektor of unit X on date D" and "who
is the superior of X" are answered for any date. Roles are relative to a unit and inherited
downwards: the area head of an area is "the area head over" every unit in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from styrhjul.db.models import OrgUnit, Person, RoleAssignment
from styrhjul.errors import InputError, NotFound
from styrhjul.services.context import App
from styrhjul.vocabulary import HEAD_ROLE, ROLES, UNIT_KINDS


def unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound("unit", repr(code))
    return unit


def person_by_email(session: Session, email: str) -> Person:
    person = session.scalar(select(Person).where(Person.email == email.strip().lower()))
    if person is None:
        raise NotFound("person", repr(email))
    return person


_ANCESTORS = "styrhjul.ancestors"
_HOLDERS = "styrhjul.holders"


def forget_roles(session: Session) -> None:
    """Drop the session's memory of the tree and its role holders (after changing them)."""
    session.info.pop(_ANCESTORS, None)
    session.info.pop(_HOLDERS, None)


def ancestors(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """``unit`` and every unit above it, nearest first.

    Remembered for the session, for ``unit`` and every unit above it: planning asks for
    the same chains hundreds of times, and a unit's walk stops at the first unit whose
    chain is known. A session that moves a unit calls :func:`forget_roles`.
    """
    memo: dict[int, list[OrgUnit]] = session.info.setdefault(_ANCESTORS, {})
    known = memo.get(unit.id) if unit.id is not None else None
    if known is not None:
        return list(known)
    chain = [unit]
    while (parent_id := chain[-1].parent_id) is not None:
        above = memo.get(parent_id)
        if above is not None:  # a sibling's walk went this way: its chain from here on
            chain.extend(above)
            break
        parent = session.get(OrgUnit, parent_id)
        assert parent is not None
        chain.append(parent)
    if unit.id is not None:
        # every unit on the way knows its chain now: the rest of the walk up from it
        for start, on_the_way in enumerate(chain):
            memo.setdefault(on_the_way.id, chain[start:])
    return list(chain)


def subtree_ids(unit_id: int) -> Select[int]:
    """A query for the ids of ``unit_id`` and every unit below it (a recursive CTE)."""
    return ids_below(OrgUnit.id == unit_id)


def ids_below(which: ColumnElement[bool], name: str = "subtree") -> Select[int]:
    """A query for the ids of the units ``which`` selects and of every unit below them.

    One recursive CTE called ``name``; a unit below two of them is listed once.
    """
    tree = select(OrgUnit.id).where(which).cte(name, recursive=True)
    tree = tree.union(select(OrgUnit.id).where(OrgUnit.parent_id == tree.c.id))
    return select(tree.c.id)


def ids_above(which: ColumnElement[bool], name: str = "above") -> Select[int]:
    """A query for the ids of the units ``which`` selects and of every unit above them.

    One recursive CTE called ``name``, where :func:`ancestors` reads a unit a query; a unit
    above two of them is listed once.
    """
    chain = select(OrgUnit.id, OrgUnit.parent_id).where(which).cte(name, recursive=True)
    chain = chain.union(
        select(OrgUnit.id, OrgUnit.parent_id).join(chain, OrgUnit.id == chain.c.parent_id)
    )
    return select(chain.c.id)


def valid_on(on: date) -> list[ColumnElement[bool]]:
    """SQL: the role assignment holds on ``on`` (from ``valid_from`` to ``valid_to``, inclusive)."""
    return [
        RoleAssignment.valid_from <= on,
        or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= on),
    ]


def holders(session: Session, unit: OrgUnit, role: str, on: date) -> list[Person]:
    """Who holds ``role`` in ``unit`` itself on ``on``, ordered by e-mail.

    The session remembers each unit's holders of a role (all dates) once read: planning
    asks this thousands of times. A session that changes roles calls :func:`forget_roles`.
    """
    memo: dict[tuple[int, str], list[tuple[date, date | None, Person]]] = session.info.setdefault(
        _HOLDERS, {}
    )
    rows = memo.get((unit.id, role))
    if rows is None:
        query = (
            select(RoleAssignment.valid_from, RoleAssignment.valid_to, Person)
            .join(Person, RoleAssignment.person_id == Person.id)
            .where(RoleAssignment.unit_id == unit.id, RoleAssignment.role == role)
            .order_by(Person.email)
        )
        # Roles are never pending in a session that asks who holds them; without autoflush
        # a planning transaction does not write its new dialogs out first.
        with session.no_autoflush:
            rows = [(valid_from, valid_to, p) for valid_from, valid_to, p in session.execute(query)]
        memo[(unit.id, role)] = rows
    return [
        person
        for valid_from, valid_to, person in rows
        if valid_from <= on and (valid_to is None or valid_to >= on)
    ]


def prime_holders(session: Session, roles: Iterable[str]) -> None:
    """Read every holder of ``roles`` in one query, for the :func:`holders` memo.

    Planning a round asks for the same few roles in every unit; one query for all of them
    replaces one per unit and role.
    """
    wanted = sorted(set(roles))
    memo: dict[tuple[int, str], list[tuple[date, date | None, Person]]] = session.info.setdefault(
        _HOLDERS, {}
    )
    # the assignments' columns, not the objects: a year's plan reads thousands of them
    query = (
        select(
            RoleAssignment.unit_id,
            RoleAssignment.role,
            RoleAssignment.valid_from,
            RoleAssignment.valid_to,
            Person,
        )
        .join(Person, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role.in_(wanted))
        .order_by(Person.email)
    )
    found: dict[tuple[int, str], list[tuple[date, date | None, Person]]] = {}
    with session.no_autoflush:
        for unit_id, role, valid_from, valid_to, person in session.execute(query):
            found.setdefault((unit_id, role), []).append((valid_from, valid_to, person))
        unit_ids = list(session.scalars(select(OrgUnit.id)))
    for unit_id in unit_ids:
        for role in wanted:
            memo[(unit_id, role)] = found.get((unit_id, role), [])


def holder_over(session: Session, unit: OrgUnit, role: str, on: date) -> Person | None:
    """The holder of ``role`` in ``unit`` or the nearest unit above it ("the area head over")."""
    for candidate in ancestors(session, unit):
        found = holders(session, candidate, role, on)
        if found:
            return found[0]
    return None


def roles_of(session: Session, person: Person, unit: OrgUnit, on: date) -> set[str]:
    """The roles ``person`` holds in ``unit`` or above it on ``on`` (how permissions are read)."""
    chain = [u.id for u in ancestors(session, unit)]
    query = select(RoleAssignment.role).where(
        RoleAssignment.person_id == person.id, RoleAssignment.unit_id.in_(chain), *valid_on(on)
    )
    return set(session.scalars(query))


def superior(session: Session, person: Person, on: date) -> Person | None:
    """The head of the nearest unit above the one ``person`` leads (or belongs to) on ``on``."""
    query = (
        select(RoleAssignment)
        .where(RoleAssignment.person_id == person.id, *valid_on(on))
        .order_by(RoleAssignment.id)
    )
    assignments = list(session.scalars(query))
    if not assignments:
        return None
    leading = [a for a in assignments if HEAD_ROLE.get(a.unit.kind) == a.role]
    # A head answers to the head above their unit; anyone else to the head of their own unit.
    chain = ancestors(session, (leading or assignments)[0].unit)
    for unit in chain[1:] if leading else chain:
        head_role = HEAD_ROLE.get(unit.kind)
        if head_role is None:
            continue
        heads = [p for p in holders(session, unit, head_role, on) if p.id != person.id]
        if heads:
            return heads[0]
    return None


@dataclass
class UnitNode:
    """One unit of the printed tree, with who holds which role in it on the date asked for."""

    code: str
    name: str
    kind: str
    school_form: str | None
    roles: dict[str, list[str]] = field(default_factory=dict)
    children: list[UnitNode] = field(default_factory=list)


def organisation_tree(app: App, on: date | None = None) -> list[UnitNode]:
    """The whole organisation as a forest (normally one root), children sorted by kind and name."""
    day = on or app.clock.today()
    with app.db.session() as session:
        units = list(session.scalars(select(OrgUnit)))
        query = select(RoleAssignment, Person).join(Person).where(*valid_on(day))
        roles: dict[int, dict[str, list[str]]] = {}
        for assignment, person in session.execute(query).all():
            holders_by_role = roles.setdefault(assignment.unit_id, {})
            holders_by_role.setdefault(assignment.role, []).append(
                f"{person.title} <{person.email}>"
            )
        nodes = {
            u.id: UnitNode(u.code, u.name, u.kind, u.school_form, roles.get(u.id, {}))
            for u in units
        }
        roots: list[UnitNode] = []
        order = {kind: i for i, kind in enumerate(UNIT_KINDS)}
        for unit in sorted(units, key=lambda u: (order[u.kind], u.name)):
            if unit.parent_id is None:
                roots.append(nodes[unit.id])
            else:
                nodes[unit.parent_id].children.append(nodes[unit.id])
        return roots


def units_of_kind(session: Session, kinds: Iterable[str]) -> Sequence[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(list(kinds)))))


def role_holder(app: App, role: str, unit_code: str, on: date | None = None) -> str:
    """``title <email>`` of who holds ``role`` in the unit or above it on the date."""
    day = on or app.clock.today()
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", key="role")
    with app.db.session() as session:
        person = holder_over(session, unit_by_code(session, unit_code), role, day)
        if person is None:
            raise NotFound(f"{role} over unit", f"{unit_code!r} on {day}")
        return f"{person.title} <{person.email}>"


def superior_of(app: App, email: str, on: date | None = None) -> str:
    """``title <email>`` of the superior of the person with ``email`` on the date."""
    day = on or app.clock.today()
    with app.db.session() as session:
        person = superior(session, person_by_email(session, email), day)
        if person is None:
            raise NotFound("superior of", f"{email!r} on {day}")
        return f"{person.title} <{person.email}>"
