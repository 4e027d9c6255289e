"""What every command shares: the lazily built application, output helpers, the actor."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from styrhjul.clock import Clock, FixedClock, ShiftedClock
from styrhjul.config import Settings, load_settings
from styrhjul.errors import InputError
from styrhjul.services.context import App

ENV_ACTOR = "STYRHJUL_ACTOR"


@dataclass
class CliState:
    """Global options, and the application once a command asks for it."""

    config: str | None
    now: str | None
    console: Console = field(default_factory=Console)
    _settings: Settings | None = None
    _app: App | None = None
    _remembered: bool = False
    flowing: bool = False
    """``--now`` starts a running clock instead of a standing one (the daemon)."""

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def clock(self, *, flowing: bool = False) -> Clock | None:
        """The clock of ``--now``: standing still, or (``flowing``, for the daemon) running."""
        if not self.now:
            return None
        at = parse_datetime(self.now, "--now", self.settings)
        if flowing:
            return ShiftedClock(at, self.settings.tz)
        return FixedClock(at, self.settings.tz)

    def app(self, *, remember: bool = True) -> App:
        """The application; on first use the loaded definition versions are stored.

        ``remember=False`` is for ``workflows diff``, which compares the stored versions
        with the files on disk and must not store (or refuse) the files first.
        """
        if self._app is None:
            from styrhjul.db.migrate import require_current
            from styrhjul.wiring import build

            require_current(self.settings.database_url)
            self._app = build(self.settings, clock=self.clock(flowing=self.flowing))
        if remember and not self._remembered:
            from styrhjul.services.definitions import remember_definitions

            remember_definitions(self._app)
            self._remembered = True
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_state = click.make_pass_decorator(CliState)


def parse_datetime(text: str, option: str, settings: Settings) -> datetime:
    """ISO date-time; without an offset it is local time in the configured zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"expected a date and time like 2026-10-12T13:00 or '2026-10-12 13:00', got {text!r}",
            key=option,
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=settings.tz)


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"expected a date like 2026-10-12, got {text!r}", key=option) from None


def actor_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--as EMAIL``: who does this; recorded in the audit trail and checked against roles."""
    return click.option(
        "--as",
        "actor",
        envvar=ENV_ACTOR,
        required=True,
        help=f"E-mail of the person acting (or ${ENV_ACTOR}).",
    )(function)


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        function
    )


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def local(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return ""
    return moment.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")


def checklist_table(steps: Iterable[Any], settings: Settings, title: str = "checklist") -> Table:
    """The steps of any instance as every ``show`` command prints them."""
    table = Table("step", "title", "assignee", "due", "done", title=title)
    for step in steps:
        table.add_row(
            str(step.id),
            step.title + ("" if getattr(step, "required", True) else " (frivillig)"),
            step.assignee or getattr(step, "assignee_role", "") or "",
            local(step.due_at, settings),
            local(step.done_at, settings),
        )
    return table


def history_table(entries: Iterable[Any], settings: Settings) -> Table:
    """An audit trail as every ``show`` command and ``history`` print it."""
    table = Table("at", "actor", "trigger", "from", "to", "reason", title="history")
    for e in entries:
        table.add_row(
            local(e.at, settings),
            e.actor,
            e.trigger,
            e.from_state or "",
            e.to_state or "",
            e.reason,
        )
    return table


def write_atomically(out: Path, data: bytes) -> None:
    """Write ``out`` whole or not at all (``--out`` of a feed or a picture).

    A subscriber or a web page never reads half a file, and a failed write leaves the
    old file as it was.
    """
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist", key="--out")
    handle, partial = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(partial, 0o644)  # mkstemp makes 0600; the file is for others to read
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
