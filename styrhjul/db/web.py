"""Tables of the web app: accounts that may log in, and their sessions.

A :class:`WebAccount` lets a person of the organisation log in: with a password (hashed
with Argon2id, never stored as given) or through the municipality's identity provider
(OIDC), which needs no password here. What an account may see and do follows from the
person's roles in the organisation; ``admin`` adds the management of workflows and people.

A :class:`WebSession` is one login: only the SHA-256 digest of its token is stored, with
its CSRF token and its expiry. Logging out, disabling the account or a password change
revokes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from styrhjul.db.models import Base, Person, _in

LOGIN_METHODS = ("password", "oidc")


class WebAccount(Base):
    """A person's right to log in to the web app."""

    __tablename__ = "web_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]

    person: Mapped[Person] = relationship()


class WebSession(Base):
    """One login, by the digest of its token."""

    __tablename__ = "web_session"
    __table_args__ = (CheckConstraint(_in("method", LOGIN_METHODS), name="method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("web_account.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    account: Mapped[WebAccount] = relationship()
