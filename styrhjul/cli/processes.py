"""``styrhjul processes ...``: the budget cycle, the VP process, quality reports."""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.table import Table

from styrhjul.cli.base import (
    CliState,
    actor_option,
    checklist_table,
    history_table,
    json_option,
    local,
    parse_datetime,
    pass_state,
    print_json,
)


@click.group("processes")
def processes_group() -> None:
    """Processes (budget cycle, VP, quality reports): start, list, show, move on."""


@processes_group.command("start")
@click.argument("workflow")
@click.option("--unit", "unit_code", required=True, help="The unit it concerns (code).")
@click.option("--period", required=True, metavar="YYYY|YYYY/YY", help="Budget or school year.")
@click.option("--at", "at", metavar="DATETIME", help="The event it leads up to (local time).")
@actor_option
@json_option
@pass_state
def process_start(
    state: CliState,
    workflow: str,
    unit_code: str,
    period: str,
    at: str | None,
    actor: str,
    as_json: bool,
) -> None:
    """Start WORKFLOW for a unit and period (again: reports the one that exists)."""
    from styrhjul.services.processes import start_process

    starts_at = parse_datetime(at, "--at", state.settings) if at else None
    started = start_process(
        state.app(), workflow, unit_code, period=period, actor=actor, starts_at=starts_at
    )
    if as_json:
        print_json(asdict(started))
        return
    verb = "started" if started.created else "already running"
    click.echo(f"process {started.id}: {workflow} {period} for {unit_code} {verb}")


@processes_group.command("list")
@click.option("--workflow", help="Only this workflow.")
@click.option("--unit", help="Only this unit (code).")
@click.option("--state", "state_name", help="Only processes in this state.")
@json_option
@pass_state
def process_list(
    state: CliState,
    workflow: str | None,
    unit: str | None,
    state_name: str | None,
    as_json: bool,
) -> None:
    """List process instances."""
    from styrhjul.services.processes import list_processes

    rows = list_processes(state.app(), workflow=workflow, unit=unit, state=state_name)
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("id", "workflow", "period", "unit", "state", "event", "open steps")
    for r in rows:
        table.add_row(
            str(r.id),
            r.workflow,
            r.period or "",
            r.unit,
            r.state_title,
            local(r.starts_at, state.settings),
            str(r.open_steps),
        )
    state.console.print(table)


@processes_group.command("show")
@click.argument("instance_id", type=int)
@json_option
@pass_state
def process_show(state: CliState, instance_id: int, as_json: bool) -> None:
    """Show one instance of any kind: state, steps, agreements and what may happen next."""
    from styrhjul.services.views import instance_detail

    detail = instance_detail(state.app(), instance_id)
    if as_json:
        print_json(asdict(detail))
        return
    s, out = state.settings, state.console
    out.print(f"[bold]{detail.kind} {detail.id}[/]: {detail.title} ({detail.unit})")
    out.print(
        f"workflow {detail.workflow} v{detail.workflow_version}; state: {detail.state}"
        f" ({detail.state_title}); next: {', '.join(detail.allowed) or '-'}"
    )
    out.print(checklist_table(detail.checklist, s))
    out.print(history_table(detail.history, s))


@processes_group.command("move")
@click.argument("instance_id", type=int)
@click.argument("trigger")
@click.option("--reason", default="", help="Why (required with --override).")
@click.option("--override", is_flag=True, help="Pass a refusing guard (roles allowed to).")
@click.option("--expected-version", type=int, help="Refuse if someone changed it since.")
@actor_option
@pass_state
def process_move(
    state: CliState,
    instance_id: int,
    trigger: str,
    reason: str,
    override: bool,
    expected_version: int | None,
    actor: str,
) -> None:
    """Fire TRIGGER on an instance (e.g. submit_proposal, decide_internal_budget)."""
    from styrhjul.services.instances import fire_trigger

    new_state = fire_trigger(
        state.app(),
        instance_id,
        trigger,
        actor=actor,
        reason=reason,
        override=override,
        expected_version=expected_version,
        kind="process",
    )
    click.echo(f"instance {instance_id}: {new_state}")
