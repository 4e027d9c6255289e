"""Web accounts and sessions: who may log in, with what, and for how long.

Passwords are hashed with Argon2id (``argon2-cffi``'s defaults, re-hashed on login when
the parameters have grown). After ``web.max_failed_logins`` wrong passwords in a row an
account is locked for ``web.lockout_minutes``; the error never says whether the address
or the password was wrong. A session token is 32 random bytes shown once (the cookie or
the API's bearer token); only its SHA-256 digest is stored, beside a CSRF token that every
form and every unsafe API call made with the cookie must echo.

Every change to an account (created, disabled, enabled, password set, unlocked, admin
granted or revoked) writes an audit row (entity ``web_account``) in its transaction, with
the administrator who made it (:data:`OPERATOR` from the command line, which has no
login). An administrator may not disable their own account nor remove their own admin
flag, so the application always keeps at least the administrator who acts.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from styrhjul.db.models import AuditEvent, Person
from styrhjul.db.web import WebAccount, WebSession
from styrhjul.errors import InputError, NotAuthenticated, NotFound, PermissionDenied
from styrhjul.services.context import App

_HASHER = PasswordHasher()
MIN_PASSWORD = 12
_REFUSED = "wrong e-mail address or password, or the account is locked or disabled"
ACCOUNT_ENTITY = "web_account"
"""The ``entity`` of an account's audit rows (their ``entity_id`` is the account's id)."""
OPERATOR = "operator (command line)"
"""The actor of account changes made with ``styrhjul account``, which has no login."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _person(session: Session, email: str) -> Person:
    person = session.scalar(select(Person).where(Person.email == email.strip().lower()))
    if person is None:
        raise NotFound("person", email)
    return person


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", key="password")


@dataclass(frozen=True)
class AccountRow:
    """An account as listings show it."""

    id: int
    email: str
    title: str
    admin: bool
    password: bool
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None
    locked_until: datetime | None


def create_account(
    app: App,
    email: str,
    *,
    password: str | None = None,
    admin: bool = False,
    actor: str = OPERATOR,
) -> int:
    """Let the person with ``email`` log in (``password=None``: not until one is set)."""
    if password is not None:
        _check_password(password)
    with app.db.session() as session:
        person = _person(session, email)
        if session.scalar(select(WebAccount.id).where(WebAccount.person_id == person.id)):
            raise InputError(f"{person.email} already has an account", key="email")
        account = WebAccount(
            person_id=person.id,
            password_hash=_HASHER.hash(password) if password is not None else None,
            admin=admin,
            created_at=app.clock.now(),
            failed_logins=0,
        )
        session.add(account)
        session.flush()
        _audit(
            session,
            account,
            at=account.created_at,
            actor=actor,
            trigger="create",
            from_state=None,
            reason="administrator" if admin else "",
        )
        return account.id


def set_password(app: App, email: str, password: str, *, actor: str = OPERATOR) -> None:
    """Set a new password (which also unlocks); every open session of the account ends."""
    _check_password(password)
    now = app.clock.now()
    with app.db.session() as session:
        account = _account(session, email)
        before = account_state(account, now)
        account.password_hash = _HASHER.hash(password)
        account.failed_logins = 0
        account.locked_until = None
        _revoke_all(session, account.id, now)
        _audit(session, account, at=now, actor=actor, trigger="set_password", from_state=before)


def set_disabled(app: App, email: str, *, disabled: bool, actor: str = OPERATOR) -> None:
    """Disable (ending every session) or enable an account; nobody disables themselves."""
    now = app.clock.now()
    with app.db.session() as session:
        account = _account(session, email)
        if disabled and _is_self(account, actor):
            raise PermissionDenied(
                f"{actor} may not disable their own account (another administrator can)"
            )
        before = account_state(account, now)
        if (account.disabled_at is not None) == disabled:
            return  # already so: nothing changes, nothing to audit
        account.disabled_at = now if disabled else None
        if disabled:
            _revoke_all(session, account.id, now)
        _audit(
            session,
            account,
            at=now,
            actor=actor,
            trigger="disable" if disabled else "enable",
            from_state=before,
        )


def set_admin(app: App, email: str, *, admin: bool, actor: str = OPERATOR) -> None:
    """Grant or revoke the admin flag; an administrator cannot revoke their own."""
    now = app.clock.now()
    with app.db.session() as session:
        account = _account(session, email)
        if not admin and _is_self(account, actor):
            raise PermissionDenied(
                f"{actor} may not remove their own admin flag (another administrator can)"
            )
        if account.admin == admin:
            return
        account.admin = admin
        _audit(
            session,
            account,
            at=now,
            actor=actor,
            trigger="grant_admin" if admin else "revoke_admin",
            from_state=account_state(account, now),
        )


def unlock(app: App, email: str, *, actor: str = OPERATOR) -> None:
    """End a lockout after too many wrong passwords (the password stays as it was)."""
    now = app.clock.now()
    with app.db.session() as session:
        account = _account(session, email)
        before = account_state(account, now)
        if before != "locked":
            raise InputError(f"the account of {account.person.email} is not locked", key="email")
        account.locked_until = None
        account.failed_logins = 0
        _audit(session, account, at=now, actor=actor, trigger="unlock", from_state=before)


