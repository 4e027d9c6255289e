"""OAuth2 access tokens by the client-credentials grant (RFC 6749, section 4.4).

Exchange Online is switching off basic authentication for SMTP and EWS, so a service
account logs in with an access token from the organisation's identity platform (for
Microsoft 365, ``https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token``). A token
is fetched when first needed and reused until shortly before it expires. Plain urllib: the
request is one form POST, and the answer one JSON object.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from styrhjul.errors import DeliveryFailed

__all__ = ["ClientCredentials"]

_EARLY = timedelta(seconds=60)
"""A token is renewed this long before it expires, so it never expires in the middle of a send."""


@dataclass
class ClientCredentials:
    """Fetches and caches an access token; :meth:`token` is all a transport calls.

    ``now`` is the clock (a callable, so tests and the daemon pass theirs). A refusal by the
    identity platform (wrong secret, unknown client) is a permanent :class:`DeliveryFailed`;
    a network failure or a 5xx is temporary, so the outbox retries it later.
    """

    token_url: str
    client_id: str
    client_secret: str
    scope: str
    now: Callable[[], datetime]
    timeout: float = 30.0
    _token: str | None = field(default=None, repr=False)
    _expires: datetime | None = field(default=None, repr=False)

    def forget(self) -> None:
        """Drop the cached token, so the next :meth:`token` fetches a new one.

        The server that receives the token is its judge: one revoked early (a changed
        secret, a tenant policy) still looks valid to the cache until it expires.
        """
        self._token = None
        self._expires = None

    def token(self) -> str:
        """A valid access token, fetched anew only when the cached one is about to expire."""
        now = self.now()
        if self._token is not None and self._expires is not None and now < self._expires:
            return self._token
        body = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": self.scope,
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured token endpoint
            self.token_url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            permanent = 400 <= exc.code < 500 and exc.code != 429
            raise DeliveryFailed(
                f"token endpoint {self.token_url} answered {exc.code}: {detail}",
                permanent=permanent,
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryFailed(
                f"token endpoint {self.token_url} unreachable: {exc}", permanent=False
            ) from None
        except ValueError:
            raise DeliveryFailed(
                f"token endpoint {self.token_url} did not answer JSON", permanent=False
            ) from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise DeliveryFailed(
                f"token endpoint {self.token_url} gave no access_token", permanent=True
            )
        lifetime = answer.get("expires_in", 3600)
        seconds = (
            int(lifetime) if isinstance(lifetime, int | str) and str(lifetime).isdigit() else 3600
        )
        self._token = token
        self._expires = now + timedelta(seconds=seconds) - _EARLY
        return token
