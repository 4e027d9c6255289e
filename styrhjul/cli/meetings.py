"""``styrhjul meetings ...``: meetings of the management and steering groups (LG, SG).

Thin commands: each parses its options, calls one service, and prints the result. The
minutes of a held meeting come from a TOML file (``hold --file``), described in
:mod:`styrhjul.services.meeting_minutes` and in the README.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time
from pathlib import Path

import click
from rich.table import Table

from styrhjul.cli.base import (
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
from styrhjul.vocabulary import AGENDA_KINDS


@click.group("meetings")
def meetings_group() -> None:
    """Meetings of LG and SG: schedule, agenda, hold, approve, carry over, close."""


def _until(starts_at: datetime, until: str | None) -> datetime | None:
    if until is None:
        return None
    try:
        end = time.fromisoformat(until)
    except ValueError:
        raise InputError(
            f"expected a time of day like 16:00, got {until!r}", key="--until"
        ) from None
    return datetime.combine(starts_at.date(), end, tzinfo=starts_at.tzinfo)


@meetings_group.command("schedule")
@click.argument("group")
@click.option("--at", "at", required=True, metavar="DATETIME", help="Start, local time.")
@click.option("--until", metavar="HH:MM", help="End on the same day (default: three hours).")
@click.option("--place", required=True, help="Where: a room, or Teams.")
@actor_option
@json_option
@pass_state
def meetings_schedule(
    state: CliState, group: str, at: str, until: str | None, place: str, actor: str, as_json: bool
) -> None:
    """Schedule a meeting of GROUP (lg, sg) on a working day; resumed items land on its agenda."""
    from styrhjul.services.meetings import schedule_meeting

    starts = parse_datetime(at, "--at", state.settings)
    result = schedule_meeting(
        state.app(), group, starts, actor=actor, place=place, ends_at=_until(starts, until)
    )
    if as_json:
        print_json(asdict(result))
        return
    click.echo(f"meeting {result.meeting_id}: {result.title}, {len(result.attendees)} called")
    for title in result.resumed_items:
        click.echo(f"  on the agenda: {title}")
    for action in result.open_actions:
        click.echo(
            f"  open action {action.id} (meeting {action.meeting_id}): {action.text}"
            f" [{action.owner}, {action.due_on}]; carry it with: styrhjul meetings carry"
            f" {action.id}"
        )


@meetings_group.command("list")
@click.option("--group", help="Only meetings of this group (code, e.g. lg).")
@click.option("--from", "from_day", metavar="DATE", help="From this day (included).")
@click.option("--to", "to_day", metavar="DATE", help="To this day (included).")
@click.option("--state", "state_name", help="Only meetings in this state.")
@json_option
@pass_state
def meetings_list(
    state: CliState,
    group: str | None,
    from_day: str | None,
    to_day: str | None,
    state_name: str | None,
    as_json: bool,
) -> None:
    """List meetings in date order."""
    from styrhjul.services.meeting_views import list_meetings

    rows = list_meetings(
        state.app(),
        group=group,
        from_day=parse_date(from_day, "--from") if from_day else None,
        to_day=parse_date(to_day, "--to") if to_day else None,
        state=state_name,
    )
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("id", "when", "group", "place", "state", "items", "open actions")
    for r in rows:
        table.add_row(
            str(r.id),
            local(r.starts_at, state.settings),
            r.group,
            r.location,
            r.state_title,
            str(r.agenda_items),
            str(r.open_actions),
        )
    state.console.print(table)


@meetings_group.command("show")
@click.argument("meeting_id", type=int)
@json_option
@pass_state
def meetings_show(state: CliState, meeting_id: int, as_json: bool) -> None:
    """Show a meeting: agenda, attendance, actions, steps and history."""
    from styrhjul.services.meeting_views import meeting_detail

    detail = meeting_detail(state.app(), meeting_id)
    if as_json:
        print_json(asdict(detail))
        return
    s, m, out = state.settings, detail.meeting, state.console
    out.print(f"[bold]meeting {m.id}[/]: {m.title} ({m.group})")
    out.print(f"state: {m.state} ({m.state_title}); next: {', '.join(detail.allowed) or '-'}")
    out.print(f"when: {local(m.starts_at, s)}-{local(m.ends_at, s)[-5:]}, {m.location}")
    out.print(f"chair: {m.chair or '-'}; secretary: {m.secretary or '-'}; version {m.version}")
    agenda = Table("item", "#", "kind", "title", "presenter", "record", title="agenda")
    for i in detail.agenda:
        record = [text for text in (i.notes, i.decision and f"Beslut: {i.decision}") if text]
        if i.carried_from_meeting:
            record.append(f"från möte {i.carried_from_meeting}")
        if i.take_up_again:
            record.append(f"tas upp igen (möte {i.carried_to_meeting or 'ej planerat'})")
        agenda.add_row(
            str(i.id), str(i.position), i.kind_title, i.title, i.presenter or "", "; ".join(record)
        )
    out.print(agenda)
    if detail.minutes:
        out.print(f"[bold]minutes[/]: {detail.minutes}")
    present = {True: "närvarande", False: "frånvarande", None: "kallad"}
    attendance = Table("person", "title", "attendance", title="attendance")
    for person in detail.attendance:
        attendance.add_row(person.email, person.title, present[person.present])
    out.print(attendance)
    for title, actions in (("actions", detail.actions), ("open actions of earlier meetings",
                                                         detail.earlier_open_actions)):  # fmt: skip
        if not actions:
            continue
        table = Table("id", "meeting", "action", "owner", "due", "status", title=title)
        for a in actions:
            status = local(a.done_at, s) or (
                f"förd till möte {a.carried_to_meeting}" if a.carried_to_meeting else "öppen"
            )
            table.add_row(str(a.id), str(a.meeting_id), a.text, a.owner, str(a.due_on), status)
        out.print(table)
    out.print(checklist_table(detail.checklist, s))
    out.print(history_table(detail.history, s))


@meetings_group.command("agenda-add")
@click.argument("meeting_id", type=int)
@click.option("--kind", required=True, type=click.Choice(AGENDA_KINDS))
@click.option("--title", required=True)
@click.option("--presenter", metavar="EMAIL", help="Who presents (required for information).")
@click.option("--position", type=int, help="Place on the agenda (default: last).")
@actor_option
@pass_state
def meetings_agenda_add(
    state: CliState,
    meeting_id: int,
    kind: str,
    title: str,
    presenter: str | None,
    position: int | None,
    actor: str,
) -> None:
    """Add an item to a meeting's agenda (before it is held)."""
    from styrhjul.services.meeting_agenda import add_agenda_item

    item = add_agenda_item(
        state.app(),
        meeting_id,
        actor=actor,
        kind=kind,
        title=title,
        presenter=presenter,
        position=position,
    )
    click.echo(f"agenda item {item} added to meeting {meeting_id}")


