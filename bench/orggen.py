"""A seeded generator of organisations for the benchmarks: never checked-in data.

``organisation_toml(units, seed)`` writes an organisation file in the format of
``styrhjul/examples/organisation.toml``: the council, two boards, the administration with
its management and steering groups, areas of about 20 units each, departments, units
(schools and preschool areas, each with a rektor) and, with ``teams``, two teams per unit.
Role titles and example.se addresses only.
"""

from __future__ import annotations

import random

FORMS = ("förskola", "grundskola", "gymnasieskola", "fritidshem")


def organisation_toml(units: int, *, seed: int = 1, teams: bool = False) -> str:  # noqa: PLR0915 - one flat file writer
    rng = random.Random(seed)  # noqa: S311 - a reproducible order, not a secret
    areas = max(1, units // 20)
    out = ["valid_from = 2024-08-01", ""]

    def unit(code: str, name: str, kind: str, parent: str | None, form: str | None = None) -> None:
        out.append("[[unit]]")
        out.append(f'code = "{code}"')
        out.append(f'name = "{name}"')
        out.append(f'kind = "{kind}"')
        if parent:
            out.append(f'parent = "{parent}"')
        if form:
            out.append(f'school_form = "{form}"')
        out.append("")

    people: list[tuple[str, str]] = []
    roles: list[tuple[str, str, str]] = []

    def person(email: str, title: str, unit_code: str, role: str) -> None:
        people.append((email, title))
        roles.append((email, unit_code, role))

    unit("kf", "Kommunfullmäktige", "council", None)
    unit("bun", "Barn- och utbildningsnämnden", "board", "kf")
    unit("ifn", "Idrotts- och fritidsnämnden", "board", "kf")
    unit("sff", "Skol- och fritidsförvaltningen", "administration", "bun")
    unit("lg", "Ledningsgrupp", "group", "sff")
    unit("sg", "Styrgrupp", "group", "sff")
    person("ordforande.kf@example.se", "Kommunfullmäktiges ordförande", "kf", "council_chair")
    person("ordforande.bun@example.se", "Ordförande i BUN", "bun", "board_chair")
    person("ordforande.ifn@example.se", "Ordförande i IFN", "ifn", "board_chair")
    person("utbildningsdirektor@example.se", "Utbildningsdirektör", "sff", "director")
    person("sekreterare@example.se", "Nämndsekreterare", "sff", "secretary")
    person("controller@example.se", "Chefscontroller", "sff", "controller")
    for d in range(1, 4):
        code = f"avd-{d}"
        unit(code, f"Avdelning {d}", "department", "sff")
        person(f"avdelningschef.{d}@example.se", f"Avdelningschef {d}", code, "department_head")
    for a in range(1, areas + 1):
        form = FORMS[(a - 1) % len(FORMS)]
        code = f"omrade-{a}"
        unit(code, f"Verksamhetsområde {a}", "area", "sff", form)
        head = f"verksamhetschef.{a}@example.se"
        person(head, f"Verksamhetschef område {a}", code, "area_head")
        roles.append((head, "lg", "member"))
    for u in range(1, units + 1):
        area = (u - 1) % areas + 1
        form = FORMS[(area - 1) % len(FORMS)]
        code = f"enhet-{u}"
        unit(code, f"Enhet {u}", "unit", f"omrade-{area}", form)
        person(f"rektor.{u}@example.se", f"Rektor enhet {u}", code, "rektor")
        if teams:
            for t in range(1, 3):
                team = f"{code}-lag-{t}"
                unit(team, f"Arbetslag {t} enhet {u}", "team", code, form)
                person(
                    f"arbetslagsledare.{u}.{t}@example.se", "Arbetslagsledare", team, "team_leader"
                )
    rng.shuffle(people)  # file order must not matter
    for email, title in people:
        out += ["[[person]]", f'email = "{email}"', f'title = "{title}"', ""]
    for email, unit_code, role in roles:
        out += ["[[role]]", f'person = "{email}"', f'unit = "{unit_code}"', f'role = "{role}"', ""]
    return "\n".join(out)
