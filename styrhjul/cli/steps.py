"""``styrhjul overdue``, ``styrhjul steps ...`` and ``styrhjul history``: steps of any instance.

Steps (checklist items) and audit timelines belong to every kind of instance (a dialog, a
plan assignment, a meeting, a process), and instance ids are one id space, so these
commands take any instance's ids.
"""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.table import Table

from styrhjul.cli.base import (
    CliState,
    actor_option,
    history_table,
    json_option,
    local,
    pass_state,
    print_json,
)
from styrhjul.services.overdue import StepRow


def _table(state: CliState, rows: list[StepRow], *, title: str) -> Table:
    table = Table(
        "step",
        "title",
        "instance",
        "unit",
        "area",
        "assignee",
        "due",
        "done",
        "days",
        "esc.",
        title=title,
    )
    for r in rows:
        table.add_row(
            str(r.id),
            r.title + ("" if r.required else " (frivillig)"),
            f"{r.instance_kind} {r.instance_id}: {r.instance_title}",
            f"{r.unit_name} ({r.unit})",
            r.area,
            r.assignee or f"({r.key}: unassigned)",
            local(r.due_at, state.settings),
            local(r.done_at, state.settings),
            str(r.days_overdue) if r.days_overdue else "",
            str(r.escalation_level) if r.escalation_level else "",
        )
    return table


@click.command("overdue")
@click.option(
    "--unit", help="Only this unit and everything under it (code; an area gives its schools)."
)
@click.option("--level", help="Only this dialog level (e.g. area_rektor) or instance kind.")
@json_option
@pass_state
def overdue_command(state: CliState, unit: str | None, level: str | None, as_json: bool) -> None:
    """Every overdue open step across the chain of command, most overdue first."""
    from styrhjul.services.overdue import overdue_steps

    rows = overdue_steps(state.app(), unit=unit, level=level)
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    if not rows:
        click.echo("no overdue steps")
        return
    state.console.print(_table(state, rows, title=f"{len(rows)} overdue steps"))


@click.group("steps")
def steps_group() -> None:
    """Checklist steps of any instance: list yours, mark one done."""


@steps_group.command("done")
@click.argument("step_id", type=int)
@actor_option
@pass_state
def steps_done(state: CliState, step_id: int, actor: str) -> None:
    """Mark checklist step STEP_ID done (its owner, or someone who runs the instance)."""
    from styrhjul.services.checklist import complete_step

    item = complete_step(state.app(), step_id, actor=actor)
    click.echo(f"step {step_id} ({item.key}) of instance {item.instance_id}: done")


@steps_group.command("list")
@click.option("--mine", is_flag=True, help="Only the steps assigned to you.")
@click.option("--open", "open_only", is_flag=True, help="Only steps not yet done.")
@actor_option
@json_option
@pass_state
def steps_list(state: CliState, mine: bool, open_only: bool, actor: str, as_json: bool) -> None:
    """Your steps, and those of the units you hold a role in (all of them unless --mine)."""
    from styrhjul.services.overdue import list_steps

    rows = list_steps(state.app(), actor, mine=mine, open_only=open_only)
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    state.console.print(_table(state, rows, title=f"steps of {actor}"))


@click.command("history")
@click.argument("instance_id", type=int)
@json_option
@pass_state
def history_command(state: CliState, instance_id: int, as_json: bool) -> None:
    """The audit timeline of any instance (dialog, assignment, meeting, process)."""
    from styrhjul.services.views import instance_detail

    detail = instance_detail(state.app(), instance_id)
    if as_json:
        print_json(
            {
                "id": detail.id,
                "kind": detail.kind,
                "title": detail.title,
                "workflow": detail.workflow,
                "workflow_version": detail.workflow_version,
                "unit": detail.unit,
                "state": detail.state,
                "state_title": detail.state_title,
                "entries": [asdict(e) for e in detail.history],
            }
        )
        return
    state.console.print(
        f"[bold]{detail.kind} {detail.id}[/]: {detail.title} ({detail.unit}), "
        f"{detail.workflow} v{detail.workflow_version}, "
        f"state {detail.state} ({detail.state_title})"
    )
    state.console.print(history_table(detail.history, state.settings))
