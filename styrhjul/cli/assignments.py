"""``styrhjul assignments ...``: plan assignments (VP-uppdrag) from creation to next year's plan.

Thin commands: parse, call one service of :mod:`styrhjul.services.assignments` (or its read
models), render. Who may do what in which state is the definition's business
(``workflows/vp_assignment.toml``); refusals come back as errors with their exit codes.
"""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.table import Table

from styrhjul.calendar import SchoolYear
from styrhjul.cli.base import (
    CliState,
    actor_option,
    checklist_table,
    history_table,
    json_option,
    local,
    pass_state,
    print_json,
)


@click.group("assignments")
def assignments_group() -> None:
    """Plan assignments (VP-uppdrag): create, list, show, move, units, report, revise."""


@assignments_group.command("create")
@click.option("--title", required=True, help="The assignment as the plan words it (Swedish).")
@click.option("--responsible", required=True, metavar="EMAIL", help="The area head (VC).")
@click.option("--school-year", required=True, metavar="YYYY/YY", help="e.g. 2026/27.")
@click.option("--description", default="", help="What the assignment aims at.")
@click.option("--unit", "units", multiple=True, metavar="CODE", help="A unit concerned; repeat.")
@click.option("--steering", multiple=True, metavar="EMAIL", help="A steering group member.")
@click.option("--support", multiple=True, metavar="EMAIL", help="A supporting department head.")
@json_option
@actor_option
@pass_state
def assignments_create(
    state: CliState,
    title: str,
    responsible: str,
    school_year: str,
    description: str,
    units: tuple[str, ...],
    steering: tuple[str, ...],
    support: tuple[str, ...],
    as_json: bool,
    actor: str,
) -> None:
    """Give an area head a plan assignment (the director only); it starts as a draft."""
    from styrhjul.services.assignments import NewAssignment, create_assignment

    new = NewAssignment(
        title=title,
        responsible=responsible,
        school_year=SchoolYear.parse(school_year),
        description=description,
        units=units,
        steering_group=steering,
        support=support,
    )
    assignment_id = create_assignment(state.app(), new, actor=actor)
    if as_json:
        print_json({"id": assignment_id, "state": "draft"})
        return
    click.echo(f"assignment {assignment_id}: draft")


@assignments_group.command("list")
@click.option("--school-year", metavar="YYYY/YY")
@click.option("--state", "state_name", help="Only assignments in this state.")
@click.option("--area", help="Only assignments of this area (code).")
@click.option("--responsible", metavar="EMAIL", help="Only this area head's assignments.")
@json_option
@pass_state
def assignments_list(
    state: CliState,
    school_year: str | None,
    state_name: str | None,
    area: str | None,
    responsible: str | None,
    as_json: bool,
) -> None:
    """List plan assignments by school year."""
    from styrhjul.services.assignment_views import list_assignments

    year = SchoolYear.parse(school_year).label if school_year else None
    rows = list_assignments(
        state.app(), school_year=year, state=state_name, area=area, responsible=responsible
    )
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("id", "year", "title", "state", "area", "responsible", "units", "next due")
    for r in rows:
        table.add_row(
            str(r.id),
            r.school_year,
            r.title,
            r.state_title,
            r.area,
            r.responsible,
            str(r.units),
            f"{local(r.next_due_at, state.settings)} {r.next_step or ''}".strip(),
        )
    state.console.print(table)


@assignments_group.command("show")
@click.argument("assignment_id", type=int)
@json_option
@pass_state
def assignments_show(state: CliState, assignment_id: int, as_json: bool) -> None:
    """Show one assignment: units, steering group, steps, last report, history."""
    from styrhjul.services.assignment_views import assignment_detail

    detail = assignment_detail(state.app(), assignment_id)
    if as_json:
        print_json(asdict(detail))
        return
    s, a, out = state.settings, detail.assignment, state.console
    out.print(f"[bold]assignment {a.id}[/]: {a.title} ({a.school_year})")
    out.print(f"state: {a.state} ({a.state_title}); next: {', '.join(detail.allowed) or '-'}")
    out.print(f"responsible: {a.responsible} ({a.area_name}); version {a.version}")
    if detail.revised_from_id or detail.revised_into_id:
        out.print(
            f"revised from: {detail.revised_from_id or '-'}; into: {detail.revised_into_id or '-'}"
        )
    if detail.description:
        out.print(detail.description)
    units = ", ".join(u.code + (f" ({u.area})" if u.outside_area else "") for u in detail.units)
    out.print(f"units concerned: {units or '-'}")
    out.print(f"steering group: {', '.join(m.email for m in detail.steering_group) or '-'}")
    out.print(f"support: {', '.join(m.email for m in detail.support) or '-'}")
    if detail.last_report:
        r = detail.last_report
        out.print(f"last report: {local(r.at, s)} by {r.actor}: {r.text}")
    out.print(checklist_table(detail.steps, s, title="steps"))
    out.print(history_table(detail.history, s))


