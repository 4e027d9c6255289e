"""Logging in through the municipality's identity provider: OpenID Connect, code flow + PKCE.

:func:`begin` sends the browser to the provider's authorization endpoint with a fresh
``state``, ``nonce`` and PKCE ``code_verifier`` (S256). They travel with the browser in a
sealed :class:`Pending` (an HMAC-signed, ten-minute cookie, see :func:`seal`): no table and
no process memory, so a login started on one web worker or before a restart ends on another.
:func:`identify` takes the provider's answer: the state must be the one of the cookie, the
code is exchanged once (with the verifier and the client secret) for an ID token whose
signature is checked against the provider's JWKS, and whose ``iss``, ``aud``, ``exp``,
``iat`` and ``nonce`` are checked against the configuration, the cookie and
:meth:`App.clock.now`. :func:`log_in` then matches the configured claim (``email``) to a
person of the organisation and opens the same kind of session a password opens
(``services.accounts``, method ``oidc``).

A person of the organisation logging in for the first time gets an account without a
password and without admin rights: the organisation, not a second list, says who works
here, and an administrator still refuses someone by disabling the account (a login through
the provider never enables it again). Someone the provider knows but the organisation does
not is refused.

Errors: a broken or forged answer is :class:`NotAuthenticated`; a provider that cannot be
reached is :class:`DeliveryFailed`; a person not in the organisation is :class:`NotFound`;
a disabled account is :class:`PermissionDenied`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from styrhjul.config import ENV_OIDC_CLIENT_SECRET, OidcSettings
from styrhjul.db.web import WebAccount
from styrhjul.errors import DeliveryFailed, InputError, NotAuthenticated, PermissionDenied
from styrhjul.services.accounts import Login, _open, create_account
from styrhjul.services.context import App
from styrhjul.services.org import person_by_email

PENDING_SECONDS = 600
"""How long a started login may take at the provider before its cookie is refused."""
LEEWAY = timedelta(seconds=60)
"""Clock difference tolerated between this server and the provider (exp, iat, nbf)."""
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Signature algorithms accepted for ID tokens: public-key ones only, never HS* or none."""
CACHE = timedelta(hours=1)
"""How long the discovery document is reused before it is fetched again."""
TIMEOUT_SECONDS = 10.0
CALLBACK_PATH = "/login/oidc/callback"
FIRST_LOGIN = "identity provider (first OIDC login)"
"""The actor of the audit row of an account that a person's first OIDC login created."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _same(given: str, expected: str) -> bool:
    """Constant-time equality that also takes the non-ASCII text a forged request may bring."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Pending:
    """A login started at the provider and not yet finished: what the answer must match."""

    state: str
    nonce: str
    verifier: str
    next: str
    started: int
    """Seconds since the epoch (:meth:`App.clock.now`) when the login was started."""


@dataclass(frozen=True)
class Identity:
    """Who the provider says logged in: its subject and the configured claim's value."""

    subject: str
    value: str


