"""Organisation files: reading, checking and importing units, people and role assignments.

The file format is documented by ``styrhjul/examples/organisation.toml``. A file is checked
as a whole (every error names file, line and key) before anything is written; importing
the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from styrhjul.db.models import AuditEvent, OrgUnit, Person, RoleAssignment, UnitCycle
from styrhjul.engine.definition import MonthDay
from styrhjul.errors import DefinitionError
from styrhjul.notifications.render import DEFAULT_LOCALE, LOCALES
from styrhjul.services.context import App
from styrhjul.services.org import forget_roles
from styrhjul.validation import EMAIL_PATTERN, Source, StrictModel, read_toml, validate
from styrhjul.vocabulary import PARENT_KINDS, ROLES, SCHOOL_FORMS, UNIT_KINDS


class _UnitRow(StrictModel):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: str
    parent: str | None = None
    school_form: str | None = None
    dialog_windows: dict[str, list[MonthDay]] = Field(default_factory=dict)
    """The unit's own cycle: per dialog level, the day each round's window opens."""


class _PersonRow(StrictModel):
    email: Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    locale: str = DEFAULT_LOCALE
    """The language of the person's messages (see ``notifications.render.LOCALES``)."""


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


def read_organisation(
    path: Path, levels: Mapping[str, list[int]] | None = None, *, text: str | None = None
) -> OrganisationFile:
    """Load and check an organisation file (or ``text``, as if read from ``path``).

    Errors name file, line and key. ``levels`` maps each dialog level to its round
    numbers, to check the units' own cycles against (without it, only their form is checked).
    """
    source, data = read_toml(path, DefinitionError, text=text)
    spec = validate(source, data, OrganisationFile, DefinitionError)
    _check_organisation(spec, source, levels)
    return spec


def _check_organisation(
    spec: OrganisationFile, source: Source, levels: Mapping[str, list[int]] | None
) -> None:
    def fail(key: tuple[str | int, ...], message: str) -> DefinitionError:
        error = source.error(DefinitionError, key, message)
        assert isinstance(error, DefinitionError)
        return error

    kinds = _check_units(spec, fail)
    _check_roles(spec, kinds, fail)
    if levels is not None:
        _check_cycles(spec, levels, fail)


def _check_cycles(
    spec: OrganisationFile, levels: Mapping[str, list[int]], fail: Callable[..., DefinitionError]
) -> None:
    for i, unit in enumerate(spec.unit):
        for level, windows in unit.dialog_windows.items():
            if level not in levels:
                raise fail(
                    ("unit", i, "dialog_windows", level),
                    f"unknown dialog level {level!r}; levels are: {', '.join(sorted(levels))}",
                )
            rounds = len(levels[level])
            if len(windows) != rounds:
                raise fail(
                    ("unit", i, "dialog_windows", level),
                    f"level {level} has {rounds} rounds a year, "
                    f"so give {rounds} windows, not {len(windows)}",
                )


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
        if person.locale not in LOCALES:
            raise fail(
                ("person", i, "locale"),
                f"person {person.email!r}: unknown locale {person.locale!r};"
                f" expected one of {', '.join(LOCALES)}",
            )
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


def dialog_levels(app: App) -> dict[str, list[int]]:
    """Each dialog level of the loaded workflows with its round numbers (to check cycles)."""
    return {
        m.definition.schedule.level: sorted(r.number for r in m.definition.schedule.round)
        for name, m in app.machines.items()
        if "@" not in name and m.definition.kind == "dialog"
    }


