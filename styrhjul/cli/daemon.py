"""``styrhjul daemon``: run the daemon, or ask how the daemons are doing (``daemon status``)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Literal

import click
from rich.table import Table

from styrhjul.cli.base import CliState, json_option, local, pass_state, print_json

if TYPE_CHECKING:
    from styrhjul.services.daemons import DaemonStatus


@click.group("daemon", invoke_without_command=True)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    help="Log lines as JSON objects or as text (default: daemon.log_format).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Catch up on everything due (periodic jobs, a tick, a drain) and exit.",
)
@click.pass_context
def daemon_group(
    ctx: click.Context, log_format: Literal["json", "text"] | None, once: bool
) -> None:
    """Run the daemon: APScheduler drives the year (Europe/Stockholm) until SIGTERM.

    With --now the daemon's clock starts at that moment and runs on from there.
    """
    if ctx.invoked_subcommand is not None:
        return
    from styrhjul.daemon.logs import configure
    from styrhjul.daemon.runtime import serve

    state = ctx.find_object(CliState)
    assert state is not None
    state.flowing = True
    settings = state.settings
    logger = configure(log_format or settings.daemon.log_format, settings.tz)
    code = serve(state.app(), logger, once=once)
    if code:
        sys.exit(code)


@daemon_group.command("status")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 unless a daemon runs, no job's last run failed and no message failed.",
)
@json_option
@pass_state
def daemon_status_command(state: CliState, check: bool, as_json: bool) -> None:
    """Whether daemons run, when each job last ran and what it did, the outbox backlog."""
    from styrhjul.daemon.schedule import timetable
    from styrhjul.services.daemons import daemon_status

    status = daemon_status(state.app())
    problems = status.problems
    if as_json:
        print_json({**asdict(status), "problems": problems})
    else:
        _print(state, status, {spec.name: spec.description for spec in timetable(state.settings)})
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
    if check and problems:
        sys.exit(1)


def _print(state: CliState, status: DaemonStatus, descriptions: dict[str, str]) -> None:
    settings = state.settings
    daemons = Table("daemon", "state", "version", "started", "last heartbeat", "stopped")
    for d in status.daemons:
        stopped = f"{local(d.stopped_at, settings)} ({d.stop_reason})" if d.stopped_at else ""
        daemons.add_row(
            d.worker,
            d.state,
            d.version,
            local(d.started_at, settings),
            local(d.heartbeat_at, settings),
            stopped,
        )
    state.console.print(daemons if status.daemons else "no daemon has run in the last 7 days")
    jobs = Table("job", "when", "last run", "by", "status", "what it did", "runs", "failures")
    known = {j.job: j for j in status.jobs}
    for name, description in descriptions.items():
        j = known.get(name)
        if j is None:
            jobs.add_row(name, description, "never", "", "", "", "0", "0")
            continue
        did = j.last_error if j.last_status == "failed" else j.last_summary
        jobs.add_row(
            name,
            description,
            local(j.last_finished_at or j.last_started_at, settings),
            j.last_worker,
            j.last_status,
            did or "nothing due",
            str(j.runs),
            str(j.failures),
        )
    state.console.print(jobs)
    for p in status.periods:
        state.console.print(
            f"{p.job}: period {p.period} {p.status} (due {local(p.due_at, settings)},"
            f" by {p.worker}){': ' + p.summary if p.summary else ''}"
        )
    o = status.outbox
    behind = f", oldest due since {local(status.oldest_due_at, settings)}" if o["due"] else ""
    state.console.print(
        f"outbox: {o['pending']} pending ({o['due']} due now{behind}), {o['sending']} sending,"
        f" {o['failed']} failed"
    )
