"""The shipped example organisation (styrhjul/examples/organisation.toml) keeps its promises.

Checked on the raw TOML, independent of the loader: references resolve, values come from the
allowed sets, the shape matches the domain (five areas, nine departments, about forty units
with one rektor each), and only example.se addresses appear.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections import Counter
from importlib.resources import files
from typing import Any

import pytest

KINDS = {"council", "board", "administration", "group", "area", "department", "unit", "team"}
ROLES = {
    "council_chair", "board_chair", "board_member", "director", "area_head",
    "department_head", "rektor", "secretary", "controller", "team_leader", "member",
}  # fmt: skip
SCHOOL_FORMS = {
    "förskola", "grundskola", "gymnasieskola", "anpassad grundskola",
    "anpassad gymnasieskola", "fritidshem", "international",
}  # fmt: skip
SCHOOL_FORM_KINDS = {"area", "unit", "team"}
DEPARTMENTS = {
    "Administration & juridik", "Elevhälsan", "Måltidsservice", "Pedagogiskt center",
    "Modersmålsenheten", "Ekonomi", "HR", "Kommunikation & marknad", "Gymnasieplanering",
}  # fmt: skip
# Which kind of unit may sit under which: the chain of command, top to bottom.
PARENT_KINDS = {
    "board": {"council"},
    "administration": {"board"},
    "group": {"administration"},
    "area": {"administration"},
    "department": {"administration"},
    "unit": {"area"},
    "team": {"unit"},
}
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ON = dt.date(2026, 1, 15)

Table = dict[str, Any]


@pytest.fixture(scope="module")
def org() -> Table:
    resource = files("styrhjul.examples") / "organisation.toml"
    with resource.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def units(org: Table) -> dict[str, Table]:
    return {u["code"]: u for u in org["unit"]}


def _current(org: Table, role: Table, on: dt.date = ON) -> bool:
    start = role.get("valid_from", org["valid_from"])
    end = role.get("valid_to", dt.date.max)
    return start <= on <= end


def _holders(org: Table, unit: str, role: str, on: dt.date = ON) -> list[str]:
    return [
        r["person"]
        for r in org["role"]
        if r["unit"] == unit and r["role"] == role and _current(org, r, on)
    ]


def test_only_known_keys(org: Table) -> None:
    assert set(org) == {"valid_from", "unit", "person", "role"}
    assert isinstance(org["valid_from"], dt.date)
    for u in org["unit"]:
        assert (
            {"code", "name", "kind"}
            <= set(u)
            <= {"code", "name", "kind", "parent", "school_form", "dialog_windows"}
        )
    for p in org["person"]:
        assert {"email", "title"} <= set(p) <= {"email", "title", "locale"}
    for r in org["role"]:
        assert {"person", "unit", "role"} <= set(r) <= {
            "person", "unit", "role", "valid_from", "valid_to",
        }  # fmt: skip


def test_codes_are_unique_slugs(org: Table) -> None:
    codes = Counter(u["code"] for u in org["unit"])
    assert [c for c, n in codes.items() if n > 1] == []
    assert [c for c in codes if not SLUG.fullmatch(c)] == []


def test_emails_are_unique_and_under_example_se(org: Table) -> None:
    emails = Counter(p["email"] for p in org["person"])
    assert [e for e, n in emails.items() if n > 1] == []
    assert [e for e in emails if not e.endswith("@example.se")] == []


def test_kinds_roles_and_school_forms_are_allowed(org: Table) -> None:
    assert {u["kind"] for u in org["unit"]} == KINDS
    assert {r["role"] for r in org["role"]} == ROLES
    for u in org["unit"]:
        if "school_form" in u:
            assert u["kind"] in SCHOOL_FORM_KINDS, u["code"]
            assert u["school_form"] in SCHOOL_FORMS, u["code"]
    for kind in ("unit", "team"):
        missing = [u["code"] for u in org["unit"] if u["kind"] == kind and "school_form" not in u]
        assert missing == [], f"{kind}s without a school_form"


def test_one_root_and_a_tree_that_follows_the_chain(units: dict[str, Table]) -> None:
    roots = [code for code, u in units.items() if "parent" not in u]
    assert roots == ["kf"]
    assert units["kf"]["kind"] == "council"
    for code, u in units.items():
        if "parent" in u:
            assert u["parent"] in units, f"{code}: unknown parent {u['parent']!r}"
            assert units[u["parent"]]["kind"] in PARENT_KINDS[u["kind"]], code
        # Each step goes one level down the chain, so walking up must reach the root.
        top, seen = code, {code}
        while "parent" in units[top]:
            top = units[top]["parent"]
            assert top not in seen, f"cycle through {top}"
            seen.add(top)
        assert top == "kf"


def test_role_references_and_dates(org: Table, units: dict[str, Table]) -> None:
    emails = {p["email"] for p in org["person"]}
    for r in org["role"]:
        assert r["person"] in emails, r
        assert r["unit"] in units, r
        start = r.get("valid_from", org["valid_from"])
        assert isinstance(start, dt.date)
        if "valid_to" in r:
            assert isinstance(r["valid_to"], dt.date)
            assert start <= r["valid_to"], r
    unused = emails - {r["person"] for r in org["role"]}
    assert unused == set(), "people without a role"


def test_governance_top(org: Table) -> None:
    assert len(_holders(org, "kf", "council_chair")) == 1
    assert len(_holders(org, "bun", "board_chair")) == 1
    assert len(_holders(org, "bun", "board_member")) == 2
    assert _holders(org, "sff", "director") == ["utbildningsdirektor@example.se"]
    assert len(_holders(org, "sff", "secretary")) == 1
    assert len(_holders(org, "sff", "controller")) == 1


def test_five_areas_each_with_one_head(org: Table, units: dict[str, Table]) -> None:
    areas = [code for code, u in units.items() if u["kind"] == "area"]
    assert len(areas) == 5
    for code in areas:
        assert len(_holders(org, code, "area_head")) == 1, code


def test_nine_departments_each_with_one_head(org: Table, units: dict[str, Table]) -> None:
    departments = {code: u["name"] for code, u in units.items() if u["kind"] == "department"}
    assert set(departments.values()) == DEPARTMENTS
    for code in departments:
        assert len(_holders(org, code, "department_head")) == 1, code


def test_groups_hold_the_director_and_the_area_heads(org: Table, units: dict[str, Table]) -> None:
    area_heads = {
        p
        for code, u in units.items()
        if u["kind"] == "area"
        for p in _holders(org, code, "area_head")
    }
    for group in ("sg", "lg"):
        members = set(_holders(org, group, "member"))
        assert "utbildningsdirektor@example.se" in members, group
        assert area_heads <= members, group
    assert units["lg"]["name"] == "Ledningsgrupp Exempelstads skolor"


def test_units_spread_over_forms_each_with_one_rektor(org: Table, units: dict[str, Table]) -> None:
    schools = {code: u for code, u in units.items() if u["kind"] == "unit"}
    assert 35 <= len(schools) <= 45
    assert {u["school_form"] for u in schools.values()} == SCHOOL_FORMS
    assert {u["parent"] for u in schools.values()} == {
        code for code, u in units.items() if u["kind"] == "area"
    }
    for code in schools:
        assert len(_holders(org, code, "rektor")) == 1, code


def test_teams_have_leaders(org: Table, units: dict[str, Table]) -> None:
    teams = [code for code, u in units.items() if u["kind"] == "team"]
    assert len({units[code]["parent"] for code in teams}) == 3
    for code in teams:
        assert len(_holders(org, code, "team_leader")) == 1, code


def test_a_rektor_changed_at_the_school_year(org: Table) -> None:
    ended = [r for r in org["role"] if r["role"] == "rektor" and "valid_to" in r]
    assert len(ended) >= 1
    for old in ended:
        before = old["valid_to"]
        after = before + dt.timedelta(days=1)
        assert _holders(org, old["unit"], "rektor", before) == [old["person"]]
        successors = _holders(org, old["unit"], "rektor", after)
        assert len(successors) == 1
        assert successors != [old["person"]]
