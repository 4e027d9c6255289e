"""``styrhjul workflows ...``: check, compare and list the workflow definitions.

``validate`` and the two-file form of ``diff`` need no database and no configuration, so
an administration can check an edited definition before it is deployed; ``diff`` against
the stored versions and ``list`` read the database. Without files, every command reads
the definitions the application runs on: the shipped ones overlaid by those installed in
``[workflows] folder``
(:func:`~styrhjul.services.definitions.running_definitions`); ``validate`` and
``diff --against`` then read the configuration if there is one, and otherwise the
shipped definitions alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from styrhjul.cli.base import CliState, json_option, local, pass_state, print_json
from styrhjul.config import DEFAULT_CONFIG_NAME, ENV_CONFIG
from styrhjul.errors import DefinitionError, InputError

STORED = "stored"


def installed_folder(state: CliState, environ: Mapping[str, str] | None = None) -> Path | None:
    """``[workflows] folder`` of the configuration, or None when there is none to read.

    A configuration chosen with ``--config`` or ``$STYRHJUL_CONFIG`` must exist; only
    the implicit ``./config.toml`` may be absent (then the shipped definitions alone).
    """
    env = os.environ if environ is None else environ
    if not state.config and not env.get(ENV_CONFIG) and not Path(DEFAULT_CONFIG_NAME).exists():
        return None
    return state.settings.workflows_folder


@click.group("workflows")
def workflows_group() -> None:
    """Workflow definitions: validate, diff, list."""


@workflows_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option
@pass_state
def workflows_validate(state: CliState, paths: tuple[Path, ...], as_json: bool) -> None:
    """Check definition files or folders of them (default: what the application runs on).

    Without PATHS: the shipped definitions overlaid by those installed in [workflows]
    folder of the configuration, if there is one (an installed one must raise
    workflow.version above the shipped one). Every failing file is reported as
    file:line: key: message; exit code 2 if any fails.
    """
    from styrhjul.services.definitions import validate_paths

    report = validate_paths(paths, None if paths else installed_folder(state))
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "definitions": [asdict(d) for d in report.definitions],
                "problems": [asdict(p) for p in report.problems],
            }
        )
    else:
        for d in report.definitions:
            click.echo(
                f"ok {d.file}: {d.name} version {d.version}, {d.kind}, "
                f"{d.states} states, {d.steps} steps"
            )
        for problem in report.problems:
            click.echo(problem.text)
    if not report.ok:
        count = len({p.file for p in report.problems})
        raise DefinitionError(f"{count} definition file(s) have errors; see above")


@workflows_group.command("diff")
@click.argument("args", nargs=-1, metavar="[NAME] | OLD.toml NEW.toml")
@click.option(
    "--against",
    default=STORED,
    show_default=True,
    metavar="stored|FILE",
    help="Compare the files on disk with the latest stored versions, or with FILE.",
)
@json_option
@pass_state
def workflows_diff(state: CliState, args: tuple[str, ...], against: str, as_json: bool) -> None:
    """Show what changed in a workflow definition (exit code 0 with or without changes).

    Without files: the latest version stored in the database (the one the newest
    instances started on) against the running definition (shipped or installed in
    [workflows] folder), for every workflow or NAME.
    With OLD.toml NEW.toml: the two files, no database needed.
    """
    from styrhjul.services.definitions import (
        diff_against_file,
        diff_against_stored,
        diff_files,
    )

    if len(args) > 2:
        raise InputError("give at most NAME, or two files OLD.toml NEW.toml", key="ARGS")
    if len(args) == 2:
        if against != STORED:
            raise InputError("--against does not go with two files", key="--against")
        diffs = [diff_files(Path(args[0]), Path(args[1]))]
    elif against != STORED:
        diffs = [
            diff_against_file(Path(against), args[0] if args else None, installed_folder(state))
        ]
    else:
        diffs = diff_against_stored(state.app(remember=False), args[0] if args else None)
    if as_json:
        print_json([{**asdict(d), "changes": [asdict(c) for c in d.changes]} for d in diffs])
        return
    for d in diffs:
        if d.old_version is None:
            click.echo(f"{d.name}: {d.note}")
            continue
        note = f" ({d.note})" if d.note else ""
        click.echo(f"{d.name}: version {d.old_version} → {d.new_version}{note}")
        for change in d.changes or []:
            click.echo(f"  {change.line}")
        if not d.changes:
            click.echo("  no changes")


@workflows_group.command("list")
@json_option
@pass_state
def workflows_list(state: CliState, as_json: bool) -> None:
    """Every workflow: version on disk, kind, title, and instances per stored version."""
    from styrhjul.services.definitions import list_workflows

    rows = list_workflows(state.app())
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table(
        "workflow", "on disk", "kind", "title", "version", "first used", "running", "done"
    )
    for r in rows:
        on_disk = str(r.version) if r.version is not None else "(removed)"
        uses = r.versions or []
        if not uses:
            table.add_row(r.name, on_disk, r.kind, r.title, "", "", "0", "0")
        for i, use in enumerate(uses):
            head = (r.name, on_disk, r.kind, r.title) if i == 0 else ("", "", "", "")
            table.add_row(
                *head,
                str(use.version),
                local(use.first_used_at, state.settings),
                str(use.running),
                str(use.finished),
            )
    state.console.print(table)
