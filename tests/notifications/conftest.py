"""Fixtures for the notifications adapter: a renderer, a TLS certificate, a token endpoint.

The sample meeting, the golden-file check and the SMTP handler are in tests/support.py;
the ``smtp_server`` fixture is in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import Certificate
from token_endpoint import TokenEndpoint, serving

from styrhjul.notifications.render import Renderer


@pytest.fixture
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return Certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def token_endpoint() -> Iterator[TokenEndpoint]:
    """A loopback OAuth2 token endpoint handing out ``token-1``; set ``tokens`` for more."""
    with serving(TokenEndpoint(tokens=["token-1"])) as endpoint:
        yield endpoint