@assignments_group.command("move")
@click.argument("assignment_id", type=int)
@click.argument("trigger")
@click.option("--reason", default="", help="Why; required to override, withdraw or cancel.")
@click.option(
    "--override", is_flag=True, help="Pass a refusing guard (the director, with --reason)."
)
@click.option("--version", "expected_version", type=int, help="Refuse if it changed since.")
@actor_option
@pass_state
def assignments_move(
    state: CliState,
    assignment_id: int,
    trigger: str,
    reason: str,
    override: bool,
    expected_version: int | None,
    actor: str,
) -> None:
    """Move an assignment on: propose, anchor, decide, plan, start, follow_up, evaluate, close..."""
    from styrhjul.services.assignments import move

    new_state = move(
        state.app(),
        assignment_id,
        trigger,
        actor=actor,
        reason=reason,
        override=override,
        expected_version=expected_version,
    )
    click.echo(f"assignment {assignment_id}: {new_state}")


@assignments_group.command("units")
@click.argument("assignment_id", type=int)
@click.option("--add", "add", multiple=True, metavar="CODE", help="A unit to add; repeat.")
@click.option("--remove", "remove", multiple=True, metavar="CODE", help="A unit to remove.")
@click.option("--version", "expected_version", type=int, help="Refuse if it changed since.")
@actor_option
@pass_state
def assignments_units(
    state: CliState,
    assignment_id: int,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    expected_version: int | None,
    actor: str,
) -> None:
    """Add or remove units concerned; once work has started, dialog steps follow."""
    from styrhjul.services.assignments import change_units

    change = change_units(
        state.app(),
        assignment_id,
        actor=actor,
        add=add,
        remove=remove,
        expected_version=expected_version,
    )
    parts = [f"added {', '.join(change.added)}"] if change.added else []
    parts += [f"removed {', '.join(change.removed)}"] if change.removed else []
    click.echo(
        f"assignment {assignment_id}: {'; '.join(parts)}"
        f" ({len(change.steps_raised)} dialog steps added, {len(change.steps_dropped)} dropped)"
    )


@assignments_group.command("report")
@click.argument("assignment_id", type=int)
@click.option("--summary", required=True, help="What was reported (Swedish).")
@click.option("--to", "to", multiple=True, metavar="GROUP", help="Group code; default: lg and sg.")
@actor_option
@pass_state
def assignments_report(
    state: CliState, assignment_id: int, summary: str, to: tuple[str, ...], actor: str
) -> None:
    """Record a follow-up report to LG and SG; it is this school year's yearly report."""
    from styrhjul.services.assignments import DEFAULT_REPORT_TO, report_follow_up

    keys = report_follow_up(
        state.app(), assignment_id, actor=actor, summary=summary, to=to or DEFAULT_REPORT_TO
    )
    click.echo(f"assignment {assignment_id}: report recorded; steps done: {', '.join(keys) or '-'}")


@assignments_group.command("revise")
@click.argument("assignment_id", type=int)
@click.option("--reason", default="", help="What changes for next year.")
@actor_option
@pass_state
def assignments_revise(state: CliState, assignment_id: int, reason: str, actor: str) -> None:
    """Revise an evaluated assignment into next school year's plan (a new draft)."""
    from styrhjul.services.assignments import revise

    draft = revise(state.app(), assignment_id, actor=actor, reason=reason)
    click.echo(f"assignment {assignment_id}: revised; next year's draft is assignment {draft}")
