"""``styrhjul feed``: a person's or a unit's calendar feed (.ics), and the feed tokens."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from styrhjul.cli.base import (
    CliState,
    json_option,
    local,
    pass_state,
    print_json,
    write_atomically,
)
from styrhjul.errors import InputError


@click.group("feed", invoke_without_command=True)
@click.option("--person", metavar="EMAIL", help="The feed of this person.")
@click.option("--unit", metavar="CODE", help="The feed of this unit (and the units below it).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the .ics here (atomically) instead of to standard output.",
)
@click.pass_context
def feed_group(ctx: click.Context, person: str | None, unit: str | None, out: Path | None) -> None:
    """Print the calendar feed (.ics) of a person or a unit: --person EMAIL or --unit CODE."""
    if ctx.invoked_subcommand is not None:
        return
    from styrhjul.services.feeds import person_feed, unit_feed

    if (person is None) == (unit is None):
        raise InputError("give --person EMAIL or --unit CODE (one of them)", key="feed")
    state = ctx.find_object(CliState)
    assert state is not None
    data = person_feed(state.app(), person) if person else unit_feed(state.app(), unit or "")
    if out is None:
        click.echo(data, nl=False)
        return
    write_atomically(out, data)
    click.echo(f"wrote {out} ({data.count(b'BEGIN:VEVENT')} events, {len(data)} bytes)", err=True)


@feed_group.group("token")
def token_group() -> None:
    """Tokens that give a calendar program a feed's address (/kalender/TOKEN.ics)."""


@token_group.command("create")
@click.option("--person", metavar="EMAIL", help="A token for this person's feed.")
@click.option("--unit", metavar="CODE", help="A token for this unit's feed.")
@click.option("--label", default="", help="What the token is for (e.g. 'Outlook, Anna').")
@pass_state
def token_create(state: CliState, person: str | None, unit: str | None, label: str) -> None:
    """Make a token; it is shown this once and only its digest is kept."""
    from styrhjul.services.feed_tokens import create_token

    if (person is None) == (unit is None):
        raise InputError("give --person EMAIL or --unit CODE (one of them)", key="token create")
    created = create_token(state.app(), person=person, unit=unit, label=label)
    row = created.row
    click.echo(created.token)
    click.echo(
        f"token {row.id} for {row.owner_kind} {row.owner}: the feed's address is"
        f" {created.address}; this is the only time the token is shown",
        err=True,
    )


@token_group.command("list")
@json_option
@pass_state
def token_list(state: CliState, as_json: bool) -> None:
    """List the feed tokens (never the tokens themselves)."""
    from styrhjul.services.feed_tokens import list_tokens

    rows = list_tokens(state.app())
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    if not rows:
        click.echo("no feed tokens yet (make one with 'styrhjul feed token create')")
        return
    table = Table("id", "for", "label", "created", "last used", "revoked")
    for r in rows:
        table.add_row(
            str(r.id),
            f"{r.owner_kind} {r.owner}",
            r.label,
            local(r.created_at, state.settings),
            local(r.last_used_at, state.settings),
            local(r.revoked_at, state.settings),
        )
    state.console.print(table)


@token_group.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@pass_state
def token_revoke(state: CliState, token_id: int) -> None:
    """Refuse token ID from now on."""
    from styrhjul.services.feed_tokens import revoke_token

    row = revoke_token(state.app(), token_id)
    click.echo(f"token {row.id} for {row.owner_kind} {row.owner} revoked")
