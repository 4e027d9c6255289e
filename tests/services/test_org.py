"""The organisation service: import, the tree, who holds which role when, and superiors."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from styrhjul.db.models import OrgUnit, Person, RoleAssignment
from styrhjul.errors import DefinitionError, InputError, NotFound
from styrhjul.services.context import App
from styrhjul.services.org import (
    ancestors,
    forget_roles,
    holder_over,
    holders,
    organisation_tree,
    person_by_email,
    prime_holders,
    role_holder,
    roles_of,
    superior,
    superior_of,
    unit_by_code,
)
from styrhjul.services.org_import import import_organisation
from styrhjul.vocabulary import ROLES

ON = date(2026, 9, 1)
RECTOR_VASTRA = "rektor.vastra-skolan@example.se"
HEAD_NORR = "verksamhetschef.grundskola-norr@example.se"
DIRECTOR = "utbildningsdirektor@example.se"
BOARD_CHAIR = "ordforande.bun@example.se"
COUNCIL_CHAIR = "ordforande.kf@example.se"
SECRETARY = "sekreterare.ledningsgrupp@example.se"
OLD_RECTOR_OSTRA = "tidigare-rektor.ostra-skolan@example.se"
NEW_RECTOR_OSTRA = "rektor.ostra-skolan@example.se"


@pytest.fixture
def example_path() -> Iterator[Path]:
    with as_file(files("styrhjul.examples") / "organisation.toml") as path:
        yield Path(path)


def _counts(app: App) -> tuple[int, int, int]:
    with app.db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(OrgUnit)) or 0,
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(RoleAssignment)) or 0,
        )


def _emails(people: list[Person]) -> list[str]:
    return [p.email for p in people]


# -- import -------------------------------------------------------------------------------


def test_import_adds_everything_once_and_again_nothing(empty_app: App, example_path: Path) -> None:
    first = import_organisation(empty_app, example_path)
    assert first.units_added > 40
    assert first.people_added > 40
    assert first.roles_added > 40
    assert (first.units_updated, first.people_updated) == (0, 0)
    counts = _counts(empty_app)
    assert counts == (first.units_added, first.people_added, first.roles_added)

    second = import_organisation(empty_app, example_path)
    assert second.units_added == second.people_added == second.roles_added == 0
    assert second.units_updated == second.people_updated == 0
    assert _counts(empty_app) == counts


def test_reimport_updates_a_changed_title_and_name(app: App, tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(
        'valid_from = 2024-08-01\n\n[[unit]]\ncode = "kf"\nname = "Fullmäktige"\n'
        'kind = "council"\n\n[[person]]\nemail = "ordforande.kf@example.se"\n'
        'title = "Ordförande i fullmäktige"\n',
        encoding="utf-8",
    )
    before = _counts(app)
    summary = import_organisation(app, path)
    assert (summary.units_updated, summary.people_updated) == (1, 1)
    assert summary.units_added == summary.people_added == summary.roles_added == 0
    assert _counts(app) == before
    assert role_holder(app, "council_chair", "kf") == (
        "Ordförande i fullmäktige <ordforande.kf@example.se>"
    )


def test_parents_may_come_after_their_children_in_the_file(empty_app: App, tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(
        "valid_from = 2024-08-01\n"
        '[[unit]]\ncode = "skola"\nname = "Skolan"\nkind = "unit"\nparent = "omr"\n'
        '[[unit]]\ncode = "omr"\nname = "Området"\nkind = "area"\nparent = "forv"\n'
        '[[unit]]\ncode = "forv"\nname = "Förvaltningen"\nkind = "administration"\n'
        'parent = "namnd"\n'
        '[[unit]]\ncode = "namnd"\nname = "Nämnden"\nkind = "board"\nparent = "kf"\n'
        '[[unit]]\ncode = "kf"\nname = "Fullmäktige"\nkind = "council"\n',
        encoding="utf-8",
    )
    assert import_organisation(empty_app, path).units_added == 5
    with empty_app.db.session() as session:
        unit: OrgUnit | None = unit_by_code(session, "skola")
        chain = []
        while unit is not None:
            chain.append(unit.code)
            unit = unit.parent
    assert chain == ["skola", "omr", "forv", "namnd", "kf"]


def test_reimport_with_an_end_date_ends_the_role(app: App, tmp_path: Path) -> None:
    """A rektor leaves: the file gains valid_to on their role; importing it must end the role."""
    path = tmp_path / "org.toml"
    path.write_text(
        "valid_from = 2024-08-01\n"
        '[[unit]]\ncode = "kf"\nname = "Kommunfullmäktige"\nkind = "council"\n'
        '[[person]]\nemail = "ordforande.kf@example.se"\ntitle = "Ordförande KF"\n'
        '[[role]]\nperson = "ordforande.kf@example.se"\nunit = "kf"\n'
        'role = "council_chair"\nvalid_to = 2026-06-30\n',
        encoding="utf-8",
    )
    import_organisation(app, path)
    with pytest.raises(NotFound):
        role_holder(app, "council_chair", "kf", date(2026, 9, 1))


# -- the tree -----------------------------------------------------------------------------


def test_tree_has_one_root_kf_with_every_unit_below(app: App) -> None:
    roots = organisation_tree(app)
    assert [r.code for r in roots] == ["kf"]
    [kf] = roots
    assert kf.kind == "council"
    assert set(kf.roles) == {"council_chair"}
    assert kf.roles["council_chair"] == [f"{_title(app, COUNCIL_CHAIR)} <{COUNCIL_CHAIR}>"]
    assert sorted(c.code for c in kf.children) == ["bun", "ifn"]

    seen: list[str] = []

    stack = [kf]
    while stack:
        node = stack.pop()
        seen.append(node.code)
        stack.extend(node.children)

    assert len(seen) == len(set(seen)) == _counts(app)[0]
    as_dict = asdict(kf)
    assert as_dict["code"] == "kf"
    assert isinstance(as_dict["children"], list)


def test_tree_shows_who_held_a_role_on_the_date(app: App) -> None:
    def ostra(on: date) -> list[str]:
        [kf] = organisation_tree(app, on)
        stack = [kf]
        while stack:
            node = stack.pop()
            if node.code == "ostra-skolan":
                return node.roles.get("rektor", [])
            stack.extend(node.children)
        raise AssertionError("ostra-skolan not in the tree")

    assert [r.split("<")[1] for r in ostra(date(2025, 7, 31))] == [f"{OLD_RECTOR_OSTRA}>"]
    assert [r.split("<")[1] for r in ostra(date(2025, 8, 1))] == [f"{NEW_RECTOR_OSTRA}>"]


# -- holders, roles, superiors ------------------------------------------------------------


def test_holders_and_holder_over(app: App) -> None:
    with app.db.session() as session:
        vastra = unit_by_code(session, "vastra-skolan")
        assert _emails(holders(session, vastra, "rektor", ON)) == [RECTOR_VASTRA]
        # Nobody holds area_head in the school itself; the area above it does.
        assert holders(session, vastra, "area_head", ON) == []
        head = holder_over(session, vastra, "area_head", ON)
        assert head is not None
        assert head.email == HEAD_NORR
        director = holder_over(session, vastra, "director", ON)
        assert director is not None
        assert director.email == DIRECTOR
        assert holder_over(session, vastra, "team_leader", ON) is None
        # A role assignment starts on the file's valid_from (2024-08-01), not before.
        assert holders(session, vastra, "rektor", date(2024, 7, 31)) == []


@pytest.mark.parametrize("leaves_first", [True, False])
def test_every_units_ancestors_are_its_walk_to_the_root(app: App, leaves_first: bool) -> None:
    """Chains remembered from other units' walks are each unit's own walk up, in order."""
    with app.db.session() as session:
        units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
        by_id = {unit.id: unit for unit in units}

        def depth(unit: OrgUnit) -> int:
            return 0 if unit.parent_id is None else 1 + depth(by_id[unit.parent_id])

        def walk(unit: OrgUnit) -> list[str]:
            codes = [unit.code]
            while unit.parent_id is not None:
                unit = by_id[unit.parent_id]
                codes.append(unit.code)
            return codes

        assert max(depth(u) for u in units) >= 3
        for unit in sorted(units, key=depth, reverse=leaves_first):
            assert [u.code for u in ancestors(session, unit)] == walk(unit)
        # and asked again, from the memory
        for unit in units:
            assert [u.code for u in ancestors(session, unit)] == walk(unit)


def test_primed_holders_are_those_read_unit_by_unit(app: App) -> None:
    """One query for every unit's holders answers as one query per unit and role does.

    And it reads the assignments' columns only: no role assignment object is loaded.
    """
    days = [date(2024, 7, 31), date(2024, 8, 1), date(2025, 7, 31), date(2025, 8, 1), ON]
    with app.db.session() as session:
        units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
        read = {
            (unit.code, role, day): _emails(holders(session, unit, role, day))
            for unit in units
            for role in ROLES
            for day in days
        }
    loaded: list[object] = []

    def count(target: object, context: object) -> None:
        loaded.append(target)

    with app.db.session() as session:
        event.listen(RoleAssignment, "load", count)
        try:
            prime_holders(session, ROLES)
        finally:
            event.remove(RoleAssignment, "load", count)
        assert loaded == []
        units = list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))
        primed = {
            (unit.code, role, day): _emails(holders(session, unit, role, day))
            for unit in units
            for role in ROLES
            for day in days
        }
        forget_roles(session)
    assert primed == read
    assert sum(1 for found in read.values() if found) > len(units)
    assert read[("ostra-skolan", "rektor", date(2025, 7, 31))] == [OLD_RECTOR_OSTRA]


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2024, 8, 1), OLD_RECTOR_OSTRA),
        (date(2025, 7, 31), OLD_RECTOR_OSTRA),
        (date(2025, 8, 1), NEW_RECTOR_OSTRA),
        (date(2026, 9, 1), NEW_RECTOR_OSTRA),
    ],
)
def test_the_rektor_change_at_ostra_skolan(app: App, on: date, expected: str) -> None:
    with app.db.session() as session:
        ostra = unit_by_code(session, "ostra-skolan")
        assert _emails(holders(session, ostra, "rektor", on)) == [expected]
    assert role_holder(app, "rektor", "ostra-skolan", on).endswith(f"<{expected}>")


def test_roles_of_follow_the_chain_and_the_dates(app: App) -> None:
    with app.db.session() as session:
        vastra = unit_by_code(session, "vastra-skolan")
        ostra = unit_by_code(session, "ostra-skolan")
        rektor = person_by_email(session, RECTOR_VASTRA)
        head = person_by_email(session, HEAD_NORR)
        secretary = person_by_email(session, SECRETARY)
        old = person_by_email(session, OLD_RECTOR_OSTRA)
        assert roles_of(session, rektor, vastra, ON) == {"rektor"}
        assert roles_of(session, rektor, ostra, ON) == set()
        assert roles_of(session, head, vastra, ON) == {"area_head"}
        # The area head of norr holds nothing over a school in söder.
        assert roles_of(session, head, ostra, ON) == set()
        assert roles_of(session, secretary, vastra, ON) == {"secretary"}
        assert roles_of(session, old, ostra, date(2025, 7, 31)) == {"rektor"}
        assert roles_of(session, old, ostra, date(2025, 8, 1)) == set()


def test_superiors_up_the_chain(app: App) -> None:
    chain = [RECTOR_VASTRA, HEAD_NORR, DIRECTOR, BOARD_CHAIR, COUNCIL_CHAIR]
    with app.db.session() as session:
        for below, above in itertools.pairwise(chain):
            boss = superior(session, person_by_email(session, below), ON)
            assert boss is not None, below
            assert boss.email == above, below
        top = superior(session, person_by_email(session, COUNCIL_CHAIR), ON)
        assert top is None
        # The former rektor of Östra skolan has no role any more, hence no superior.
        assert superior(session, person_by_email(session, OLD_RECTOR_OSTRA), ON) is None
        old_boss = superior(session, person_by_email(session, OLD_RECTOR_OSTRA), date(2025, 1, 1))
        assert old_boss is not None
        assert old_boss.email == "verksamhetschef.grundskola-soder@example.se"


def test_superior_of_the_secretary_is_the_director(app: App) -> None:
    """The secretary works in the administration (sff), whose head is the director."""
    assert superior_of(app, SECRETARY, ON).endswith(f"<{DIRECTOR}>")


def test_role_holder_and_superior_of_strings(app: App) -> None:
    assert role_holder(app, "area_head", "vastra-skolan") == (
        f"{_title(app, HEAD_NORR)} <{HEAD_NORR}>"
    )
    assert role_holder(app, "rektor", "vastra-skolan") == (
        f"{_title(app, RECTOR_VASTRA)} <{RECTOR_VASTRA}>"
    )
    assert superior_of(app, RECTOR_VASTRA) == f"{_title(app, HEAD_NORR)} <{HEAD_NORR}>"
    # Addresses are matched without regard to case or surrounding blanks.
    assert superior_of(app, f"  {RECTOR_VASTRA.upper()} ").endswith(f"<{HEAD_NORR}>")
    assert superior_of(app, HEAD_NORR).endswith(f"<{DIRECTOR}>")
    assert superior_of(app, DIRECTOR).endswith(f"<{BOARD_CHAIR}>")


def _title(app: App, email: str) -> str:
    with app.db.session() as session:
        return person_by_email(session, email).title


def test_not_found_errors_name_what_is_missing(app: App) -> None:
    with pytest.raises(NotFound, match="unit 'no-such-school'"):
        role_holder(app, "rektor", "no-such-school")
    with pytest.raises(NotFound, match=r"rektor over unit 'grundskola-norr'"):
        role_holder(app, "rektor", "grundskola-norr")
    with pytest.raises(NotFound, match=re.escape("person 'nobody@example.se'")):
        superior_of(app, "nobody@example.se")
    with pytest.raises(NotFound, match=re.escape("superior of 'ordforande.kf@example.se'")):
        superior_of(app, COUNCIL_CHAIR)
    with pytest.raises(InputError, match="unknown role 'king'") as refused:
        role_holder(app, "king", "vastra-skolan")
    assert not isinstance(refused.value, DefinitionError)  # a bad argument, not a bad file


# -- broken files -------------------------------------------------------------------------

HEADER = (
    "valid_from = 2024-08-01\n"
    '[[unit]]\ncode = "kf"\nname = "Kommunfullmäktige"\nkind = "council"\n'
    '[[unit]]\ncode = "ny-namnd"\nname = "Ny nämnd"\nkind = "board"\nparent = "kf"\n'
    '[[person]]\nemail = "ny.person@example.se"\ntitle = "Ny ordförande"\n'
)

BROKEN = {
    "unknown parent": (
        '[[unit]]\ncode = "ny-forv"\nname = "X"\nkind = "administration"\n'
        'parent = "no-such-board"\n',
        "unit[2].parent",
        "unknown unit 'no-such-board'",
        'parent = "no-such-board"',
    ),
    "duplicate code": (
        '[[unit]]\ncode = "ny-namnd"\nname = "Again"\nkind = "board"\nparent = "kf"\n',
        "unit[2].code",
        "defined twice",
        'code = "ny-namnd"',
    ),
    "unknown person in a role": (
        '[[role]]\nperson = "ghost@example.se"\nunit = "ny-namnd"\nrole = "board_chair"\n',
        "role[0].person",
        "unknown person 'ghost@example.se'",
        'person = "ghost@example.se"',
    ),
    "a unit under a team": (
        '[[unit]]\ncode = "omr"\nname = "O"\nkind = "area"\nparent = "forv"\n'
        '[[unit]]\ncode = "forv"\nname = "F"\nkind = "administration"\nparent = "ny-namnd"\n'
        '[[unit]]\ncode = "skola"\nname = "S"\nkind = "unit"\nparent = "omr"\n'
        '[[unit]]\ncode = "lag"\nname = "L"\nkind = "team"\nparent = "skola"\n'
        '[[unit]]\ncode = "under-lag"\nname = "U"\nkind = "unit"\nparent = "lag"\n',
        "unit[6].parent",
        "a unit cannot sit under a team",
        'parent = "lag"',
    ),
    "unknown role": (
        '[[role]]\nperson = "ny.person@example.se"\nunit = "ny-namnd"\nrole = "king"\n',
        "role[0].role",
        "unknown role 'king'",
        'role = "king"',
    ),
    "two roots": (
        '[[unit]]\ncode = "another-root"\nname = "R"\nkind = "council"\n',
        "unit",
        "exactly one unit without a parent, found 2",
        None,
    ),
    "role ends before it starts": (
        '[[role]]\nperson = "ny.person@example.se"\nunit = "ny-namnd"\nrole = "board_chair"\n'
        "valid_from = 2025-01-01\nvalid_to = 2024-12-31\n",
        "role[0].valid_to",
        "ends 2024-12-31 before it starts 2025-01-01",
        "valid_to = 2024-12-31",
    ),
    "unknown key": (
        '[[unit]]\ncode = "x"\nname = "X"\nkind = "board"\nparent = "kf"\ncolour = "red"\n',
        "unit[2].colour",
        "unknown key",
        'colour = "red"',
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_refused_with_place_and_writes_nothing(
    app: App, tmp_path: Path, case: str
) -> None:
    tail, key, message, line_text = BROKEN[case]
    path = tmp_path / "broken.toml"
    text = HEADER + tail
    path.write_text(text, encoding="utf-8")
    before = _counts(app)
    with pytest.raises(DefinitionError) as caught:
        import_organisation(app, path)
    error = caught.value
    assert error.file == str(path)
    assert error.key == key
    assert message in str(error)
    assert str(path) in str(error)
    if line_text is not None:
        lines = text.splitlines()
        assert error.line is not None
        assert lines[error.line - 1] == line_text, (error.line, lines[error.line - 1])
    assert _counts(app) == before
    with app.db.session() as session:
        assert session.scalar(select(OrgUnit).where(OrgUnit.code == "ny-namnd")) is None
        assert session.scalar(select(Person).where(Person.email == "ny.person@example.se")) is None


def test_a_missing_file_is_a_definition_error(app: App, tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="file not found"):
        import_organisation(app, tmp_path / "missing.toml")
