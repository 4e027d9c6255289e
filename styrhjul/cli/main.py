"""``styrhjul``: the root command, set-up, organisation, the run loop and the outbox.

:func:`main` is the console script. It maps every :class:`StyrhjulError` to a message on
stderr and the exit code of :data:`styrhjul.errors.EXIT_CODES`, in this one place.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from importlib.resources import as_file, files
from pathlib import Path

import click
from rich.table import Table
from rich.tree import Tree
from sqlalchemy.engine import make_url

from styrhjul.cli.assignments import assignments_group
from styrhjul.cli.base import CliState, json_option, local, parse_date, pass_state, print_json
from styrhjul.cli.daemon import daemon_group
from styrhjul.cli.dialogs import dialog_group, plan_command
from styrhjul.cli.digest import digest_group
from styrhjul.cli.feeds import feed_group
from styrhjul.cli.meetings import meetings_group
from styrhjul.cli.processes import processes_group
from styrhjul.cli.scorecard import scorecard_group
from styrhjul.cli.simulate import simulate_command
from styrhjul.cli.steps import history_command, overdue_command, steps_group
from styrhjul.cli.web import account_group, web_command
from styrhjul.cli.workflows import workflows_group
from styrhjul.cli.yearplan import events_command, wheel_command
from styrhjul.errors import StyrhjulError, exit_code


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    envvar="STYRHJUL_CONFIG",
    type=click.Path(dir_okay=False),
    help="Configuration file (default: ./config.toml, or $STYRHJUL_CONFIG).",
)
@click.option(
    "--now",
    metavar="DATETIME",
    help="Act as if it were this moment (local time), for trials and tests.",
)
@click.version_option(package_name="styrhjul")
@click.pass_context
def cli(ctx: click.Context, config: str | None, now: str | None) -> None:
    """Styrhjul: the school administration's governance calendar (årshjul) as rules."""
    state = CliState(config=config, now=now)
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.command("init")
@click.option("--example", is_flag=True, help="Also load the example organisation and scorecard.")
@pass_state
def init_command(state: CliState, example: bool) -> None:
    """Create or upgrade the database; --example loads the example organisation and scorecard."""
    from styrhjul.db.migrate import upgrade
    from styrhjul.services.org_import import import_organisation

    settings = state.settings
    upgrade(settings.database_url)
    click.echo(f"database ready: {make_url(settings.database_url).render_as_string()}")
    if example:
        with as_file(files("styrhjul.examples") / "organisation.toml") as path:
            summary = import_organisation(state.app(), Path(path))
        click.echo(
            f"example organisation: {summary.units_added} units, {summary.people_added} people,"
            f" {summary.roles_added} role assignments added"
        )
        from styrhjul.services.scorecard_import import import_scorecard

        with as_file(files("styrhjul.examples") / "scorecard.csv") as path:
            loaded = import_scorecard(state.app(), Path(path))
        click.echo(
            f"example scorecard: {loaded.measures_added} measures,"
            f" {loaded.outcomes_added} outcomes added"
        )


@cli.group("db")
def db_group() -> None:
    """Database migrations, backup and restore."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_state
def db_upgrade(state: CliState, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from styrhjul.db.migrate import current_revision, upgrade

    upgrade(state.settings.database_url, revision)
    click.echo(f"database at revision {current_revision(state.settings.database_url)}")


@db_group.command("current")
@pass_state
def db_current(state: CliState) -> None:
    """Show the database's revision and the newest one this version knows."""
    from styrhjul.db.migrate import current_revision, head_revision

    click.echo(f"current: {current_revision(state.settings.database_url) or 'empty'}")
    click.echo(f"head:    {head_revision()}")


@db_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@pass_state
def db_backup(state: CliState, path: Path, force: bool) -> None:
    """Copy the SQLite database to PATH, safely while the daemon runs (PostgreSQL: pg_dump)."""
    from styrhjul.services.backup import backup_sqlite

    report = backup_sqlite(state.settings.database_url, path, force=force)
    click.echo(
        f"backed up {report.database} to {report.backup}"
        f" ({report.bytes} bytes, revision {report.revision})"
    )


@db_group.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an earlier restore's *.before-restore.")
@pass_state
def db_restore(state: CliState, path: Path, force: bool) -> None:
    """Replace the SQLite database with the backup PATH; the old one is kept beside it.

    Refused while a daemon runs on the database: stop it first.
    """
    from styrhjul.services.backup import restore_sqlite

    report = restore_sqlite(state.settings.database_url, path, force=force)
    click.echo(f"restored {report.database} from {report.backup} (revision {report.revision})")
    if report.kept is not None:
        click.echo(f"the database as it was: {report.kept}")
    if report.needs_upgrade:
        click.echo(f"the backup is older than this version ({report.head}): styrhjul db upgrade")