@meetings_group.command("agenda-remove")
@click.argument("item_id", type=int)
@actor_option
@pass_state
def meetings_agenda_remove(state: CliState, item_id: int, actor: str) -> None:
    """Remove an agenda item; a resumed one moves on to the group's next meeting."""
    from styrhjul.services.meeting_agenda import remove_agenda_item

    moved_to = remove_agenda_item(state.app(), item_id, actor=actor)
    suffix = f"; it continues on meeting {moved_to.id}" if moved_to else ""
    click.echo(f"agenda item {item_id} removed{suffix}")


@meetings_group.command("agenda-move")
@click.argument("item_id", type=int)
@click.argument("position", type=int)
@actor_option
@pass_state
def meetings_agenda_move(state: CliState, item_id: int, position: int, actor: str) -> None:
    """Move an agenda item to POSITION (1 is first)."""
    from styrhjul.services.meeting_agenda import move_agenda_item

    move_agenda_item(state.app(), item_id, position, actor=actor)
    click.echo(f"agenda item {item_id} moved to position {position}")


@meetings_group.command("send-agenda")
@click.argument("meeting_id", type=int)
@actor_option
@pass_state
def meetings_send_agenda(state: CliState, meeting_id: int, actor: str) -> None:
    """Send the agenda to everyone called (a calendar invitation per person)."""
    from styrhjul.services.meetings import send_agenda

    queued = send_agenda(state.app(), meeting_id, actor=actor)
    click.echo(f"meeting {meeting_id}: agenda sent ({queued} messages queued)")


