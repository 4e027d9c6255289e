"""The login page in Debian's chromium: a person logs in, sees the start page, logs out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import WebDriverWait

from .webkit import PASSWORD, ROLES, LiveServer, shot

pytestmark = pytest.mark.browser


def test_a_director_logs_in_and_out_in_chromium(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    browser.get(f"{live.url}/")
    assert browser.current_url.startswith(f"{live.url}/login")
    browser.find_element(By.NAME, "email").send_keys(ROLES["director"])
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/"))
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading.startswith("Välkommen")
    assert shot(browser, "start", tmp_path).stat().st_size > 10_000
    browser.find_element(By.CSS_SELECTOR, ".logout button").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/login"))
    browser.get(f"{live.url}/")
    assert browser.current_url.startswith(f"{live.url}/login")
