"""A loopback OAuth2 token endpoint: the identity platform the SMTP and EWS tests log in with.

An ``http.server`` on 127.0.0.1 (port chosen by the OS) answering the client-credentials
POST (RFC 6749, 4.4) with the tokens it is told to hand out, and recording every form it
gets. The ``token_endpoint`` fixture (conftest.py) starts one per test.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from support import loopback


@dataclass
class TokenEndpoint:
    """Hands out ``tokens`` in turn (the last one again when they run out), or ``status``."""

    tokens: list[str]
    status: int = 200
    expires_in: int = 3600
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    url: str = ""

    def answer(self, form: dict[str, list[str]]) -> tuple[int, dict[str, object]]:
        self.requests.append(form)
        if self.status != 200:
            return self.status, {"error": "invalid_client", "error_description": "AADSTS7000215"}
        token = self.tokens[min(len(self.requests), len(self.tokens)) - 1]
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}


@contextmanager
def serving(endpoint: TokenEndpoint) -> Iterator[TokenEndpoint]:
    """Serve ``endpoint`` on loopback (setting its ``url``) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("ascii"))
            status, body = endpoint.answer(form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads ``endpoint.requests``."""

    with loopback(Handler) as url:
        endpoint.url = f"{url}/tenant/oauth2/v2.0/token"
        yield endpoint