def import_organisation(
    app: App, path: Path, *, text: str | None = None, actor: str | None = None
) -> ImportSummary:
    """Add or update the units, people and role assignments of an organisation file.

    Running it again changes nothing; a changed name, parent, title, locale or end date is
    updated. ``text`` is the file's content when it comes from elsewhere (an upload named
    ``path``). Nothing is written unless the whole file is valid. With ``actor`` an audit
    row (entity ``organisation``, the root unit's id) records who imported what.
    """
    levels = dialog_levels(app)
    spec = read_organisation(path, levels, text=text)
    with app.db.session() as session:
        known = set(session.scalars(select(OrgUnit.id)))
        units, units_added, units_updated = _upsert_units(session, spec.unit)
        units_updated += _upsert_cycles(session, spec.unit, units, levels, known)
        people, people_added, people_updated = _upsert_people(session, spec.person)
        roles_added = _upsert_roles(session, spec, units, people)
        summary = ImportSummary(
            units_added, units_updated, people_added, people_updated, roles_added
        )
        if actor is not None:
            root = next(u for u in spec.unit if u.parent is None)
            session.add(
                AuditEvent(
                    entity="organisation",
                    entity_id=units[root.code].id,
                    at=app.clock.now(),
                    actor=actor,
                    trigger="import",
                    from_state=None,
                    to_state=None,
                    reason=f"{path.name}: {summary}",
                )
            )
    return summary


def _upsert_units(session: Session, rows: list[_UnitRow]) -> tuple[dict[str, OrgUnit], int, int]:
    units = {u.code: u for u in session.scalars(select(OrgUnit))}
    added = updated = 0
    pending = list(rows)
    while pending:  # parents before children, whatever the order in the file
        rest = []
        for row in pending:
            if row.parent is not None and row.parent not in units:
                rest.append(row)
                continue
            wanted = (
                row.name,
                row.kind,
                units[row.parent] if row.parent else None,
                row.school_form,
            )
            unit = units.get(row.code)
            if unit is None:
                unit = units[row.code] = OrgUnit(code=row.code)
                session.add(unit)
                added += 1
            elif (unit.name, unit.kind, unit.parent, unit.school_form) != wanted:
                updated += 1
            unit.name, unit.kind, unit.parent, unit.school_form = wanted
        pending = rest
    session.flush()
    return units, added, updated


def _upsert_cycles(
    session: Session,
    rows: list[_UnitRow],
    units: dict[str, OrgUnit],
    levels: Mapping[str, list[int]],
    known: set[int],
) -> int:
    """Replace the cycles of each unit the file gives them for.

    Returns how many units that existed before (``known``) had their cycle changed.
    """
    existing: dict[tuple[int, str], list[str]] = {}
    for cycle in session.scalars(select(UnitCycle).order_by(UnitCycle.round_no)):
        existing.setdefault((cycle.unit_id, cycle.level), []).append(cycle.window_start)
    changed = set()
    for row in rows:
        unit = units[row.code]
        for level, windows in row.dialog_windows.items():
            if existing.get((unit.id, level)) == windows:
                continue
            session.execute(
                delete(UnitCycle).where(UnitCycle.unit_id == unit.id, UnitCycle.level == level)
            )
            session.add_all(
                UnitCycle(unit_id=unit.id, level=level, round_no=n, window_start=window)
                for n, window in zip(levels[level], windows, strict=True)
            )
            if unit.id in known:
                changed.add(unit.id)
    session.flush()
    return len(changed)


def _upsert_people(session: Session, rows: list[_PersonRow]) -> tuple[dict[str, Person], int, int]:
    people = {p.email: p for p in session.scalars(select(Person))}
    added = updated = 0
    for row in rows:
        person = people.get(row.email.lower())
        if person is None:
            person = people[row.email.lower()] = Person(
                email=row.email.lower(), title=row.title, locale=row.locale
            )
            session.add(person)
            added += 1
        elif (person.title, person.locale) != (row.title, row.locale):
            person.title, person.locale = row.title, row.locale
            updated += 1
    session.flush()
    return people, added, updated


def _upsert_roles(
    session: Session,
    spec: OrganisationFile,
    units: dict[str, OrgUnit],
    people: dict[str, Person],
) -> int:
    existing = {
        (r.person_id, r.unit_id, r.role, r.valid_from): r
        for r in session.scalars(select(RoleAssignment))
    }
    added = 0
    for row in spec.role:
        person, unit = people[row.person.lower()], units[row.unit]
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
        added += 1
    forget_roles(session)
    return added
