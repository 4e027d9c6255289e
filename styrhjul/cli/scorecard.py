"""``styrhjul scorecard ...``: load a scorecard (styrkort) from CSV, show it, apply its rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from styrhjul.cli.base import ENV_ACTOR, CliState, json_option, local, pass_state, print_json
from styrhjul.vocabulary import SYSTEM

if TYPE_CHECKING:
    from styrhjul.services.scorecard import OutcomeView


def _optional_actor(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--as EMAIL``: who is recorded in the audit trail; Styrhjul itself when not given."""
    return click.option(
        "--as",
        "actor",
        envvar=ENV_ACTOR,
        default=SYSTEM,
        show_default=True,
        help=f"E-mail of the person acting (or ${ENV_ACTOR}); recorded in the audit trail.",
    )(function)


@click.group("scorecard")
def scorecard_group() -> None:
    """The scorecard (styrkort): measures, targets (målvärde) and outcomes (utfall)."""


@scorecard_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_optional_actor
@json_option
@pass_state
def scorecard_import(state: CliState, path: Path, actor: str, as_json: bool) -> None:
    """Add or update measures and outcomes from a CSV file (all or nothing)."""
    from styrhjul.services.scorecard_import import import_scorecard

    summary = import_scorecard(state.app(), path, actor=actor)
    if as_json:
        print_json(asdict(summary))
        return
    click.echo(
        f"{summary.rows} rows: measures added {summary.measures_added}, updated"
        f" {summary.measures_updated}; outcomes added {summary.outcomes_added}, updated"
        f" {summary.outcomes_updated}, unchanged {summary.outcomes_unchanged}"
    )
    for change in summary.changes:
        click.echo(f"  changed: {change}")


@scorecard_group.command("show")
@click.option("--unit", help="Only this unit (code).")
@click.option("--period", help="Only outcomes of this period, e.g. 2025/26.")
@json_option
@pass_state
def scorecard_show(state: CliState, unit: str | None, period: str | None, as_json: bool) -> None:
    """List measures with their targets and outcomes; unmet targets are marked NOT MET."""
    from styrhjul.services.scorecard import scorecard

    measures = scorecard(state.app(), unit=unit, period=period)
    if as_json:
        print_json([asdict(m) for m in measures])
        return
    if not measures:
        click.echo("no measures: load a scorecard with 'styrhjul scorecard import FILE'")
        return
    table = Table("unit", "measure", "title", "target", "period", "outcome", "status", "recorded")
    for m in measures:
        # a measure without outcomes still gets its row, with None for the outcome
        outcomes: Sequence[OutcomeView | None] = m.outcomes or [None]
        for o in outcomes:
            table.add_row(
                m.unit,
                m.code,
                m.title,
                m.target_text,
                o.period if o else "",
                o.value_text if o else "–",
                ("met" if o.met else "[bold red]NOT MET[/]") if o else "no outcome",
                local(o.recorded_at, state.settings) if o else "",
            )
    state.console.print(table)


@scorecard_group.command("evaluate")
@click.option("--period", help="Only outcomes of this period (default: every period).")
@_optional_actor
@json_option
@pass_state
def scorecard_evaluate(state: CliState, period: str | None, actor: str, as_json: bool) -> None:
    """Apply the scorecard rules; running them again adds nothing.

    An unmet target becomes a step of the unit's next dialog; a budget deviation beyond the
    threshold starts a special economic follow-up (särskild ekonomisk uppföljning).
    """
    from styrhjul.services.scorecard import evaluate_scorecard

    report = evaluate_scorecard(state.app(), period, actor=actor)
    if as_json:
        print_json(
            {
                "period": report.period,
                "outcomes_checked": report.outcomes_checked,
                "steps_added": report.steps_added,
                "follow_ups_started": report.follow_ups_started,
                "unmet": [asdict(u) for u in report.unmet],
                "budget_deviations": [asdict(d) for d in report.deviations],
            }
        )
        return
    click.echo(
        f"{report.outcomes_checked} outcomes checked: {len(report.unmet)} targets not met,"
        f" {report.steps_added} dialog steps added; {len(report.deviations)} budget deviations"
        f" beyond the threshold, {report.follow_ups_started} economic follow-ups started"
    )
    for u in report.unmet:
        where = {
            "added": f"step {u.step_key} added to dialog {u.dialog_id}",
            "already": "step added earlier",
            "no_dialog": "no upcoming dialog: plan the next round and evaluate again",
        }[u.status]
        click.echo(
            f"  NOT MET {u.unit}/{u.code} {u.period}: {u.value_text} against {u.target_text};"
            f" {where}",
            err=u.status == "no_dialog",
        )
    for d in report.deviations:
        what = "started" if d.status == "started" else "already running"
        click.echo(
            f"  budget deviation {d.unit} {d.period}: {d.value:+g} % (threshold {d.threshold:g} %);"
            f" economic follow-up {d.instance_id} {what}"
        )
