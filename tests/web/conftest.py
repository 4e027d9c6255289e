"""Fixtures of the web tests: the web app on the test's App, logged-in clients, a browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from styrhjul.services.context import App
from styrhjul.web.app import create_web_app

from .webkit import LiveServer, chromium, make_accounts


@pytest.fixture
def web(app: App) -> FastAPI:
    """The web app on the example organisation, with an account for each role."""
    make_accounts(app)
    return create_web_app(app)


@pytest.fixture
def planned_web(planned_app: App) -> FastAPI:
    """The web app on a planned round of dialogs, with an account for each role."""
    make_accounts(planned_app)
    return create_web_app(planned_app)


@pytest.fixture
def live(planned_web: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(planned_web) as server:
        yield server


@pytest.fixture
def browser(tmp_path: Any) -> Iterator[Any]:
    driver = chromium(tmp_path / "downloads")
    try:
        yield driver
    finally:
        driver.quit()
