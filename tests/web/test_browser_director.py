"""Försenat in Debian's chromium: the director finds an overdue step and opens its instance."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import WebDriverWait

from .webkit import PASSWORD, ROLES, LiveServer, shot

pytestmark = pytest.mark.browser


def _log_in(live: LiveServer, browser: Any, email: str) -> None:
    browser.get(f"{live.url}/login")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/"))


def test_the_director_follows_an_overdue_step_to_its_instance(
    planned_web: FastAPI, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    planned_web.state.app.clock.advance(timedelta(days=30))
    _log_in(live, browser, ROLES["director"])
    browser.find_element(By.LINK_TEXT, "Försenat").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/oversikt/forsenat"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Försenade steg"
    select = browser.find_element(By.NAME, "omrade")
    select.find_element(By.CSS_SELECTOR, "option[value=grundskola-norr]").click()
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected.url_contains("omrade=grundskola-norr"))
    shot(browser, "forsenat", tmp_path)
    link = browser.find_element(By.CSS_SELECTOR, "table.overdue td a[href^='/arenden/']")
    target = link.get_attribute("href")
    assert target.startswith(f"{live.url}/arenden/")
    link.click()
    WebDriverWait(browser, 20).until(expected.url_to_be(target))


def test_the_wheel_is_drawn_in_the_browser(live: LiveServer, browser: Any, tmp_path: Path) -> None:
    _log_in(live, browser, ROLES["area_head"])
    browser.get(f"{live.url}/oversikt/arshjul")
    picture = browser.find_element(By.CSS_SELECTOR, "figure.wheel img")
    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script("return arguments[0].naturalWidth", picture) > 0
    )
    assert shot(browser, "arshjul", tmp_path).stat().st_size > 10_000
    browser.find_element(By.PARTIAL_LINK_TEXT, "2027").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/oversikt/arshjul?ar=2027"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Årshjulet 2027"
