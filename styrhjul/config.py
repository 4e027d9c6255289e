"""Configuration: one frozen, typed object, validated strictly when it is loaded.

Where it comes from, first match wins: ``--config PATH``, the ``STYRHJUL_CONFIG`` environment
variable, ``config.toml`` in the current folder. ``STYRHJUL_DATABASE_URL`` overrides
``[database] url``. Secrets never live in the file: they come from environment variables
(``STYRHJUL_SMTP_USERNAME`` / ``STYRHJUL_SMTP_PASSWORD``, ``STYRHJUL_EXCHANGE_USERNAME`` /
``STYRHJUL_EXCHANGE_PASSWORD``, ``STYRHJUL_OAUTH2_CLIENT_SECRET``,
``STYRHJUL_OIDC_CLIENT_SECRET``). Relative paths (the data
folder, the Maildir, a SQLite file, the installed workflow definitions) are relative to
the folder that holds the configuration file, so the program behaves the same from any
working directory.

An unknown key, a wrong type or a bad value raises :class:`~styrhjul.errors.ConfigError`
naming the file, the line and the key, before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator

from styrhjul.errors import ConfigError
from styrhjul.validation import EMAIL_PATTERN, Source, StrictModel, read_toml, validate

ENV_CONFIG = "STYRHJUL_CONFIG"
ENV_DATABASE_URL = "STYRHJUL_DATABASE_URL"
ENV_OIDC_CLIENT_SECRET = "STYRHJUL_OIDC_CLIENT_SECRET"  # noqa: S105 - the name of a variable
DEFAULT_CONFIG_NAME = "config.toml"


SECRET_PREFIXES = ("STYRHJUL_SMTP_", "STYRHJUL_EXCHANGE_", "STYRHJUL_OAUTH2_", "STYRHJUL_OIDC_")
"""Environment variables read as secrets: never from the file."""


class _Section(StrictModel):
    """A table of the configuration file."""


class GeneralSettings(_Section):
    """``[general]``: the zone the calendar runs in.

    Only Europe/Stockholm: the working-day calendar is Sweden's and messages are written in
    Swedish time, so another zone would plan and announce meetings an hour or more apart.
    """

    timezone: Literal["Europe/Stockholm"] = "Europe/Stockholm"


class DatabaseSettings(_Section):
    """``[database]``: a SQLAlchemy URL; SQLite paths are relative to the config file."""

    url: str = "sqlite:///data/styrhjul.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "expected a URL starting with sqlite:///, postgresql:// or postgresql+psycopg://"
            )
        return value


class MaildirSettings(_Section):
    """``[mail.maildir]``: a local Maildir folder a person can open."""

    path: str = "data/mail"


class SmtpSettings(_Section):
    """``[mail.smtp]``: credentials come from STYRHJUL_SMTP_USERNAME/PASSWORD.

    ``auth = "xoauth2"`` logs in with an OAuth2 access token instead of a password (Exchange
    Online, where basic-auth SMTP is being switched off); the token comes from
    ``[mail.oauth2]``.
    """

    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["none", "starttls", "ssl"] = "starttls"
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    auth: Literal["password", "xoauth2"] = "password"


class OAuth2Settings(_Section):
    """``[mail.oauth2]``: the client-credentials grant that yields access tokens.

    For Microsoft 365: ``token_url`` is
    ``https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`` and ``scope`` is
    ``https://outlook.office365.com/.default``. The secret comes from
    ``STYRHJUL_OAUTH2_CLIENT_SECRET``.
    """

    token_url: str = ""
    client_id: str = ""
    scope: str = "https://outlook.office365.com/.default"


class ExchangeSettings(_Section):
    """``[mail.exchange]``: an on-premise Exchange server over EWS (exchangelib).

    Credentials come from STYRHJUL_EXCHANGE_USERNAME/PASSWORD (``auth`` ntlm or basic) or
    from ``[mail.oauth2]`` (``auth = "oauth2"``). With ``meetings = true`` an invite becomes
    a meeting in the organiser's calendar (the service account needs impersonation rights),
    updated and cancelled there; otherwise it is sent as the same mail SMTP would send.
    """

    service_endpoint: str = ""
    auth: Literal["ntlm", "basic", "oauth2"] = "ntlm"
    verify_tls: bool = True
    meetings: bool = True
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0


class MailSettings(_Section):
    """``[mail]``: the transport and the sender of every message."""

    transport: Literal["maildir", "smtp", "exchange", "console"] = "maildir"
    from_address: Annotated[str, Field(pattern=EMAIL_PATTERN)] = "styrhjul@example.se"
    from_name: str = "Styrhjul"
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    retry_base_seconds: Annotated[int, Field(ge=1, le=86400)] = 60
    maildir: MaildirSettings = MaildirSettings()
    smtp: SmtpSettings = SmtpSettings()
    oauth2: OAuth2Settings = OAuth2Settings()
    exchange: ExchangeSettings = ExchangeSettings()


class DialogSettings(_Section):
    """``[dialogs]``: where dialogs are held when a definition gives no place."""

    default_location: str = "Teams / enligt överenskommelse"


class ScorecardSettings(_Section):
    """``[scorecard]``: the rules that act on scorecard outcomes (utfall).

    ``budget_measure`` is the code of the measure whose outcome is a unit's budget deviation
    in percent; an outcome further from zero than ``budget_deviation_threshold_percent``
    (either way) starts a special economic follow-up. An unmet target becomes a step of the
    unit's next dialog, due ``step_working_days_before_dialog`` working days before it.
    """

    budget_measure: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=30)] = (
        "budgetavvikelse"
    )
    budget_deviation_threshold_percent: Annotated[float, Field(gt=0, le=100)] = 2.0
    step_working_days_before_dialog: Annotated[int, Field(ge=0, le=20)] = 2


class CalendarSettings(_Section):
    """``[calendar]``: the årshjul file whose rules make the yearly plan.

    Empty means the example årshjul shipped with Styrhjul (``styrhjul/examples/arshjul.toml``).
    """

    arshjul: str = ""


class WorkflowsSettings(_Section):
    """``[workflows]``: the folder of workflow definitions installed on this server.

    The definitions an application runs on are the shipped ones (``styrhjul/workflows``),
    each replaced by a file here that defines the same workflow with a higher
    ``workflow.version``, plus any workflow defined only here. The web app's installation
    writes here, never into the package: on a server the package is read-only
    (``ProtectSystem=strict``) and an upgrade of it would overwrite the file. A missing
    folder is simply empty.
    """

    folder: Annotated[str, Field(min_length=1)] = "data/workflows"


_LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class DaemonSettings(_Section):
    """``[daemon]``: the clockwork of ``styrhjul daemon``.

    The tick finds what is due in the database (invites, preparations, recurring steps,
    reminders, overdue notices, escalations); the drain sends the outbox. The daily plan
    keeps this year and, from 1 November, the next one planned; the weekly digest goes to
    directors. Local times may not fall between 02:00 and 03:00: that hour is skipped when
    Sweden changes to summer time and repeated when it changes back.
    """

    tick_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    drain_seconds: Annotated[int, Field(ge=1, le=3600)] = 15
    heartbeat_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    plan_at: Annotated[str, Field(pattern=_LOCAL_TIME)] = "05:30"
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_at: Annotated[str, Field(pattern=_LOCAL_TIME)] = "07:00"
    log_format: Literal["json", "text"] = "json"

    @field_validator("plan_at", "digest_at")
    @classmethod
    def _not_in_the_dst_hour(cls, value: str) -> str:
        if value.startswith("02:"):
            raise ValueError(
                f"{value} lies in the hour that is skipped (March) or repeated (October) when"
                " Sweden changes between summer and winter time; choose a time outside"
                " 02:00-02:59"
            )
        return value

    @property
    def lost_after_seconds(self) -> int:
        """A daemon silent this long is taken for dead; its claimed work is taken over."""
        return 3 * self.heartbeat_seconds


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class OidcSettings(_Section):
    """``[web.oidc]``: logging in through the municipality's identity provider (OpenID Connect).

    The provider is found by its ``issuer`` (discovery at
    ``{issuer}/.well-known/openid-configuration``); Styrhjul is registered there as the
    confidential client ``client_id`` with the redirect URI ``{web.base_url}/login/oidc/callback``,
    and its secret comes from ``STYRHJUL_OIDC_CLIENT_SECRET``. The ID token's ``claim`` is the
    e-mail address of a person of the organisation. The issuer must be an https:// URL; plain
    http:// is accepted only on the loopback interface (a provider on the same machine, tests).
    """

    enabled: bool = False
    issuer: str = ""
    client_id: str = ""
    scopes: str = "openid email profile"
    claim: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.:-]*$", max_length=100)] = "email"
    button_label: Annotated[str, Field(min_length=1, max_length=80)] = (
        "Logga in med kommunens konto"
    )

    @field_validator("issuer")
    @classmethod
    def _https_issuer(cls, value: str) -> str:
        if not value:
            return value
        if value.startswith("https://"):
            return value
        if value.startswith("http://") and urlsplit(value).hostname in _LOOPBACK_HOSTS:
            return value
        raise ValueError("expected an https:// URL (http:// only on 127.0.0.1 or localhost)")

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("the scopes must include 'openid'")
        return " ".join(value.split())


class WebSettings(_Section):
    """``[web]``: ``styrhjul web``, the pages and the JSON API.

    ``base_url`` is how users reach it (links in mail, feed URLs).
    ``secure_cookies`` must be true behind HTTPS; it is false for the local default.
    """

    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    secure_cookies: bool = False
    session_idle_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] = 480
    session_max_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 168
    max_failed_logins: Annotated[int, Field(ge=1, le=100)] = 5
    lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    oidc: OidcSettings = OidcSettings()

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")


class _FileModel(_Section):
    general: GeneralSettings = GeneralSettings()
    database: DatabaseSettings = DatabaseSettings()
    mail: MailSettings = MailSettings()
    dialogs: DialogSettings = DialogSettings()
    scorecard: ScorecardSettings = ScorecardSettings()
    calendar: CalendarSettings = CalendarSettings()
    workflows: WorkflowsSettings = WorkflowsSettings()
    daemon: DaemonSettings = DaemonSettings()
    web: WebSettings = WebSettings()


@dataclass(frozen=True)
class Settings:
    """The validated configuration, with relative paths resolved. Immutable."""

    file: _FileModel
    path: Path
    database_url: str
    secrets: Mapping[str, str]

    @property
    def root(self) -> Path:
        """The folder of the configuration file; relative paths start here."""
        return self.path.parent

    @property
    def general(self) -> GeneralSettings:
        return self.file.general

    @property
    def mail(self) -> MailSettings:
        return self.file.mail

    @property
    def dialogs(self) -> DialogSettings:
        return self.file.dialogs

    @property
    def scorecard(self) -> ScorecardSettings:
        return self.file.scorecard

    @property
    def calendar(self) -> CalendarSettings:
        return self.file.calendar

    @property
    def workflows(self) -> WorkflowsSettings:
        return self.file.workflows

    @property
    def workflows_folder(self) -> Path:
        """The folder of installed workflow definitions (``[workflows] folder``), absolute."""
        return self.resolve(self.workflows.folder)

    @property
    def daemon(self) -> DaemonSettings:
        return self.file.daemon

    @property
    def web(self) -> WebSettings:
        return self.file.web

    @property
    def arshjul_path(self) -> Path | None:
        """The configured årshjul file, or None for the shipped example."""
        return self.resolve(self.calendar.arshjul) if self.calendar.arshjul else None

    @property
    def database(self) -> DatabaseSettings:
        return self.file.database

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.general.timezone)

    @property
    def maildir_path(self) -> Path:
        return self.resolve(self.mail.maildir.path)

    def resolve(self, relative: str) -> Path:
        """A path from the file, made absolute against the config file's folder."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else (self.root / path)


