"""``styrhjul plan`` and ``styrhjul dialog ...``: planning a round and running its dialogs."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from styrhjul.calendar import SchoolYear
from styrhjul.cli.base import (
    ENV_ACTOR,
    CliState,
    actor_option,
    checklist_table,
    history_table,
    json_option,
    local,
    parse_date,
    parse_datetime,
    pass_state,
    print_json,
)
from styrhjul.errors import InputError


@click.command("plan")
@click.argument("year", type=int, required=False)
@click.option("--apply", is_flag=True, help="With YEAR: write the changes shown.")
@click.option("--compare", type=int, metavar="YEAR", help="With YEAR: how the dates moved since.")
@click.option(
    "--as",
    "actor",
    envvar=ENV_ACTOR,
    help=f"With YEAR: who applies the plan (or ${ENV_ACTOR}); default: the system.",
)
@click.option("--school-year", metavar="YYYY/YY", help="School year, e.g. 2026/27.")
@click.option("--round", "round_no", type=int, help="Round number (1-3).")
@click.option(
    "--level",
    help="Dialog level: area_rektor (default), director_area, director_department, "
    "rektor_team, council_board.",
)
@json_option
@pass_state
def plan_command(
    state: CliState,
    year: int | None,
    apply: bool,
    compare: int | None,
    actor: str | None,
    school_year: str | None,
    round_no: int | None,
    level: str | None,
    as_json: bool,
) -> None:
    """Plan the year from the årshjul (YEAR), or one dialog round.

    With YEAR: every event, dialog, meeting and process the calendar year holds, from the
    årshjul's rules. The first time it is written at once; after a change of the rules or
    the organisation the changes are shown and written with --apply. --compare YEAR shows,
    rule by rule, how the dates moved since that year and why.

    Without YEAR: one dialog round (the next area head ↔ rektor round whose window has not
    opened, or --school-year/--round/--level). Planning again keeps what exists.
    """
    from styrhjul.services.planning import plan_round

    if year is not None:
        from styrhjul.cli.yearplan import plan_year_command

        if school_year or round_no or level:
            raise InputError(
                "YEAR plans the whole year; --school-year, --round and --level"
                " plan one round without it",
                key="year",
            )
        plan_year_command(state, year, apply=apply, compare=compare, actor=actor, as_json=as_json)
        return
    if apply or compare is not None:
        raise InputError(
            "--apply and --compare go with YEAR (styrhjul plan 2027 --apply)", key="year"
        )

    round_year = SchoolYear.parse(school_year) if school_year else None
    result = plan_round(state.app(), round_year, round_no, level=level)
    if as_json:
        print_json(
            {
                "level": result.level,
                "school_year": result.school_year,
                "round": result.round_no,
                "created": result.created,
                "existing": result.existing,
                "invites_queued": result.invites,
                "skipped": [{"unit": u, "reason": r} for u, r in result.skipped],
            }
        )
        return
    click.echo(
        f"{result.level}, school year {result.school_year}, round {result.round_no}:"
        f" {len(result.created)} dialogs planned, {result.existing} already planned,"
        f" {result.invites} invites queued"
    )
    for unit, reason in result.skipped:
        click.echo(f"  not planned: {unit}: {reason}", err=True)


@click.group("dialog")
def dialog_group() -> None:
    """Performance dialogs (verksamhetsdialoger): list, show, hold, close, move, cancel."""


@dialog_group.command("list")
@click.option("--school-year", metavar="YYYY/YY")
@click.option("--round", "round_no", type=int)
@click.option("--state", "state_name", help="Only dialogs in this state.")
@click.option("--area", help="Only dialogs of this area (code).")
@json_option
@pass_state
def dialog_list(
    state: CliState,
    school_year: str | None,
    round_no: int | None,
    state_name: str | None,
    area: str | None,
    as_json: bool,
) -> None:
    """List dialogs in date order."""
    from styrhjul.services.views import list_dialogs

    rows = list_dialogs(
        state.app(), school_year=school_year, round_no=round_no, state=state_name, area=area
    )
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("id", "when", "unit", "area", "round", "state", "organiser", "participant")
    for r in rows:
        table.add_row(
            str(r.id),
            local(r.starts_at, state.settings),
            r.unit_name,
            r.area,
            f"{r.school_year} #{r.round_no}",
            r.state_title,
            r.organizer,
            r.participant,
        )
    state.console.print(table)


@dialog_group.command("show")
@click.argument("dialog_id", type=int)
@json_option
@pass_state
def dialog_show(state: CliState, dialog_id: int, as_json: bool) -> None:
    """Show one dialog: checklist, agreements, history and what may happen next."""
    from styrhjul.services.views import dialog_detail

    detail = dialog_detail(state.app(), dialog_id)
    if as_json:
        print_json(asdict(detail))
        return
    s, d = state.settings, detail.dialog
    out = state.console
    out.print(
        f"[bold]dialog {d.id}[/]: {d.unit_name} ({d.unit}), round {d.round_no} {d.school_year}"
    )
    out.print(f"state: {d.state} ({d.state_title}); next: {', '.join(detail.allowed) or '-'}")
    out.print(f"when: {local(d.starts_at, s)}-{local(detail.ends_at, s)[-5:]}, {detail.location}")
    out.print(f"organiser: {d.organizer}; participant: {d.participant}; version {d.version}")
    out.print(checklist_table(detail.checklist, s))
    for o in detail.observations:
        out.print(f"[bold]observations ({o.school_form or '-'})[/], by {o.author}:\n{o.text}")
    if detail.minutes:
        out.print(f"[bold]minutes[/]: {detail.minutes}")
    if detail.agreements:
        agreed = Table("id", "agreement", "owner", "due", "done", title="agreements")
        for a in detail.agreements:
            agreed.add_row(str(a.id), a.text, a.owner, a.due_on.isoformat(), local(a.done_at, s))
        out.print(agreed)
    out.print(history_table(detail.history, s))


def _agreement(text: str) -> tuple[str, str, str]:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != 3 or not all(parts):
        raise InputError(
            f"expected 'what was agreed | owner@example.se | YYYY-MM-DD', got {text!r}",
            key="--agreement",
        )
    return parts[0], parts[1], parts[2]


@dialog_group.command("hold")
@click.argument("dialog_id", type=int)
@click.option("--minutes", help="What was discussed and concluded.")
@click.option("--minutes-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--agreement",
    "agreements",
    multiple=True,
    metavar="'TEXT | OWNER | DUE'",
    help="An agreed action with its owner's e-mail and due date; repeat for more.",
)
@click.option("--version", "expected_version", type=int, help="Refuse if the dialog changed since.")
@actor_option
@pass_state
def dialog_hold(
    state: CliState,
    dialog_id: int,
    minutes: str | None,
    minutes_file: Path | None,
    agreements: tuple[str, ...],
    expected_version: int | None,
    actor: str,
) -> None:
    """Record that the dialog was held, with minutes and agreed actions."""
    from styrhjul.services.dialogs import AgreementInput, hold

    if (minutes is None) == (minutes_file is None):
        raise InputError(
            "give the minutes with either --minutes or --minutes-file", key="--minutes"
        )
    text = minutes if minutes_file is None else minutes_file.read_text(encoding="utf-8")
    assert text is not None  # exactly one of the two was given, checked just above
    items = [
        AgreementInput(what, owner, parse_date(due, "--agreement"))
        for what, owner, due in map(_agreement, agreements)
    ]
    new_state = hold(
        state.app(),
        dialog_id,
        actor=actor,
        minutes=text,
        agreements=items,
        expected_version=expected_version,
    )
    click.echo(f"dialog {dialog_id}: {new_state} ({len(items)} agreements recorded)")


@dialog_group.command("close")
@click.argument("dialog_id", type=int)
@click.option("--reason", default="", help="A note for the history.")
@click.option("--version", "expected_version", type=int, help="Refuse if the dialog changed since.")
@actor_option
@pass_state
def dialog_close(
    state: CliState, dialog_id: int, reason: str, expected_version: int | None, actor: str
) -> None:
    """Close the dialog's follow-up (every agreement must be done)."""
    from styrhjul.services.dialogs import close

    new_state = close(
        state.app(), dialog_id, actor=actor, reason=reason, expected_version=expected_version
    )
    click.echo(f"dialog {dialog_id}: {new_state}")


