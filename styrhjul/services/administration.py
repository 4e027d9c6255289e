"""What administrators manage besides accounts: the accounts' overview, people, the organisation.

The account rules themselves (who may disable or un-admin whom, the audit rows) live in
:mod:`styrhjul.services.accounts`, which the CLI uses too. Here are the administrators'
read views (accounts with their state, the people of the organisation with the roles
they hold today, searchable) and the import of an organisation file in two steps:
:func:`check_organisation` validates an uploaded file exactly as ``styrhjul org import``
does (the first error with file, line and key) and tells what the import would change,
writing nothing; :func:`apply_organisation` imports it with the same service as the CLI,
audited with the administrator who confirmed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePath

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from styrhjul.db.models import OrgUnit, Person, RoleAssignment, UnitCycle
from styrhjul.db.web import WebAccount
from styrhjul.errors import InputError, NotFound
from styrhjul.services.accounts import account_state
from styrhjul.services.context import App
from styrhjul.services.definitions import Problem
from styrhjul.services.org import valid_on
from styrhjul.services.org_import import (
    ImportSummary,
    OrganisationFile,
    dialog_levels,
    import_organisation,
    read_organisation,
)

MAX_UPLOAD = 1_000_000
"""The largest file (bytes) an administrator may upload: far above any organisation."""
MAX_PEOPLE = 500
"""At most this many people in one listing; a search narrows it."""


def upload_name(filename: str | None, default: str) -> str:
    """The base name of an uploaded file, as errors name it (never a client's folder)."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable()).strip()[:200]
    return name or default


def upload_text(name: str, data: bytes) -> str:
    """The uploaded bytes as UTF-8 text with LF line ends; InputError naming the file otherwise.

    Line ends are made LF because a browser sends a form's text back with CRLF: the text
    that was checked and the one confirmed must be the same.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=name) from None
    return checked_text(name, text)


def checked_text(name: str, text: str) -> str:
    """``text`` with LF line ends, if not empty, not too large and free of NUL characters.

    PostgreSQL stores no NUL character, so one is refused here, naming its line.
    """
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise InputError("the file is empty", file=name)
    if len(text.encode("utf-8")) > MAX_UPLOAD:
        raise InputError(f"the file is larger than {MAX_UPLOAD} bytes", file=name)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("a NUL character is not allowed in a text file", file=name, line=line)
    return text


# --- accounts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    """An account as the administrators' pages show it."""

    id: int
    person_id: int
    email: str
    title: str
    admin: bool
    state: str
    """``active``, ``locked``, ``disabled`` or ``no_password`` (see ``accounts.account_state``)."""
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None
    disabled_at: datetime | None


def account_views(app: App) -> list[AccountView]:
    """Every account with its state now, by e-mail address."""
    return _account_views(app)


def account_view(app: App, account_id: int) -> AccountView:
    """Account ``account_id`` with its state now; NotFound if there is none."""
    found = _account_views(app, WebAccount.id == account_id)
    if not found:
        raise NotFound("account", account_id)
    return found[0]


def _account_views(app: App, *where: ColumnElement[bool]) -> list[AccountView]:
    now = app.clock.now()
    with app.db.session() as session:
        rows = session.execute(
            select(WebAccount, Person).join(Person).where(*where).order_by(Person.email)
        ).all()
        return [
            AccountView(
                a.id,
                p.id,
                p.email,
                p.title,
                a.admin,
                account_state(a, now),
                a.created_at,
                a.last_login_at,
                a.locked_until if a.locked_until is not None and a.locked_until > now else None,
                a.disabled_at,
            )
            for a, p in rows
        ]


# --- people ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldRole:
    """A role a person holds today, in which unit."""

    role: str
    unit_code: str
    unit_name: str


@dataclass(frozen=True)
class PersonView:
    """A person of the organisation, the roles they hold today and their account's state."""

    id: int
    email: str
    title: str
    locale: str
    roles: list[HeldRole]
    account: str | None
    """The account's state, or None when the person cannot log in."""


@dataclass(frozen=True)
class PeopleListing:
    """The people a search found (at most ``MAX_PEOPLE``) and how many matched."""

    people: list[PersonView]
    total: int
    """How many matched (``people`` holds at most ``MAX_PEOPLE`` of them)."""


def list_people(app: App, query: str = "", *, on: date | None = None) -> PeopleListing:
    """The people whose e-mail, title, role or unit (code or name) contains ``query``."""
    today = on or app.clock.today()
    now = app.clock.now()
    needle = query.strip().lower()
    with app.db.session() as session:
        held: dict[int, list[HeldRole]] = {}
        for person_id, role, code, name in session.execute(
            select(RoleAssignment.person_id, RoleAssignment.role, OrgUnit.code, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
            .where(*valid_on(today))
            .order_by(OrgUnit.code, RoleAssignment.role)
        ):
            held.setdefault(person_id, []).append(HeldRole(role, code, name))
        accounts = {a.person_id: account_state(a, now) for a in session.scalars(select(WebAccount))}
        found = []
        for person in session.scalars(select(Person).order_by(Person.email)):
            roles = held.get(person.id, [])
            text = " ".join(
                [person.email, person.title]
                + [f"{r.role} {r.unit_code} {r.unit_name}" for r in roles]
            ).lower()
            if needle and needle not in text:
                continue
            found.append(
                PersonView(
                    person.id,
                    person.email,
                    person.title,
                    person.locale,
                    roles,
                    accounts.get(person.id),
                )
            )
    return PeopleListing(found[:MAX_PEOPLE], len(found))


def people_without_account(app: App) -> list[tuple[str, str]]:
    """(e-mail, title) of everyone who has no account yet: whom an account may be made for."""
    with app.db.session() as session:
        return [
            (email, title)
            for email, title in session.execute(
                select(Person.email, Person.title)
                .where(~Person.id.in_(select(WebAccount.person_id)))
                .order_by(Person.email)
            )
        ]


# --- the organisation file -------------------------------------------------------------------


@dataclass(frozen=True)
class OrgChange:
    """One thing an import would add or change."""

    what: str
    """``unit``, ``cycle``, ``person`` or ``role``."""
    action: str
    """``add`` or ``update``."""
    ref: str
    detail: str = ""


@dataclass
class OrgCheck:
    """An uploaded organisation file: its problem, or what importing it would change."""

    name: str
    problem: Problem | None = None
    changes: list[OrgChange] = field(default_factory=list)
    units: int = 0
    people: int = 0
    roles: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_organisation(app: App, name: str, text: str) -> OrgCheck:
    """Validate ``text`` as the organisation file ``name`` and list what importing would change.

    Writes nothing. The check is the CLI's (``org_import.read_organisation`` with the
    dialog levels of the loaded workflows), so the problem reads as ``styrhjul org import``
    reports it: ``file:line: key: message``.
    """
    check = OrgCheck(name)
    try:
        spec = read_organisation(Path(name), dialog_levels(app), text=text)
    except InputError as exc:
        check.problem = Problem(exc.file or name, exc.line, exc.key, exc.detail)
        return check
    check.units, check.people, check.roles = len(spec.unit), len(spec.person), len(spec.role)
    check.changes = _changes(app, spec)
    return check


def apply_organisation(app: App, name: str, text: str, *, actor: str) -> ImportSummary:
    """Import the organisation file ``name`` (its ``text``), audited as done by ``actor``."""
    return import_organisation(app, Path(name), text=text, actor=actor)


def _changes(app: App, spec: OrganisationFile) -> list[OrgChange]:
    """What ``import_organisation`` would add or update (it never removes anything)."""
    changes: list[OrgChange] = []
    with app.db.session() as session:
        units = {u.code: u for u in session.scalars(select(OrgUnit))}
        parents = {u.id: u.code for u in units.values()}
        for row in spec.unit:
            unit = units.get(row.code)
            if unit is None:
                changes.append(OrgChange("unit", "add", row.code, row.name))
                continue
            before = (unit.name, unit.kind, parents.get(unit.parent_id or -1), unit.school_form)
            after = (row.name, row.kind, row.parent, row.school_form)
            differ = [
                f"{key}: {old or '–'} → {new or '–'}"
                for key, old, new in zip(
                    ("name", "kind", "parent", "school_form"), before, after, strict=True
                )
                if old != new
            ]
            if differ:
                changes.append(OrgChange("unit", "update", row.code, "; ".join(differ)))
        cycles: dict[tuple[str, str], list[str]] = {}
        for code, level, window in session.execute(
            select(OrgUnit.code, UnitCycle.level, UnitCycle.window_start)
            .join(OrgUnit, OrgUnit.id == UnitCycle.unit_id)
            .order_by(UnitCycle.round_no)
        ):
            cycles.setdefault((code, level), []).append(window)
        for row in spec.unit:
            for level, windows in row.dialog_windows.items():
                old = cycles.get((row.code, level))
                if old != windows:
                    changes.append(
                        OrgChange(
                            "cycle",
                            "update" if old else "add",
                            f"{row.code} {level}",
                            f"{', '.join(old or []) or '–'} → {', '.join(windows)}",
                        )
                    )
        people = {p.email: p for p in session.scalars(select(Person))}
        for person_row in spec.person:
            person = people.get(person_row.email.lower())
            if person is None:
                changes.append(
                    OrgChange("person", "add", person_row.email.lower(), person_row.title)
                )
            elif (person.title, person.locale) != (person_row.title, person_row.locale):
                changes.append(
                    OrgChange(
                        "person",
                        "update",
                        person.email,
                        f"{person.title} ({person.locale}) → {person_row.title}"
                        f" ({person_row.locale})",
                    )
                )
        changes += _role_changes(session, spec)
    return changes


def _role_changes(session: Session, spec: OrganisationFile) -> list[OrgChange]:
    existing = {
        (email, code, role, start): end
        for email, code, role, start, end in session.execute(
            select(
                Person.email,
                OrgUnit.code,
                RoleAssignment.role,
                RoleAssignment.valid_from,
                RoleAssignment.valid_to,
            )
            .join(Person, Person.id == RoleAssignment.person_id)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        )
    }
    changes = []
    for row in spec.role:
        start = row.valid_from or spec.valid_from
        key = (row.person.lower(), row.unit, row.role, start)
        ref = f"{row.role} {row.unit}: {row.person.lower()}"
        if key not in existing:
            changes.append(OrgChange("role", "add", ref, f"{start} – {row.valid_to or ''}"))
        elif existing[key] != row.valid_to:
            old, new = existing[key] or "–", row.valid_to or "–"
            changes.append(OrgChange("role", "update", ref, f"valid_to: {old} → {new}"))
    return changes
