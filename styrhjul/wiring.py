"""The one composition root: :func:`build` turns settings into a ready application object.

The CLI, the daemon and the web app all call it; tests call it with a :class:`FixedClock`
and their own transport. Nothing is opened at import time.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from styrhjul.calendar import WorkingCalendar
from styrhjul.clock import Clock, SystemClock
from styrhjul.config import Settings
from styrhjul.db.database import Database
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import ConfigError
from styrhjul.notifications.messages import Sender
from styrhjul.notifications.oauth2 import ClientCredentials
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import (
    ConsoleTransport,
    MaildirTransport,
    SmtpTransport,
    Transport,
)
from styrhjul.services.context import App
from styrhjul.services.definitions import older_machine, running_definitions


def build_oauth2(settings: Settings, clock: Clock) -> ClientCredentials:
    """The OAuth2 client of ``[mail.oauth2]``; its secret comes from the environment."""
    oauth2 = settings.mail.oauth2
    secret = settings.secrets.get("STYRHJUL_OAUTH2_CLIENT_SECRET", "")
    missing = [
        name
        for name, value in (
            ("mail.oauth2.token_url", oauth2.token_url),
            ("mail.oauth2.client_id", oauth2.client_id),
            ("$STYRHJUL_OAUTH2_CLIENT_SECRET", secret),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"OAuth2 needs {', '.join(missing)}", file=settings.path, key="mail.oauth2"
        )
    return ClientCredentials(
        token_url=oauth2.token_url,
        client_id=oauth2.client_id,
        client_secret=secret,
        scope=oauth2.scope,
        now=clock.now,
    )


def build_transport(settings: Settings, clock: Clock | None = None) -> Transport:
    """The transport ``[mail] transport`` names; credentials come from the environment."""
    mail = settings.mail
    clock = clock or SystemClock(settings.tz)
    if mail.transport == "maildir":
        return MaildirTransport(settings.maildir_path)
    if mail.transport == "smtp":
        return SmtpTransport(
            host=mail.smtp.host,
            port=mail.smtp.port,
            security=mail.smtp.security,
            username=settings.secrets.get("STYRHJUL_SMTP_USERNAME"),
            password=settings.secrets.get("STYRHJUL_SMTP_PASSWORD"),
            timeout=mail.smtp.timeout_seconds,
            oauth2=build_oauth2(settings, clock) if mail.smtp.auth == "xoauth2" else None,
        )
    if mail.transport == "exchange":
        from styrhjul.notifications.exchange import ExchangeTransport  # noqa: PLC0415 - heavy

        exchange = mail.exchange
        if not exchange.service_endpoint:
            raise ConfigError(
                "the exchange transport needs its EWS URL",
                file=settings.path,
                key="mail.exchange.service_endpoint",
            )
        return ExchangeTransport(
            endpoint=exchange.service_endpoint,
            auth=exchange.auth,
            username=settings.secrets.get("STYRHJUL_EXCHANGE_USERNAME"),
            password=settings.secrets.get("STYRHJUL_EXCHANGE_PASSWORD"),
            oauth2=build_oauth2(settings, clock) if exchange.auth == "oauth2" else None,
            sender=mail.from_address,
            verify_tls=exchange.verify_tls,
            meetings=exchange.meetings,
            timeout=exchange.timeout_seconds,
        )
    return ConsoleTransport()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: Transport | None = None,
    closed_days: dict[date, str] | None = None,
    workflows_dir: Path | None = None,
) -> App:
    """Assemble the application: database, clock, calendar, machines, renderer, transport.

    The machines run the shipped definitions overlaid by those installed in
    ``[workflows] folder`` (:func:`~styrhjul.services.definitions.running_definitions`);
    ``workflows_dir`` (tests) runs exactly the definitions of that folder instead.
    """
    definitions = (
        running_definitions(None, shipped=workflows_dir)
        if workflows_dir is not None
        else running_definitions(settings.workflows_folder)
    )
    machines = {d.name: WorkflowMachine(d) for d in definitions}
    return App(
        settings=settings,
        clock=clock or SystemClock(settings.tz),
        db=Database(settings.database_url, echo=settings.database.echo),
        transport=transport or build_transport(settings, clock),
        calendar=WorkingCalendar(closed_days),
        renderer=Renderer(),
        sender=Sender(settings.mail.from_address, settings.mail.from_name),
        machines=machines,
        older=older_machine,
    )