@dialog_group.command("cancel")
@click.argument("dialog_id", type=int)
@click.option("--reason", required=True, help="Why (sent to the participants, in Swedish).")
@actor_option
@pass_state
def dialog_cancel(state: CliState, dialog_id: int, reason: str, actor: str) -> None:
    """Cancel the dialog and send everyone a cancellation."""
    from styrhjul.services.dialogs import cancel

    click.echo(f"dialog {dialog_id}: {cancel(state.app(), dialog_id, actor=actor, reason=reason)}")


@dialog_group.command("postpone")
@click.argument("dialog_id", type=int)
@click.option("--to", "to", required=True, metavar="DATETIME", help="New start, local time.")
@click.option("--reason", required=True, help="Why (sent to the participants, in Swedish).")
@actor_option
@pass_state
def dialog_postpone(state: CliState, dialog_id: int, to: str, reason: str, actor: str) -> None:
    """Move the dialog to a new time and send everyone an updated invite."""
    from styrhjul.services.dialogs import postpone

    starts = parse_datetime(to, "--to", state.settings)
    dialog = postpone(state.app(), dialog_id, actor=actor, starts_at=starts, reason=reason)
    click.echo(f"dialog {dialog_id}: moved to {local(dialog.starts_at, state.settings)}")


@dialog_group.command("step-done")
@click.argument("step_id", type=int)
@actor_option
@pass_state
def dialog_step_done(state: CliState, step_id: int, actor: str) -> None:
    """Mark a checklist step done."""
    from styrhjul.services.checklist import complete_step

    item = complete_step(state.app(), step_id, actor=actor)
    click.echo(f"step {step_id} ({item.key}) of dialog {item.instance_id}: done")


