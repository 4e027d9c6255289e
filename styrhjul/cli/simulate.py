"""``styrhjul simulate``: a dry run of a period on a simulated clock, on a copy of the database.

Thin: parse the dates, call :func:`styrhjul.services.simulation.simulate`, render. The
text is for the operator, in English, with the messages' Swedish subjects as they are;
``--json`` prints the whole report. A long period shows a progress bar on stderr.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date, datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from styrhjul.calendar.names import ENGLISH_WEEKDAYS  # the report is for the operator
from styrhjul.cli.base import CliState, json_option, parse_date, pass_state, print_json
from styrhjul.services.simulation import check_period, simulate
from styrhjul.services.simulation_report import DayReport, SimulationReport
from styrhjul.services.yearplan import simulated_planning

PROGRESS_FROM_DAYS = 31
"""Periods longer than this get a progress bar."""


@click.command("simulate")
@click.option("--from", "first", required=True, metavar="DATE", help="First day (2026-08-17).")
@click.option("--to", "last", required=True, metavar="DATE", help="Last day, inclusive.")
@click.option(
    "--plan/--no-plan",
    default=True,
    show_default=True,
    help="Plan the year from the årshjul first, as the daemon would; --no-plan: only what"
    " is already planned.",
)
@json_option
@pass_state
def simulate_command(state: CliState, first: str, last: str, plan: bool, as_json: bool) -> None:
    """Show what Styrhjul would do from --from to --to, day by day, without sending anything.

    The engine and the notification rules run on a simulated clock over a private copy of
    the database, which is deleted afterwards; nobody acts in a simulation, so open steps
    go overdue and are escalated as they would if nobody ticked them. The year is planned
    from the årshjul on the first day (and the next from 1 November), as the daemon does.
    """
    start, end = parse_date(first, "--from"), parse_date(last, "--to")
    check_period(start, end)
    app = state.app(remember=False)  # the copy remembers the definitions, not the real database
    days = (end - start).days + 1
    began = time.perf_counter()
    with Progress(
        TextColumn("simulating {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=days <= PROGRESS_FROM_DAYS,
    ) as bar:
        task = bar.add_task(str(start), total=days)

        def advance(day: date) -> None:
            bar.update(task, advance=1, description=str(day))

        report = simulate(
            app,
            start,
            end,
            before_day=simulated_planning(start) if plan else None,
            progress=advance,
        )
    elapsed = time.perf_counter() - began
    if as_json:
        print_json(asdict(report))
    else:
        _print(report, state)
    click.echo(f"simulated {report.days_simulated} days in {elapsed:.1f} s", err=True)


def _print(report: SimulationReport, state: CliState) -> None:
    click.echo(
        f"Simulation {report.first} to {report.last}: nothing was sent, the database is unchanged."
    )
    for day in report.days:
        click.echo("")
        click.echo(f"{day.day} {ENGLISH_WEEKDAYS[day.day.weekday()]}")
        for line in _lines(day, state):
            click.echo(f"  {line}")
    totals = report.totals
    by_kind = ", ".join(f"{kind} {count}" for kind, count in report.sent_by_kind.items())
    click.echo("")
    click.echo(
        f"Totals over {report.days_simulated} days ({report.quiet_days} without events,"
        f" {report.ticks} ticks): created {totals['created']}, moved {totals['moved']},"
        f" changes {totals['changes']}, sent {totals['sent']}"
        + (f" ({by_kind})" if by_kind else "")
        + f", escalated {totals['escalated']}"
    )


def _lines(day: DayReport, state: CliState) -> list[str]:
    """The day's events, by time of day; of the same minute, in the order of the report."""
    tz = state.settings.tz
    timed: list[tuple[datetime, str]] = [
        (c.at, f"created    {c.kind} {c.instance_id} {c.title} [{c.key}] ({c.by})")
        for c in day.created
    ]
    for m in day.moved:
        to = f" to {m.starts_at.astimezone(tz):%Y-%m-%d %H:%M}" if m.starts_at else ""
        timed.append((m.at, f"moved      {m.kind} {m.instance_id} {m.title}{to}: {m.reason}"))
    timed += [
        (c.at, f"{c.what:<10} {c.kind} {c.instance_id} {c.title}: {c.detail}") for c in day.changes
    ]
    timed += [
        (
            e.at,
            f"escalated  level {e.level} step {e.step_id} {e.step} ({e.title})"
            f" to {e.to or 'nobody (no one above)'}",
        )
        for e in day.escalated
    ]
    timed += [
        (s.at, f"sent       {s.kind} to {s.to}: {s.subject} {s.message_id}") for s in day.sent
    ]
    timed.sort(key=lambda pair: pair[0])
    return [f"{moment.astimezone(tz):%H:%M} {text}" for moment, text in timed]