@cli.group("org", invoke_without_command=True)
@click.option("--on", "on", metavar="DATE", help="Show role holders on this date.")
@json_option
@click.pass_context
def org_group(ctx: click.Context, on: str | None, as_json: bool) -> None:
    """Print the organisation tree (styrkedja) with role holders."""
    if ctx.invoked_subcommand is not None:
        return
    from styrhjul.services.org import UnitNode, organisation_tree

    state = ctx.find_object(CliState)
    assert state is not None
    roots = organisation_tree(state.app(), parse_date(on, "--on") if on else None)
    if as_json:
        print_json([asdict(r) for r in roots])
        return
    if not roots:
        click.echo(
            "no organisation yet: run 'styrhjul init --example' or 'styrhjul org import FILE'"
        )
        return

    def add(tree: Tree, node: UnitNode) -> None:
        label = f"[bold]{node.name}[/] [dim]{node.code} · {node.kind}"
        label += f" · {node.school_form}[/]" if node.school_form else "[/]"
        branch = tree.add(label)
        for role, people in sorted(node.roles.items()):
            for person in people:
                branch.add(f"[cyan]{role}[/]: {person}")
        for child in node.children:
            add(branch, child)

    for root in roots:
        tree = Tree("[bold]Organisation[/]")
        add(tree, root)
        state.console.print(tree)


@org_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def org_import(state: CliState, path: Path) -> None:
    """Add or update units, people and roles from an organisation file."""
    from styrhjul.services.org_import import import_organisation

    summary = import_organisation(state.app(), path)
    click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in asdict(summary).items()))


@org_group.command("who")
@click.argument("role")
@click.argument("unit")
@click.option("--on", "on", metavar="DATE", help="Date (default: today).")
@pass_state
def org_who(state: CliState, role: str, unit: str, on: str | None) -> None:
    """Who holds ROLE in UNIT or the nearest unit above it (e.g. 'area_head vastra-skolan')."""
    from styrhjul.services.org import role_holder

    click.echo(role_holder(state.app(), role, unit, parse_date(on, "--on") if on else None))


@org_group.command("superior")
@click.argument("email")
@click.option("--on", "on", metavar="DATE", help="Date (default: today).")
@pass_state
def org_superior(state: CliState, email: str, on: str | None) -> None:
    """The superior of the person with EMAIL."""
    from styrhjul.services.org import superior_of

    click.echo(superior_of(state.app(), email, parse_date(on, "--on") if on else None))


@cli.command("run")
@pass_state
def run_command(state: CliState) -> None:
    """Do what is due now: open preparations, remind, escalate, then send the outbox."""
    from styrhjul.services.runner import run_due

    report = run_due(state.app())
    notices = report.notices
    click.echo(
        f"preparations opened: {len(report.opened)}; reminders: {len(notices.reminded)},"
        f" overdue notices: {len(notices.overdue)}, escalations: {len(notices.escalated)};"
        f" recurring steps raised: {len(report.recurring)};"
        f" messages sent: {report.dispatch.sent},"
        f" to retry: {report.dispatch.retried}, failed: {report.dispatch.failed}"
    )
    if notices.unassigned:
        steps = ", ".join(str(i) for i in notices.unassigned)
        click.echo(f"steps due a reminder or notice with no assignee: {steps}", err=True)
    for step_id, level in notices.unreachable:
        click.echo(f"step {step_id}: nobody above to escalate to at level {level}", err=True)


@cli.group("outbox")
def outbox_group() -> None:
    """The outgoing message queue."""


@outbox_group.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]))
@json_option
@pass_state
def outbox_list(state: CliState, status: str | None, as_json: bool) -> None:
    """List messages in the outbox."""
    from styrhjul.services.outbox import list_messages

    rows = list_messages(state.app(), status)
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("id", "status", "kind", "to", "subject", "tries", "next/sent", "last error")
    for r in rows:
        when = r.sent_at if r.status == "sent" else r.next_attempt_at
        table.add_row(
            str(r.id),
            r.status,
            r.kind,
            r.recipient,
            r.subject,
            str(r.attempts),
            local(when, state.settings),
            r.last_error or "",
        )
    state.console.print(table)


@outbox_group.command("send")
@pass_state
def outbox_send(state: CliState) -> None:
    """Send every message that is due."""
    from styrhjul.services.outbox import dispatch

    report = dispatch(state.app())
    click.echo(f"sent: {report.sent}, to retry: {report.retried}, failed: {report.failed}")


@outbox_group.command("retry")
@click.argument("message_id", type=int)
@pass_state
def outbox_retry(state: CliState, message_id: int) -> None:
    """Queue a failed message again."""
    from styrhjul.services.outbox import retry

    retry(state.app(), message_id)
    click.echo(f"message {message_id} queued again")


cli.add_command(plan_command)
cli.add_command(dialog_group)
cli.add_command(processes_group)
cli.add_command(meetings_group)
cli.add_command(assignments_group)
cli.add_command(overdue_command)
cli.add_command(steps_group)
cli.add_command(history_command)
cli.add_command(scorecard_group)
cli.add_command(workflows_group)
cli.add_command(simulate_command)
cli.add_command(events_command)
cli.add_command(wheel_command)
cli.add_command(feed_group)
cli.add_command(digest_group)
cli.add_command(daemon_group)
cli.add_command(web_command)
cli.add_command(account_group)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; StyrhjulErrors become one line on stderr and a meaningful exit code."""
    try:
        cli.main(args=argv, prog_name="styrhjul", standalone_mode=False)
    except StyrhjulError as exc:
        click.echo(f"error: {exc}", err=True)
        return exit_code(exc)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