@dataclass
class OidcClient:
    """The provider of ``[web.oidc]`` and what is cached about it (discovery, keys).

    One per web app; its caches are plain attributes, replaced whole, so the threads of
    the web server may share it.
    """

    settings: OidcSettings
    secret: str
    redirect_uri: str
    _metadata: dict[str, Any] | None = field(default=None, repr=False)
    _metadata_at: datetime | None = field(default=None, repr=False)
    _keys: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, app: App) -> OidcClient:
        """The client of ``app``'s settings (which load_settings checked to be complete)."""
        oidc = app.settings.web.oidc
        if not oidc.enabled:
            raise InputError("OIDC login is not enabled", key="web.oidc.enabled")
        return cls(
            settings=oidc,
            secret=app.settings.secrets.get(ENV_OIDC_CLIENT_SECRET, ""),
            redirect_uri=app.settings.web.base_url + CALLBACK_PATH,
        )

    @property
    def key(self) -> bytes:
        """The key that signs pending-login cookies, derived from the client secret.

        Every web worker of the installation knows the secret, and nobody else does; a
        new secret simply refuses the logins started before it (ten minutes at most).
        """
        return hmac.new(self.secret.encode(), b"styrhjul oidc pending login", "sha256").digest()

    # --- talking to the provider ---------------------------------------------------------

    def _get(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=TIMEOUT_SECONDS, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the identity provider's {what} ({url}): {exc}") from None
        if response.status_code != 200:
            raise DeliveryFailed(
                f"the identity provider's {what} ({url}) answered HTTP {response.status_code}"
            )
        return _json_object(response, what)

    def metadata(self, now: datetime) -> dict[str, Any]:
        """The discovery document, checked to be this issuer's; cached for an hour."""
        if self._metadata is not None and self._metadata_at and now - self._metadata_at < CACHE:
            return self._metadata
        issuer = self.settings.issuer
        found = self._get(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery")
        if found.get("issuer") != issuer:
            raise DeliveryFailed(
                f"the discovery document names the issuer {found.get('issuer')!r},"
                f" not {issuer!r} (web.oidc.issuer)"
            )
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(found.get(name), str):
                raise DeliveryFailed(f"the discovery document of {issuer} has no {name}")
        self._metadata, self._metadata_at = found, now
        return found

    def signing_key(self, kid: str | None, alg: str, now: datetime) -> Any:
        """The provider's public key ``kid``; the JWKS is fetched again for an unknown one."""
        for fetch in (False, True):
            if fetch or not self._keys:
                keys: dict[str, Any] = {}
                for jwk in self._get(self.metadata(now)["jwks_uri"], "JWKS").get("keys", []):
                    if isinstance(jwk, dict) and jwk.get("use", "sig") == "sig":
                        keys[str(jwk.get("kid", ""))] = jwk
                self._keys = keys
            jwk = self._keys.get(kid or "") or (
                next(iter(self._keys.values())) if kid is None and len(self._keys) == 1 else None
            )
            if jwk is not None:
                try:
                    return jwt.PyJWK(jwk, algorithm=alg).key
                except jwt.PyJWTError as exc:
                    raise NotAuthenticated(f"the provider's key {kid!r}: {exc}") from None
        raise NotAuthenticated(f"the ID token is signed with key {kid!r}, which the JWKS lacks")

    def exchange(self, code: str, verifier: str, now: datetime) -> dict[str, Any]:
        """Trade the authorization code (once) for the provider's tokens."""
        meta = self.metadata(now)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth: tuple[str, str] | None = None
        if "client_secret_basic" in methods:
            auth = (self.settings.client_id, self.secret)
        else:
            form |= {"client_id": self.settings.client_id, "client_secret": self.secret}
        try:
            response = httpx.post(
                meta["token_endpoint"], data=form, auth=auth, timeout=TIMEOUT_SECONDS
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the identity provider's token endpoint: {exc}") from None
        if response.status_code >= 500:
            raise DeliveryFailed(f"the token endpoint answered HTTP {response.status_code}")
        body = _json_object(response, "token endpoint")
        if response.status_code != 200:
            raise NotAuthenticated(
                f"the provider refused the code: {body.get('error', response.status_code)}"
                f" {body.get('error_description', '')}".rstrip()
            )
        if not isinstance(body.get("id_token"), str):
            raise NotAuthenticated("the token endpoint's answer has no id_token")
        return body


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DeliveryFailed(f"the identity provider's {what} did not answer with a JSON object")
    return body


# --- the pending login ------------------------------------------------------------------


def seal(pending: Pending, key: bytes) -> str:
    """``pending`` as cookie text: JSON and its HMAC-SHA256, both base64url."""
    payload = _b64(json.dumps(asdict(pending), separators=(",", ":")).encode())
    mac = hmac.new(key, payload.encode(), "sha256").digest()
    return f"{payload}.{_b64(mac)}"


def unseal(text: str, key: bytes, now: datetime) -> Pending:
    """The pending login of a cookie: NotAuthenticated if forged, broken or too old."""
    payload, _, mac = text.partition(".")
    expected = _b64(hmac.new(key, payload.encode(), "sha256").digest())
    if not text or not _same(mac, expected):
        raise NotAuthenticated("no pending OIDC login in this browser (cookie missing or forged)")
    try:
        pending = Pending(**json.loads(_unb64(payload)))
    except (ValueError, TypeError, binascii.Error):
        raise NotAuthenticated("the pending OIDC login cookie is unreadable") from None
    age = now.timestamp() - pending.started
    if not -LEEWAY.total_seconds() <= age <= PENDING_SECONDS:
        raise NotAuthenticated(f"the OIDC login was started {int(age)} s ago: start again")
    return pending


def begin(app: App, client: OidcClient, next_path: str) -> tuple[str, Pending]:
    """Where to send the browser, and the pending login to give it (as :func:`seal`)."""
    now = app.clock.now()
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64),
        next=next_path,
        started=int(now.timestamp()),
    )
    challenge = _b64(hashlib.sha256(pending.verifier.encode("ascii")).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.settings.client_id,
            "redirect_uri": client.redirect_uri,
            "scope": client.settings.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    endpoint: str = client.metadata(now)["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", pending


# --- the provider's answer ----------------------------------------------------------------


def identify(app: App, client: OidcClient, pending: Pending, answer: dict[str, str]) -> Identity:
    """Check the provider's answer (the callback's query) and the ID token it leads to."""
    if not _same(answer.get("state", ""), pending.state):
        raise NotAuthenticated("the answer's state is not the one this browser was sent with")
    if answer.get("error"):
        raise NotAuthenticated(
            f"the provider ended the login: {answer['error']}"
            f" {answer.get('error_description', '')}".rstrip()
        )
    if not answer.get("code"):
        raise NotAuthenticated("the provider's answer has no code")
    now = app.clock.now()
    tokens = client.exchange(answer["code"], pending.verifier, now)
    claims = _verified_claims(client, tokens["id_token"], pending.nonce, now)
    claim = client.settings.claim
    value = claims.get(claim)
    if not isinstance(value, str) or not value.strip():
        raise NotAuthenticated(f"the ID token has no claim {claim!r} (web.oidc.claim)")
    if claim == "email" and claims.get("email_verified") is False:
        raise NotAuthenticated(f"the provider has not verified the e-mail address {value}")
    return Identity(subject=str(claims["sub"]), value=value.strip())


def _verified_claims(client: OidcClient, token: str, nonce: str, now: datetime) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"the ID token is not a JWT: {exc}") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise NotAuthenticated(f"the ID token's algorithm {alg!r} is not accepted")
    key = client.signing_key(header.get("kid"), alg, now)
    audience = client.settings.client_id
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=audience,
            issuer=client.settings.issuer,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat", "nonce"],
                # times are checked below against the application's clock
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"the ID token is not valid: {exc}") from None
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != audience:
        raise NotAuthenticated(f"the ID token has several audiences and azp is not {audience!r}")
    if not _same(str(claims["nonce"]), nonce):
        raise NotAuthenticated("the ID token's nonce is not the one this login was sent with")
    _check_times(claims, now)
    return claims


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    def instant(name: str) -> datetime:
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise NotAuthenticated(f"the ID token's {name} is not a number")
        return datetime.fromtimestamp(value, UTC)

    if instant("exp") <= now - LEEWAY:
        raise NotAuthenticated(f"the ID token expired at {instant('exp'):%Y-%m-%d %H:%M:%S} UTC")
    issued = instant("iat")
    if issued > now + LEEWAY or issued < now - timedelta(seconds=PENDING_SECONDS) - LEEWAY:
        raise NotAuthenticated(f"the ID token was issued at {issued:%Y-%m-%d %H:%M:%S} UTC")
    if "nbf" in claims and instant("nbf") > now + LEEWAY:
        raise NotAuthenticated("the ID token is not valid yet (nbf)")


# --- the session ------------------------------------------------------------------------


def log_in(app: App, identity: Identity) -> Login:
    """Open a session for the person whose e-mail address the identity holds.

    NotFound if the organisation has no such person, PermissionDenied if their account is
    disabled. The first login of a person creates their account: no password, never admin.
    """
    with app.db.session() as session:
        person = person_by_email(session, identity.value)
        email = person.email
        known = session.scalar(select(WebAccount.id).where(WebAccount.person_id == person.id))
    if known is None:
        with suppress(InputError, IntegrityError):  # another tab's login made it just now
            create_account(app, email, actor=FIRST_LOGIN)
    with app.db.session() as session:
        account = session.scalars(
            select(WebAccount).where(WebAccount.person_id == person_by_email(session, email).id)
        ).one()
        if account.disabled_at is not None:
            raise PermissionDenied(f"the account of {email} is disabled")
        return _open(app, session, account, "oidc")
