"""A participant in Debian's chromium: a rektor ticks a step on /mitt and sees it done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import WebDriverWait

from .webkit import PASSWORD, ROLES, LiveServer, shot

pytestmark = pytest.mark.browser


def test_a_rektor_ticks_a_step_and_opens_the_dialog(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    browser.get(f"{live.url}/login?next=/mitt")
    browser.find_element(By.NAME, "email").send_keys(ROLES["rektor"])
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/mitt"))
    assert shot(browser, "mitt", tmp_path).stat().st_size > 10_000
    form = browser.find_element(By.CSS_SELECTOR, "tr.mine form.tick")
    step = form.get_attribute("action").rsplit("/", 2)[-2]
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 20).until(expected.url_contains("klart="))
    row = browser.find_element(By.ID, f"steg-{step}")
    assert "Klart" in row.text
    assert row.find_elements(By.TAG_NAME, "form") == []
    assert "Klart:" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    shot(browser, "mitt-klart", tmp_path)
    browser.find_element(By.CSS_SELECTOR, ".agenda h2 a").click()
    WebDriverWait(browser, 20).until(expected.url_contains("/arenden/"))
    current = browser.find_element(By.CSS_SELECTOR, "svg.diagram g.current")
    assert current.get_attribute("data-state") == "planned"
    assert shot(browser, "arende", tmp_path).stat().st_size > 10_000
    browser.get(f"{live.url}/mitt/kalender")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    WebDriverWait(browser, 20).until(expected.presence_of_element_located((By.ID, "feed-url")))
    assert "/kalender/" in browser.find_element(By.ID, "feed-url").get_attribute("value")
    shot(browser, "kalender", tmp_path)
