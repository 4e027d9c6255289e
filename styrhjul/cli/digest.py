"""``styrhjul digest send``: the director's weekly digest of overdue steps.

The digest is written to the outbox, once per director and ISO week; ``styrhjul run`` or
``styrhjul outbox send`` sends it. A scheduler calls the same service once a week.
"""

from __future__ import annotations

import click

from styrhjul.cli.base import CliState, parse_date, pass_state


@click.group("digest")
def digest_group() -> None:
    """The director's weekly digest of overdue steps."""


@digest_group.command("send")
@click.option(
    "--week",
    metavar="DATE",
    help="Any day of the ISO week the digest is for (default: this week).",
)
@pass_state
def digest_send(state: CliState, week: str | None) -> None:
    """Queue this week's digest to every director (once a week: a second run queues nothing)."""
    from styrhjul.services.digest import send_weekly_digest

    count = send_weekly_digest(state.app(), parse_date(week, "--week") if week else None)
    click.echo(f"digests queued: {count} (sent by 'styrhjul run' or 'styrhjul outbox send')")
