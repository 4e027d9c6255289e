"""The rules of a plan assignment (VP-uppdrag) that the definition file cannot say by itself.

- **Who is responsible, where it lives.** The responsible is an area head (verksamhetschef);
  the assignment's unit is the area they lead, so the definition's "area_head of unit" is
  the responsible and the director over the area is the director.
- **Which units it may concern.** Units (schools, preschool areas: kind ``unit``) of any
  area. The documents' own example, mathematics in eight compulsory schools and one
  upper-secondary school, crosses areas, so the responsible's area is no limit; a unit
  outside it is shown as such in the detail, so the other area's head can be involved.
- **The per-unit path.** From the moment work starts (``in_progress``) each unit concerned
  gets one step: the dialog with the unit (VC + Pedagogiskt center + school leadership:
  analysis, a shared problem statement, scope), owned by the responsible and due
  :data:`UNIT_DIALOG_WORKING_DAYS` working days later. A unit added later gets its step
  when added; a unit removed loses its step unless the dialog was already held.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from styrhjul.db.governance import Assignment
from styrhjul.db.models import ChecklistItem, OrgUnit, Person, RoleAssignment
from styrhjul.errors import InputError, PermissionDenied
from styrhjul.services.context import App
from styrhjul.services.instances import add_step, ref
from styrhjul.services.org import ancestors, person_by_email, unit_by_code, valid_on
from styrhjul.services.schedule import due_times

RESPONSIBLE_ROLE = "area_head"
"""The role the responsible holds in the area the assignment belongs to."""
CREATOR_ROLE = "director"
"""Only the director gives plan assignments."""
EDITOR_ROLES = frozenset({"director", RESPONSIBLE_ROLE})
"""Who may change which units an assignment concerns: the director and the responsible."""
SUPPORT_ROLE = "department_head"
"""Support comes from department heads (avdelningschefer)."""
CONCERNED_KIND = "unit"

UNIT_DIALOG_STATES = ("in_progress", "followed_up", "evaluated")
"""States in which every unit concerned has (or gets) its dialog step: work has started."""
UNIT_DIALOG_WORKING_DAYS = 20
UNIT_STEP_ORIGIN = "assignment-unit:"


def responsible_area(app: App, session: Session, person: Person) -> OrgUnit:
    """The one area ``person`` leads today, which becomes the assignment's unit."""
    today = app.clock.today()
    areas = list(
        session.scalars(
            select(OrgUnit)
            .join(RoleAssignment, RoleAssignment.unit_id == OrgUnit.id)
            .where(
                RoleAssignment.person_id == person.id,
                RoleAssignment.role == RESPONSIBLE_ROLE,
                *valid_on(today),
                OrgUnit.kind == "area",
            )
            .order_by(OrgUnit.code)
        )
    )
    if not areas:
        raise InputError(
            f"{person.email} is not the area head (verksamhetschef) of an area on {today}",
            key="responsible",
        )
    if len(areas) > 1:
        codes = ", ".join(a.code for a in areas)
        raise InputError(
            f"{person.email} leads several areas ({codes}); a plan assignment belongs to one",
            key="responsible",
        )
    return areas[0]


def concerned_units(session: Session, codes: Sequence[str]) -> list[OrgUnit]:
    """The units with ``codes``, each a school or preschool area, each named once."""
    units = []
    for code in codes:
        unit = unit_by_code(session, code)
        if unit.kind != CONCERNED_KIND:
            raise InputError(
                f"{code!r} is a {unit.kind}, not a unit (a school or preschool area)", key="unit"
            )
        if unit in units:
            raise InputError(f"unit {code!r} is named twice", key="unit")
        units.append(unit)
    return units


def people(session: Session, emails: Sequence[str], key: str) -> list[Person]:
    """The people with ``emails``, each named once."""
    found: list[Person] = []
    for email in emails:
        person = person_by_email(session, email)
        if person in found:
            raise InputError(f"{email} is named twice", key=key)
        found.append(person)
    return found


def require_support_role(app: App, session: Session, person: Person) -> None:
    """Support members are department heads (today)."""
    today = app.clock.today()
    held = session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role == SUPPORT_ROLE,
            *valid_on(today),
        )
    )
    if held is None:
        raise InputError(
            f"{person.email} is not a department head (avdelningschef) on {today}; "
            "support comes from the departments",
            key="support",
        )


def outside_area(session: Session, assignment: Assignment, unit: OrgUnit) -> bool:
    """Whether ``unit`` lies outside the responsible's area."""
    return assignment.unit not in ancestors(session, unit)


def unit_step_key(unit: OrgUnit) -> str:
    return f"unit_dialog_{unit.id}"


def unit_step_title(unit: OrgUnit) -> str:
    return f"Dialog med enheten {unit.name}: analys, gemensam problemformulering, avgränsning"


def raise_unit_steps(app: App, assignment: Assignment) -> list[ChecklistItem]:
    """Give every unit concerned its dialog step, once work has started (no commit)."""
    if assignment.state not in UNIT_DIALOG_STATES:
        return []
    existing = {item.key for item in assignment.checklist}
    definition = app.machine(assignment.workflow, assignment.workflow_version).definition
    due, remind, escalate = due_times(
        app, definition.spec.timing, app.clock.now(), UNIT_DIALOG_WORKING_DAYS, event=False
    )
    return [
        add_step(
            assignment,
            key=unit_step_key(link.unit),
            title=unit_step_title(link.unit),
            assignee_role=RESPONSIBLE_ROLE,
            assignee=assignment.responsible,
            required=True,
            due_at=due,
            remind_at=remind,
            escalate_at=escalate,
            origin=f"{UNIT_STEP_ORIGIN}{link.unit.code}",
        )
        for link in assignment.units
        if unit_step_key(link.unit) not in existing
    ]


def drop_unit_step(assignment: Assignment, unit: OrgUnit) -> ChecklistItem | None:
    """Remove the open dialog step of a unit no longer concerned; a held dialog stays on record."""
    item = next((i for i in assignment.checklist if i.key == unit_step_key(unit)), None)
    if item is None or item.done_at is not None:
        return None
    assignment.checklist.remove(item)
    return item


def require_editor(roles: set[str], assignment: Assignment, actor: str) -> None:
    """The director or the responsible area head may change the units concerned."""
    if roles & EDITOR_ROLES:
        return
    raise PermissionDenied(
        f"{ref(assignment)}: changing the units concerned needs one of the roles "
        f"{', '.join(sorted(EDITOR_ROLES))}; {actor} holds {', '.join(sorted(roles)) or 'none'}"
        " here"
    )
