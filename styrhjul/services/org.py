"""The organisation: the chain of command as a tree, people, and who holds which role when.

Role assignments carry validity dates, so "who is the rektor of unit X on date D" and "who
is the superior of X" are answered for any date. Roles are relative to a unit and inherited
downwards: the area head of an area is "the area head over" every unit in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from styrhjul.db.models import OrgUnit, Person, RoleAssignment
from styrhjul.errors import DefinitionError, NotFound
from styrhjul.services.context import App
from styrhjul.validation import Source, StrictModel, read_toml, validate
from styrhjul.vocabulary import HEAD_ROLE, PARENT_KINDS, ROLES, SCHOOL_FORMS, UNIT_KINDS


class _UnitRow(StrictModel):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: str
    parent: str | None = None
    school_form: str | None = None


class _PersonRow(StrictModel):
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
    title: Annotated[str, Field(min_length=1, max_length=200)]


class _RoleRow(StrictModel):
    person: str
    unit: str
    role: str
    valid_from: date | None = None
    valid_to: date | None = None


class OrganisationFile(StrictModel):
    """The format of an organisation file (see ``styrhjul/examples/organisation.toml``)."""

    valid_from: date
    unit: Annotated[list[_UnitRow], Field(min_length=1)]
    person: list[_PersonRow] = Field(default_factory=list)
    role: list[_RoleRow] = Field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    """What an import added or changed."""

    units_added: int
    units_updated: int
    people_added: int
    people_updated: int
    roles_added: int


def read_organisation(path: Path) -> OrganisationFile:
    """Load and check an organisation file; errors name file, line and key."""
    source, data = read_toml(path, DefinitionError)
    spec = validate(source, data, OrganisationFile, DefinitionError)
    _check_organisation(spec, source)
    return spec


def _check_organisation(spec: OrganisationFile, source: Source) -> None:
    def fail(key: tuple[str | int, ...], message: str) -> DefinitionError:
        error = source.error(DefinitionError, key, message)
        assert isinstance(error, DefinitionError)
        return error

    kinds = _check_units(spec, fail)
    _check_roles(spec, kinds, fail)


def _check_units(spec: OrganisationFile, fail: Callable[..., DefinitionError]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for i, unit in enumerate(spec.unit):
        if unit.code in kinds:
            raise fail(("unit", i, "code"), f"unit {unit.code!r} is defined twice")
        if unit.kind not in UNIT_KINDS:
            raise fail(
                ("unit", i, "kind"),
                f"unknown kind {unit.kind!r}; expected one of {', '.join(UNIT_KINDS)}",
            )
        if unit.school_form is not None and unit.school_form not in SCHOOL_FORMS:
            raise fail(
                ("unit", i, "school_form"),
                f"unknown school form {unit.school_form!r};"
                f" expected one of {', '.join(SCHOOL_FORMS)}",
            )
        kinds[unit.code] = unit.kind
    roots = [u for u in spec.unit if u.parent is None]
    if len(roots) != 1:
        raise fail(("unit",), f"expected exactly one unit without a parent, found {len(roots)}")
    for i, unit in enumerate(spec.unit):
        if unit.parent is None:
            continue
        if unit.parent not in kinds:
            raise fail(("unit", i, "parent"), f"unknown unit {unit.parent!r}")
        if kinds[unit.parent] not in PARENT_KINDS[unit.kind]:
            raise fail(
                ("unit", i, "parent"),
                f"a {unit.kind} cannot sit under a {kinds[unit.parent]} ({unit.parent!r})",
            )
    return kinds


def _check_roles(
    spec: OrganisationFile, kinds: dict[str, str], fail: Callable[..., DefinitionError]
) -> None:
    emails: set[str] = set()
    for i, person in enumerate(spec.person):
        if person.email.lower() in emails:
            raise fail(("person", i, "email"), f"person {person.email!r} is defined twice")
        emails.add(person.email.lower())
    for i, role in enumerate(spec.role):
        if role.person.lower() not in emails:
            raise fail(("role", i, "person"), f"unknown person {role.person!r}")
        if role.unit not in kinds:
            raise fail(("role", i, "unit"), f"unknown unit {role.unit!r}")
        if role.role not in ROLES:
            raise fail(
                ("role", i, "role"),
                f"unknown role {role.role!r}; expected one of {', '.join(ROLES)}",
            )
        start = role.valid_from or spec.valid_from
        if role.valid_to is not None and role.valid_to < start:
            raise fail(("role", i, "valid_to"), f"ends {role.valid_to} before it starts {start}")


def import_organisation(app: App, path: Path) -> ImportSummary:
    """Add or update the units, people and role assignments of an organisation file.

    Running it again changes nothing; a changed name, parent or title is updated. Nothing is
    written unless the whole file is valid.
    """
    spec = read_organisation(path)
    with app.db.session() as session:
        units = {u.code: u for u in session.scalars(select(OrgUnit))}
        units_added = units_updated = 0
        pending = list(spec.unit)
        while pending:  # parents before children, whatever the order in the file
            rest = []
            for row in pending:
                if row.parent is not None and row.parent not in units:
                    rest.append(row)
                    continue
                parent = units[row.parent] if row.parent else None
                unit = units.get(row.code)
                if unit is None:
                    unit = OrgUnit(code=row.code)
                    session.add(unit)
                    units[row.code] = unit
                    units_added += 1
                elif (unit.name, unit.kind, unit.parent, unit.school_form) != (
                    row.name,
                    row.kind,
                    parent,
                    row.school_form,
                ):
                    units_updated += 1
                unit.name, unit.kind, unit.parent, unit.school_form = (
                    row.name,
                    row.kind,
                    parent,
                    row.school_form,
                )
            pending = rest
        session.flush()
        people = {p.email.lower(): p for p in session.scalars(select(Person))}
        people_added = people_updated = 0
        for row in spec.person:
            person = people.get(row.email.lower())
            if person is None:
                person = Person(email=row.email.lower(), title=row.title)
                session.add(person)
                people[person.email] = person
                people_added += 1
            elif person.title != row.title:
                person.title = row.title
                people_updated += 1
        session.flush()
        existing = {
            (r.person_id, r.unit_id, r.role, r.valid_from): r
            for r in session.scalars(select(RoleAssignment))
        }
        roles_added = 0
        for row in spec.role:
            person = people[row.person.lower()]
            unit = units[row.unit]
            start = row.valid_from or spec.valid_from
            known = existing.get((person.id, unit.id, row.role, start))
            if known is not None:
                known.valid_to = row.valid_to  # an assignment ends when the file says so
                continue
            session.add(
                RoleAssignment(
                    person_id=person.id,
                    unit_id=unit.id,
                    role=row.role,
                    valid_from=start,
                    valid_to=row.valid_to,
                )
            )
            roles_added += 1
    return ImportSummary(units_added, units_updated, people_added, people_updated, roles_added)


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


def ancestors(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """``unit`` and every unit above it, nearest first."""
    chain = [unit]
    while chain[-1].parent_id is not None:
        parent = session.get(OrgUnit, chain[-1].parent_id)
        assert parent is not None
        chain.append(parent)
    return chain


def _valid_on(on: date) -> list[object]:
    return [
        RoleAssignment.valid_from <= on,
        or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= on),
    ]


def holders(session: Session, unit: OrgUnit, role: str, on: date) -> list[Person]:
    """Who holds ``role`` in ``unit`` itself on ``on``."""
    query = (
        select(Person)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.unit_id == unit.id, RoleAssignment.role == role, *_valid_on(on))
        .order_by(Person.email)
    )
    return list(session.scalars(query))


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
        RoleAssignment.person_id == person.id, RoleAssignment.unit_id.in_(chain), *_valid_on(on)
    )
    return set(session.scalars(query))


def superior(session: Session, person: Person, on: date) -> Person | None:
    """The head of the nearest unit above the one ``person`` leads (or belongs to) on ``on``."""
    query = (
        select(RoleAssignment)
        .where(RoleAssignment.person_id == person.id, *_valid_on(on))
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
        query = select(RoleAssignment, Person).join(Person).where(*_valid_on(day))
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
        raise DefinitionError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
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