def find_config(explicit: str | Path | None, environ: Mapping[str, str]) -> Path:
    """The configuration file to use: explicit path, then $STYRHJUL_CONFIG, then ./config.toml."""
    if explicit:
        return Path(explicit)
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG])
    return Path.cwd() / DEFAULT_CONFIG_NAME


def load_settings(
    explicit: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read, validate and resolve the configuration. Raises ConfigError naming file/line/key."""
    env = os.environ if environ is None else environ
    path = find_config(explicit, env).resolve()
    if not path.exists():
        raise ConfigError(
            f"configuration file not found (choose one with --config PATH or ${ENV_CONFIG})",
            file=path,
        )
    source, raw = read_toml(path, ConfigError)
    _no_secret_in_file(source, raw)
    model = validate(source, raw, _FileModel, ConfigError)
    url = env.get(ENV_DATABASE_URL) or model.database.url
    if env.get(ENV_DATABASE_URL):
        try:
            DatabaseSettings(url=url)
        except ValidationError as exc:
            raise ConfigError(
                f"{exc.errors()[0]['msg'].removeprefix('Value error, ')} (got {url!r})",
                key=f"${ENV_DATABASE_URL}",
            ) from None
    url = _resolve_sqlite(url, path.parent)
    secrets = {k: v for k, v in env.items() if k.startswith(SECRET_PREFIXES)}
    _check_oidc(source, model.web.oidc, secrets)
    settings = Settings(model, path, url, secrets)
    _check_workflows_folder(source, settings)
    return settings


def _no_secret_in_file(source: Source, raw: Mapping[str, object]) -> None:
    """A client secret written into the file gets a message saying where it belongs."""
    web = raw.get("web")
    oidc = web.get("oidc") if isinstance(web, dict) else None
    if isinstance(oidc, dict) and "client_secret" in oidc:
        raise source.error(
            ConfigError,
            ("web", "oidc", "client_secret"),
            f"secrets never live in the file: set ${ENV_OIDC_CLIENT_SECRET} in the environment"
            " and remove this key",
        )


def _check_oidc(source: Source, oidc: OidcSettings, secrets: Mapping[str, str]) -> None:
    """With ``[web.oidc] enabled = true`` the provider, the client and its secret are needed."""
    if not oidc.enabled:
        return
    for key in ("issuer", "client_id"):
        if not getattr(oidc, key):
            raise source.error(
                ConfigError, ("web", "oidc", key), "needed when web.oidc.enabled is true"
            )
    if not secrets.get(ENV_OIDC_CLIENT_SECRET):
        raise ConfigError(
            "the OIDC client secret is needed when web.oidc.enabled is true",
            file=source.path,
            key=f"${ENV_OIDC_CLIENT_SECRET}",
        )


def _check_workflows_folder(source: Source, settings: Settings) -> None:
    """The installed definitions' folder may be missing (it is empty then), not a file."""
    folder = settings.workflows_folder
    if folder.exists() and not folder.is_dir():
        raise source.error(
            ConfigError,
            ("workflows", "folder"),
            f"{folder} is not a folder; name the folder the installed workflow definitions"
            " live in (it is created when the first one is installed)",
        )


def _resolve_sqlite(url: str, root: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    rest = url[len(prefix) :]
    if rest.startswith(("/", ":memory:")) or not rest:
        return url
    return prefix + str((root / rest).resolve())
