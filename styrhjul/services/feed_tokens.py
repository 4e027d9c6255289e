"""Unguessable, revocable addresses for calendar feeds (``styrhjul feed token ...``).

A calendar program subscribes to ``/kalender/<token>.ics`` (served by the web app) and cannot
log in, so the token is the credential. It is ``secrets.token_urlsafe(32)`` (256 bits),
shown once when made; only its SHA-256 digest is stored. A request is looked up by the
digest of what it presents, so the stored value is never compared with the secret
itself and a database leak gives no working address. Revoking keeps the row (who had
which feed, when it was last fetched) and refuses the token from then on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from styrhjul.db.models import FeedToken, OrgUnit, Person
from styrhjul.errors import InputError, NotFound
from styrhjul.services.context import App
from styrhjul.services.feeds import feed_of_person, feed_of_unit
from styrhjul.services.org import person_by_email, unit_by_code

TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A feed token as listed: never the token itself."""

    id: int
    owner_kind: str  # "person" or "unit"
    owner: str  # e-mail or unit code
    label: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token: ``token`` is shown to the user this once and stored nowhere.

    ``address`` is the feed's URL as the web app serves it, ``{base_url}/kalender/TOKEN.ics``.
    """

    row: TokenRow
    token: str
    address: str


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _row(token: FeedToken) -> TokenRow:
    if token.person is not None:
        kind, owner = "person", token.person.email
    else:
        assert token.unit is not None  # the one_owner constraint
        kind, owner = "unit", token.unit.code
    return TokenRow(
        id=token.id,
        owner_kind=kind,
        owner=owner,
        label=token.label,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def create_token(
    app: App,
    *,
    person: str | None = None,
    unit: str | None = None,
    label: str = "",
    token: str | None = None,
) -> CreatedToken:
    """A new token for the feed of ``person`` (e-mail) or ``unit`` (code), exactly one.

    ``token`` is for tests only; the default is fresh from :mod:`secrets`.
    """
    if (person is None) == (unit is None):
        raise InputError("give either a person or a unit, not both or neither", key="owner")
    if "\n" in label or "\r" in label or len(label) > 200:
        raise InputError("a label is one line of at most 200 characters", key="label")
    if token is None:
        token = secrets.token_urlsafe(TOKEN_BYTES)
    now = app.clock.now()
    with app.db.session() as session:
        row = FeedToken(digest=digest_of(token), label=label.strip(), created_at=now)
        if person is not None:
            row.person = person_by_email(session, person)
        else:
            assert unit is not None
            row.unit = unit_by_code(session, unit)
        session.add(row)
        session.flush()
        address = f"{app.settings.web.base_url}/kalender/{token}.ics"
        return CreatedToken(_row(row), token, address)


def list_tokens(app: App) -> list[TokenRow]:
    with app.db.session() as session:
        return [_row(t) for t in session.scalars(select(FeedToken).order_by(FeedToken.id))]


def revoke_token(app: App, token_id: int) -> TokenRow:
    """Refuse the token from now on; revoking a revoked token changes nothing."""
    with app.db.session() as session:
        row = session.get(FeedToken, token_id)
        if row is None:
            raise NotFound("feed token", token_id)
        if row.revoked_at is None:
            row.revoked_at = app.clock.now()
        return _row(row)


def feed_for_token(app: App, token: str) -> bytes:
    """The feed a token gives access to; unknown or revoked tokens are NotFound.

    One statement finds the token with its owner's address and name, one records the use.
    """
    # looked up by the digest, so how long the lookup takes reveals nothing of the token
    query = (
        select(
            FeedToken.id,
            FeedToken.revoked_at,
            Person.email,
            Person.title,
            OrgUnit.code,
            OrgUnit.name,
        )
        .select_from(FeedToken)
        .outerjoin(Person, FeedToken.person_id == Person.id)
        .outerjoin(OrgUnit, FeedToken.unit_id == OrgUnit.id)
        .where(FeedToken.digest == digest_of(token))
    )
    with app.db.session() as session:
        found = session.execute(query).one_or_none()
        if found is None or found.revoked_at is not None:
            # one message for unknown and revoked, and never the token itself
            raise NotFound("feed", "for this token")
        used = update(FeedToken).where(FeedToken.id == found.id)
        session.execute(used.values(last_used_at=app.clock.now()))
    if found.email is not None:
        return feed_of_person(app, found.email, found.title)
    assert found.code is not None  # the one_owner constraint
    return feed_of_unit(app, found.code, found.name)