@dialog_group.command("agreement-done")
@click.argument("agreement_id", type=int)
@actor_option
@pass_state
def dialog_agreement_done(state: CliState, agreement_id: int, actor: str) -> None:
    """Mark an agreed action done."""
    from styrhjul.services.checklist import complete_agreement

    agreement = complete_agreement(state.app(), agreement_id, actor=actor)
    click.echo(f"agreement {agreement_id} of dialog {agreement.instance_id}: done")


@dialog_group.command("agreement-carry")
@click.argument("agreement_id", type=int)
@click.option("--due", metavar="YYYY-MM-DD", help="A new due date (default: the same).")
@actor_option
@pass_state
def dialog_agreement_carry(state: CliState, agreement_id: int, due: str | None, actor: str) -> None:
    """Carry an open agreement over to the unit's next dialog round."""
    from styrhjul.services.dialogs import carry_agreement_on

    due_on = parse_date(due, "--due") if due else None
    copy = carry_agreement_on(state.app(), agreement_id, actor=actor, due_on=due_on)
    click.echo(f"agreement {agreement_id}: carried to dialog {copy.instance_id} as {copy.id}")


@dialog_group.command("compile")
@click.argument("dialog_id", type=int)
@click.option(
    "--assessment",
    "assessments",
    multiple=True,
    metavar="'SCHOOL FORM | TEXT'",
    help="Your observations, assessments and conclusions for one school form (repeatable).",
)
@actor_option
@pass_state
def dialog_compile(
    state: CliState, dialog_id: int, assessments: tuple[str, ...], actor: str
) -> None:
    """Compile the round below into a director-level dialog, per school form."""
    from styrhjul.services.chain import compile_round

    by_form = {}
    for text in assessments:
        form, sep, body = (part.strip() for part in text.partition("|"))
        if not sep or not form or not body:
            raise InputError(
                f"expected 'school form | your assessment', got {text!r}", key="--assessment"
            )
        by_form[form] = body
    compiled = compile_round(state.app(), dialog_id, actor=actor, assessments=by_form)
    forms = ", ".join(o.school_form or "-" for o in compiled)
    click.echo(f"dialog {dialog_id}: compiled {len(compiled)} school forms ({forms})")