def account_state(account: WebAccount, now: datetime) -> str:
    """``disabled``, ``locked``, ``no_password`` or ``active``: what a login would meet."""
    if account.disabled_at is not None:
        return "disabled"
    if account.locked_until is not None and account.locked_until > now:
        return "locked"
    if account.password_hash is None:
        return "no_password"
    return "active"


def _is_self(account: WebAccount, actor: str) -> bool:
    return account.person.email == actor.strip().lower()


def _audit(
    session: Session,
    account: WebAccount,
    *,
    at: datetime,
    actor: str,
    trigger: str,
    from_state: str | None,
    reason: str = "",
) -> None:
    session.add(
        AuditEvent(
            entity=ACCOUNT_ENTITY,
            entity_id=account.id,
            at=at,
            actor=actor,
            trigger=trigger,
            from_state=from_state,
            to_state=account_state(account, at),
            reason=reason,
        )
    )


def account_email(app: App, account_id: int) -> str:
    """The e-mail address of account ``account_id`` (NotFound if there is none)."""
    with app.db.session() as session:
        account = session.get(WebAccount, account_id)
        if account is None:
            raise NotFound("account", account_id)
        return account.person.email


def account_history(app: App, email: str) -> list[AuditEvent]:
    """The audit rows of the account of ``email``, newest first."""
    with app.db.session() as session:
        account = _account(session, email)
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == ACCOUNT_ENTITY, AuditEvent.entity_id == account.id)
                .order_by(AuditEvent.id.desc())
            )
        )


def list_accounts(app: App) -> list[AccountRow]:
    with app.db.session() as session:
        rows = session.execute(select(WebAccount, Person).join(Person).order_by(Person.email)).all()
        return [
            AccountRow(
                a.id,
                p.email,
                p.title,
                a.admin,
                a.password_hash is not None,
                a.created_at,
                a.disabled_at,
                a.last_login_at,
                a.locked_until,
            )
            for a, p in rows
        ]


def _account(session: Session, email: str) -> WebAccount:
    person = _person(session, email)
    account = session.scalar(select(WebAccount).where(WebAccount.person_id == person.id))
    if account is None:
        raise NotFound("account", person.email)
    return account


def _revoke_all(session: Session, account_id: int, now: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.account_id == account_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


@dataclass(frozen=True)
class Login:
    """An open session: the token goes to the browser (or API client) once."""

    token: str
    csrf: str
    person_id: int
    expires_at: datetime


def log_in(app: App, email: str, password: str) -> Login:
    """Check the password and open a session; NotAuthenticated on any refusal."""
    now = app.clock.now()
    web = app.settings.web
    with app.db.session() as session:
        person = session.scalar(select(Person).where(Person.email == email.strip().lower()))
        account = (
            session.scalar(select(WebAccount).where(WebAccount.person_id == person.id))
            if person is not None
            else None
        )
        if account is None or account.password_hash is None:
            _HASHER.hash(password)  # as slow as a real check: no hint that the address is unknown
            raise NotAuthenticated(_REFUSED)
        if account.disabled_at is not None or (
            account.locked_until is not None and account.locked_until > now
        ):
            raise NotAuthenticated(_REFUSED)
        try:
            _HASHER.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            account.failed_logins += 1
            if account.failed_logins >= web.max_failed_logins:
                account.locked_until = now + timedelta(minutes=web.lockout_minutes)
                account.failed_logins = 0
            session.commit()
            raise NotAuthenticated(_REFUSED) from None
        if _HASHER.check_needs_rehash(account.password_hash):
            account.password_hash = _HASHER.hash(password)
        return _open(app, session, account, "password")


def _open(app: App, session: Session, account: WebAccount, method: str) -> Login:
    now = app.clock.now()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=app.settings.web.session_max_hours)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    session.add(
        WebSession(
            digest=digest(token),
            account_id=account.id,
            csrf=csrf,
            method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
        )
    )
    return Login(token, csrf, account.person_id, expires)


@dataclass(frozen=True)
class Who:
    """The person behind a valid session."""

    person_id: int
    email: str
    title: str
    admin: bool
    csrf: str


def session_for(app: App, token: str) -> Who:
    """The person of a live session; NotAuthenticated if it ended, expired or idled out."""
    now = app.clock.now()
    idle = timedelta(minutes=app.settings.web.session_idle_minutes)
    with app.db.session() as session:
        row = session.execute(
            select(WebSession, WebAccount, Person)
            .join(WebAccount, WebSession.account_id == WebAccount.id)
            .join(Person, WebAccount.person_id == Person.id)
            .where(WebSession.digest == digest(token))
        ).one_or_none()
        if row is None:
            raise NotAuthenticated("not logged in")
        web_session, account, person = row
        if (
            web_session.revoked_at is not None
            or web_session.expires_at <= now
            or web_session.last_seen_at <= now - idle
            or account.disabled_at is not None
        ):
            raise NotAuthenticated("the session has ended; log in again")
        if now - web_session.last_seen_at > timedelta(minutes=1):
            web_session.last_seen_at = now  # once a minute at most: reads stay reads
        return Who(person.id, person.email, person.title, account.admin, web_session.csrf)


def log_out(app: App, token: str) -> None:
    """End the session of ``token`` (unknown or ended tokens are fine)."""
    with app.db.session() as session:
        session.execute(
            update(WebSession)
            .where(WebSession.digest == digest(token), WebSession.revoked_at.is_(None))
            .values(revoked_at=app.clock.now())
        )
