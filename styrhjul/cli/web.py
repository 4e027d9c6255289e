"""``styrhjul web`` serves the pages and the API; ``styrhjul account`` manages logins."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click
from rich.table import Table

from styrhjul.cli.base import CliState, json_option, local, pass_state, print_json


@click.command("web")
@click.option("--host", help="Address to listen on (default: web.host).")
@click.option("--port", type=int, help="Port to listen on (default: web.port).")
@pass_state
def web_command(state: CliState, host: str | None, port: int | None) -> None:
    """Serve the web app (Swedish pages and the JSON API) until SIGTERM or Ctrl-C."""
    import uvicorn

    from styrhjul.web.app import create_web_app

    state.flowing = True
    settings = state.settings.web
    uvicorn.run(
        create_web_app(state.app()),
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )


@click.group("account")
def account_group() -> None:
    """Who may log in to the web app (people of the organisation)."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@account_group.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="May manage accounts, workflows and people.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_state
def account_create(state: CliState, email: str, admin: bool, password_stdin: bool) -> None:
    """Let the person with EMAIL log in with a password (asked for, or read from stdin)."""
    from styrhjul.services.accounts import create_account

    password = _password(password_stdin)
    create_account(state.app(), email, password=password, admin=admin)
    click.echo(f"account created for {email}{' (administrator)' if admin else ''}")


@account_group.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_state
def account_set_password(state: CliState, email: str, password_stdin: bool) -> None:
    """Set a new password; the account's sessions end."""
    from styrhjul.services.accounts import set_password

    set_password(state.app(), email, _password(password_stdin))
    click.echo(f"password set for {email}; its sessions have ended")


@account_group.command("disable")
@click.argument("email")
@pass_state
def account_disable(state: CliState, email: str) -> None:
    """Stop EMAIL from logging in; its sessions end at once."""
    from styrhjul.services.accounts import set_disabled

    set_disabled(state.app(), email, disabled=True)
    click.echo(f"account of {email} disabled")


@account_group.command("enable")
@click.argument("email")
@pass_state
def account_enable(state: CliState, email: str) -> None:
    """Let a disabled account log in again."""
    from styrhjul.services.accounts import set_disabled

    set_disabled(state.app(), email, disabled=False)
    click.echo(f"account of {email} enabled")


@account_group.command("list")
@json_option
@pass_state
def account_list(state: CliState, as_json: bool) -> None:
    """Every account, with its last login."""
    from styrhjul.services.accounts import list_accounts

    rows = list_accounts(state.app())
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    table = Table("id", "e-mail", "title", "admin", "password", "last login", "state")
    for r in rows:
        table.add_row(
            str(r.id),
            r.email,
            r.title,
            "yes" if r.admin else "",
            "yes" if r.password else "not set",
            local(r.last_login_at, state.settings) if r.last_login_at else "never",
            "disabled" if r.disabled_at else "",
        )
    state.console.print(table)
