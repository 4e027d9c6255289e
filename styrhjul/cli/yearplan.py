"""``styrhjul plan YEAR``, ``styrhjul events`` and ``styrhjul wheel``: the year from the årshjul."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import Progress
from rich.table import Table

from styrhjul.cli.base import (
    CliState,
    json_option,
    local,
    parse_date,
    pass_state,
    print_json,
    write_atomically,
)
from styrhjul.errors import InputError
from styrhjul.vocabulary import SYSTEM

if TYPE_CHECKING:
    from styrhjul.services.yearplan import YearPlan


def _when(state: CliState, moment: datetime | None) -> str:
    return local(moment, state.settings) if moment else ""


def plan_year_command(
    state: CliState,
    year: int,
    *,
    apply: bool,
    compare: int | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """The body of ``styrhjul plan YEAR`` (the command itself lives with ``plan``)."""
    if not 1900 < year < 2200:
        raise InputError(f"{year} is not a year to plan (1901-2199)", key="year")
    app = state.app()
    if compare is not None:
        _compare(state, year, compare, as_json)
        return
    from styrhjul.services.yearplan import plan_year

    with Progress(console=state.console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"planning {year}", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what[:50])

        plan = plan_year(app, year, apply=apply, actor=actor or SYSTEM, progress=progress)
    _print_plan(state, plan, as_json)


def _print_plan(state: CliState, plan: YearPlan, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "year": plan.year,
                "arshjul": plan.arshjul,
                "occurrences": plan.occurrences,
                "first_plan": plan.first_plan,
                "applied": plan.applied,
                "unchanged": plan.unchanged,
                "changes": [asdict(c) for c in plan.changes],
                "started": plan.started,
                "notes": plan.notes,
            }
        )
        return
    if plan.changes:
        table = Table(title=f"Plan {plan.year}: changes", title_justify="left")
        for column in ("action", "what", "key", "title", "from", "to", "why"):
            table.add_column(column)
        for change in plan.changes:
            table.add_row(
                change.action,
                change.what,
                change.key,
                change.title,
                _when(state, change.old),
                _when(state, change.new),
                change.detail,
            )
        if not plan.first_plan:
            state.console.print(table)
    summary = (
        f"{plan.year}: {plan.occurrences} events from {plan.arshjul};"
        f" {plan.count('add')} to add, {plan.count('move')} to move,"
        f" {plan.count('cancel')} to cancel, {plan.unchanged} unchanged"
    )
    click.echo(summary)
    for note in plan.notes:
        click.echo(f"  note: {note}", err=True)
    if plan.applied:
        click.echo(
            f"written: {len(plan.started)} things set going"
            + (" (first plan of the year)" if plan.first_plan else "")
        )
        for started in plan.started[:20]:
            click.echo(f"  {started}")
        if len(plan.started) > 20:
            click.echo(f"  ... and {len(plan.started) - 20} more")
    elif plan.changes:
        click.echo("nothing written: run again with --apply to write these changes")
    else:
        click.echo("the plan is up to date")


def _compare(state: CliState, year: int, previous: int, as_json: bool) -> None:
    from styrhjul.services.yearplan import compare_years

    rows = compare_years(state.app(), year, previous)
    if as_json:
        print_json(
            [
                {
                    "rule": r.rule,
                    "title": r.title,
                    str(previous): [d.isoformat() for d in r.before],
                    str(year): [d.isoformat() for d in r.after],
                    "why": r.why,
                }
                for r in rows
            ]
        )
        return
    table = Table(title=f"{year} compared with {previous}", title_justify="left")
    for column in ("rule", "title", str(previous), str(year), "why"):
        table.add_column(column)
    for r in rows:
        single = len(r.before) <= 1 and len(r.after) <= 1
        table.add_row(
            r.rule,
            r.title,
            r.before[0].strftime("%a %d %b") if single and r.before else f"{len(r.before)} dates",
            r.after[0].strftime("%a %d %b") if single and r.after else f"{len(r.after)} dates",
            r.why,
        )
    state.console.print(table)


@click.command("events")
@click.option("--from", "first", required=True, metavar="DATE", help="First day (YYYY-MM-DD).")
@click.option("--to", "last", required=True, metavar="DATE", help="Last day (YYYY-MM-DD).")
@click.option("--unit", metavar="CODE", help="Only what concerns this unit.")
@click.option("--person", metavar="EMAIL", help="Only what concerns this person.")
@json_option
@pass_state
def events_command(
    state: CliState,
    first: str,
    last: str,
    unit: str | None,
    person: str | None,
    as_json: bool,
) -> None:
    """List the plan: årshjul events, dialogs and meetings in a period."""
    from styrhjul.services.calendar_events import list_events

    rows = list_events(
        state.app(),
        parse_date(first, "--from"),
        parse_date(last, "--to"),
        unit=unit,
        person=person,
    )
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    if not rows:
        click.echo("nothing planned in that period (plan it with 'styrhjul plan YEAR')")
        return
    table = Table()
    for column in ("when", "kind", "title", "unit", "ring", "status"):
        table.add_column(column)
    tz = state.settings.tz
    for r in rows:
        when = (
            r.starts_at.astimezone(tz).strftime("%Y-%m-%d")
            if r.all_day
            else local(r.starts_at, state.settings)
        )
        table.add_row(when, r.kind, r.title, r.unit, r.ring, r.status)
    state.console.print(table)
    click.echo(f"{len(rows)} entries")


@click.command("wheel")
@click.argument("year", type=int)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SVG file to write.",
)
@pass_state
def wheel_command(state: CliState, year: int, out: Path) -> None:
    """Draw the årshjul of YEAR as an SVG picture, with today marked."""
    from styrhjul.services.calendar_events import wheel_svg

    if not 1900 < year < 2200:
        raise InputError(f"{year} is not a year to draw (1901-2199)", key="year")
    app = state.app()
    svg = wheel_svg(app, year, today=app.clock.today())
    write_atomically(out, svg.encode("utf-8"))
    click.echo(f"wrote {out} ({len(svg) // 1024} KiB)")