@meetings_group.command("hold")
@click.argument("meeting_id", type=int)
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The minutes (TOML): absent, guests, [[item]] records, [[action]]s.",
)
@click.option("--version", "expected_version", type=int, help="Refuse if it changed since.")
@actor_option
@json_option
@pass_state
def meetings_hold(
    state: CliState,
    meeting_id: int,
    path: Path,
    expected_version: int | None,
    actor: str,
    as_json: bool,
) -> None:
    """Record the meeting as held, from a minutes file."""
    from styrhjul.services.meeting_minutes import hold_meeting_from_file

    held = hold_meeting_from_file(
        state.app(), meeting_id, path, actor=actor, expected_version=expected_version
    )
    if as_json:
        print_json(asdict(held))
        return
    click.echo(
        f"meeting {meeting_id}: {held.state}; {held.present} present, {held.absent} absent,"
        f" {len(held.actions)} actions"
    )
    for title in held.take_up_again:
        where = f"meeting {held.resumed_at}" if held.resumed_at else "the next meeting scheduled"
        click.echo(f"  taken up again at {where}: {title}")


@meetings_group.command("approve")
@click.argument("meeting_id", type=int)
@actor_option
@pass_state
def meetings_approve(state: CliState, meeting_id: int, actor: str) -> None:
    """Approve the minutes (justering; the chair)."""
    from styrhjul.services.meetings import approve_minutes

    click.echo(f"meeting {meeting_id}: {approve_minutes(state.app(), meeting_id, actor=actor)}")


@meetings_group.command("carry")
@click.argument("action_id", type=int)
@click.option("--to", "to_meeting", type=int, help="The meeting (default: the group's next).")
@click.option("--due", metavar="DATE", help="A new due date (default: unchanged).")
@actor_option
@pass_state
def meetings_carry(
    state: CliState, action_id: int, to_meeting: int | None, due: str | None, actor: str
) -> None:
    """Carry an open action over to a later meeting of the group."""
    from styrhjul.services.meeting_minutes import carry_action

    carried = carry_action(
        state.app(),
        action_id,
        actor=actor,
        to_meeting=to_meeting,
        due_on=parse_date(due, "--due") if due else None,
    )
    click.echo(
        f"action {action_id} carried from meeting {carried.from_meeting} to meeting"
        f" {carried.to_meeting} (action {carried.new_action_id})"
    )


@meetings_group.command("action-done")
@click.argument("action_id", type=int)
@actor_option
@pass_state
def meetings_action_done(state: CliState, action_id: int, actor: str) -> None:
    """Mark an action done (its owner, the secretary or the director)."""
    from styrhjul.services.checklist import complete_agreement

    action = complete_agreement(state.app(), action_id, actor=actor)
    click.echo(f"action {action_id} of meeting {action.instance_id}: done")


@meetings_group.command("close")
@click.argument("meeting_id", type=int)
@click.option("--reason", default="", help="A note for the history.")
@actor_option
@pass_state
def meetings_close(state: CliState, meeting_id: int, reason: str, actor: str) -> None:
    """Close the meeting (every action done or carried over)."""
    from styrhjul.services.meetings import close_meeting

    new_state = close_meeting(state.app(), meeting_id, actor=actor, reason=reason)
    click.echo(f"meeting {meeting_id}: {new_state}")


@meetings_group.command("cancel")
@click.argument("meeting_id", type=int)
@click.option("--reason", required=True, help="Why (sent to those invited, in Swedish).")
@actor_option
@pass_state
def meetings_cancel(state: CliState, meeting_id: int, reason: str, actor: str) -> None:
    """Cancel the meeting; its resumed items move on, those invited get a cancellation."""
    from styrhjul.services.meetings import cancel_meeting

    new_state = cancel_meeting(state.app(), meeting_id, actor=actor, reason=reason)
    click.echo(f"meeting {meeting_id}: {new_state}")


@meetings_group.command("postpone")
@click.argument("meeting_id", type=int)
@click.option("--to", "to", required=True, metavar="DATETIME", help="New start, local time.")
@click.option("--reason", required=True, help="Why (sent to those invited, in Swedish).")
@actor_option
@pass_state
def meetings_postpone(state: CliState, meeting_id: int, to: str, reason: str, actor: str) -> None:
    """Move the meeting to another working day or time."""
    from styrhjul.services.meetings import postpone_meeting

    starts = parse_datetime(to, "--to", state.settings)
    meeting = postpone_meeting(
        state.app(), meeting_id, actor=actor, starts_at=starts, reason=reason
    )
    click.echo(f"meeting {meeting_id}: moved to {local(meeting.starts_at, state.settings)}")
