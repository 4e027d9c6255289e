"""Fixtures for the notifications adapter: a renderer and a test certificate for TLS.

The sample meeting, the golden-file check and the SMTP handler are in tests/support.py;
the ``smtp_server`` fixture is in tests/conftest.py.
"""

from __future__ import annotations

import pytest
from support import Certificate

from styrhjul.notifications.render import Renderer


@pytest.fixture
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return Certificate(tmp_path_factory.mktemp("tls"))
