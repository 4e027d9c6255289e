"""A loopback OpenID Connect provider: the municipality's identity provider of the OIDC tests.

An ``http.server`` on 127.0.0.1 (port chosen by the OS) that does what a real provider
does for the authorization code flow with PKCE: discovery under its issuer (which has a
path, as Keycloak's realms do), a JWKS with a generated RSA key, ``/authorize`` that
consents at once for :attr:`FakeIdp.user` (or answers ``access_denied`` when there is none)
and redirects back with a one-time code, and ``/token`` that checks the client's secret
(HTTP Basic), the redirect URI and the PKCE verifier (S256) before it hands out an ID token
signed with RS256. Tests spoil the ID token on purpose with :attr:`FakeIdp.overrides`
(claims) and :attr:`FakeIdp.foreign_key` (a key the JWKS does not publish). Its clock is
the test's, so that tokens are issued at the application's "now".
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from support import loopback

REALM = "/realms/kommunen"
KID = "nyckel-1"


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A 2048-bit key per name, made once per test process (making one takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    """What an issued code stands for until it is redeemed."""

    redirect_uri: str
    challenge: str
    nonce: str
    claims: dict[str, Any]


@dataclass
class FakeIdp:
    """The provider's registration of Styrhjul, the signed-in user, and what it was asked."""

    now: Callable[[], datetime]
    redirect_uri: str = ""
    client_id: str = "styrhjul"
    client_secret: str = "idp-hemlighet-for-test"
    user: dict[str, Any] | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    foreign_key: bool = False
    url: str = ""
    grants: dict[str, Grant] = field(default_factory=dict)
    redeemed: set[str] = field(default_factory=set)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return self.url + REALM

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key("idp").public_key(), as_dict=True)
        return {"keys": [public | {"kid": KID, "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """(status, Location or an error text): the browser's visit to the login page."""
        self.authorize_requests.append(query)
        problems = [
            name
            for name, ok in (
                ("response_type", query.get("response_type") == "code"),
                ("client_id", query.get("client_id") == self.client_id),
                ("redirect_uri", query.get("redirect_uri") == self.redirect_uri),
                ("scope", "openid" in query.get("scope", "").split()),
                ("code_challenge_method", query.get("code_challenge_method") == "S256"),
                ("code_challenge", bool(query.get("code_challenge"))),
                ("nonce", bool(query.get("nonce"))),
            )
            if not ok
        ]
        if problems:  # never redirect to an unchecked URI: show the error to the user
            return 400, f"invalid request: {', '.join(problems)}"
        back = {"state": query.get("state", "")}
        if self.user is None:
            back["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(
                self.redirect_uri, query["code_challenge"], query["nonce"], dict(self.user)
            )
            back["code"] = code
        return 302, f"{self.redirect_uri}?{urllib.parse.urlencode(back)}"

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """(status, JSON body): the web app redeeming a code."""
        self.token_requests.append(form | {"authorization": authorization})
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        code = form.get("code", "")
        grant = self.grants.pop(code, None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            reused = code in self.redeemed
            return 400, {
                "error": "invalid_grant",
                "error_description": "code already used" if reused else "unknown code",
            }
        self.redeemed.add(code)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if form.get("redirect_uri") != grant.redirect_uri or challenge != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE or redirect_uri"}
        now = int(self.now().timestamp())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **grant.claims,
            **self.overrides,
        }
        key = rsa_key("foreign" if self.foreign_key else "idp")
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }


@contextmanager
def serving(idp: FakeIdp) -> Iterator[FakeIdp]:
    """Serve ``idp`` on loopback (setting its ``url``) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            if parts.path == f"{REALM}/.well-known/openid-configuration":
                self._json(200, idp.discovery())
            elif parts.path == f"{REALM}/certs":
                self._json(200, idp.jwks())
            elif parts.path == f"{REALM}/authorize":
                status, where = idp.authorize(query)
                if status == 302:
                    self._send(302, b"", "text/plain", Location=where)
                else:
                    self._send(status, where.encode(), "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            if urllib.parse.urlsplit(self.path).path != f"{REALM}/token":
                self._send(404, b"not found", "text/plain")
                return
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("ascii")))
            self._json(*idp.token(form, self.headers.get("Authorization", "")))

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads the requests the provider recorded."""

    with loopback(Handler) as url:
        idp.url = url
        yield idp
