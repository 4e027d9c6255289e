"""The administrators' pages in Debian's chromium: an admin creates an account and disables it."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import Select, WebDriverWait

from styrhjul.errors import NotAuthenticated
from styrhjul.services.accounts import log_in
from styrhjul.services.context import App
from styrhjul.workflows import definition_path

from .webkit import PASSWORD, ROLES, LiveServer, shot

pytestmark = pytest.mark.browser

NEWCOMER = "verksamhetschef.forskola@example.se"
NEW_PASSWORD = "ett-nytt-losenord-2026"


def _log_in(browser: Any, url: str, email: str) -> None:
    browser.get(f"{url}/login")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(
        By.XPATH, "//input[@name='password']/ancestor::form//button[@type='submit']"
    ).click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{url}/"))


def test_an_admin_creates_an_account_and_disables_it_in_chromium(
    planned_web: FastAPI, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    app: App = planned_web.state.app
    _log_in(browser, live.url, ROLES["admin"])
    browser.find_element(By.LINK_TEXT, "Administration").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/admin"))
    shot(browser, "admin-start", tmp_path)
    browser.find_element(By.CSS_SELECTOR, ".admin-nav a[href='/admin/konton']").click()
    Select(browser.find_element(By.NAME, "email")).select_by_value(NEWCOMER)
    browser.find_element(By.NAME, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.NAME, "password2").send_keys(NEW_PASSWORD)
    shot(browser, "admin-accounts", tmp_path)
    browser.find_element(By.XPATH, "//button[text()='Skapa konto']").click()
    WebDriverWait(browser, 20).until(expected.url_contains("/admin/konton/"))
    assert f"Konto skapat för {NEWCOMER}" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert log_in(app, NEWCOMER, NEW_PASSWORD).person_id > 0

    disable = browser.find_element(By.XPATH, "//form[contains(@action, '/inaktivera')]")
    disable.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "Inaktiverat" not in browser.find_element(By.CSS_SELECTOR, ".facts").text
    # the box is required: the browser does not send the form until it is ticked
    disable = browser.find_element(By.XPATH, "//form[contains(@action, '/inaktivera')]")
    disable.find_element(By.NAME, "confirm").click()
    disable.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # waiting on the address, not on an element of the page being left (which may vanish
    # between finding and reading it): the flash message travels in the query string
    WebDriverWait(browser, 20).until(expected.url_contains("inaktiverat"))
    assert "inaktiverat" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert "Inaktiverat" in browser.find_element(By.CSS_SELECTOR, ".facts").text
    assert "Inaktiverades" in browser.find_element(By.CSS_SELECTOR, ".timeline").text
    assert shot(browser, "admin-account", tmp_path).stat().st_size > 10_000
    with pytest.raises(NotAuthenticated):
        log_in(app, NEWCOMER, NEW_PASSWORD)

    browser.get(f"{live.url}/admin/personer?q=norr")
    shot(browser, "admin-people", tmp_path)
    browser.get(f"{live.url}/admin/arbetsfloden")
    shot(browser, "admin-workflows", tmp_path)
    assert browser.find_elements(By.CSS_SELECTOR, "table.workflows tbody tr")


def test_an_admin_checks_a_definition_and_an_organisation_file_in_chromium(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    """The check pages show a diff and a located error; nothing is installed or imported."""
    _log_in(browser, live.url, ROLES["admin"])
    shipped = definition_path("team_dialog").read_text(encoding="utf-8")
    raised = tmp_path / "team_dialog.toml"
    raised.write_text(
        shipped.replace("version = 1", "version = 2", 1).replace(
            'title = "Dialog med arbetslag"', 'title = "Dialog med arbetslaget"', 1
        ),
        encoding="utf-8",
    )
    browser.get(f"{live.url}/admin/arbetsfloden")
    browser.find_element(By.NAME, "fil").send_keys(str(raised))
    browser.find_element(By.XPATH, "//button[text()='Kontrollera definitionen']").click()
    # the check page has the listing's address (a POST to it): wait for its content
    WebDriverWait(browser, 20).until(
        expected.presence_of_element_located((By.CSS_SELECTOR, "table.changes"))
    )
    caption = browser.find_element(By.CSS_SELECTOR, "table.changes caption").text
    assert caption.startswith("Skillnader mot installerad version 1")
    assert "Dialog med arbetslaget" in browser.find_element(By.CSS_SELECTOR, "table.changes").text
    assert browser.find_element(By.XPATH, "//button[text()='Installera version 2']")
    shot(browser, "admin-workflow-check", tmp_path)

    broken = tmp_path / "organisation.toml"
    broken.write_text('valid_from = 2024-08-01\n\n[[unit]]\ncode = "Fel kod"\n', encoding="utf-8")
    browser.get(f"{live.url}/admin/personer")
    browser.find_element(By.NAME, "fil").send_keys(str(broken))
    browser.find_element(By.XPATH, "//button[text()='Kontrollera filen']").click()
    WebDriverWait(browser, 20).until(
        expected.presence_of_element_located((By.CSS_SELECTOR, "ul.problems"))
    )
    assert "organisation.toml:4" in browser.find_element(By.CSS_SELECTOR, "ul.problems").text
    shot(browser, "admin-org-check", tmp_path)

    example = files("styrhjul.examples").joinpath("organisation.toml").read_text(encoding="utf-8")
    changed = tmp_path / "ny-organisation.toml"
    changed.write_text(
        example.replace('title = "Rektor Västra skolan"', 'title = "Rektor, Västra skolan"'),
        encoding="utf-8",
    )
    browser.get(f"{live.url}/admin/personer")
    browser.find_element(By.NAME, "fil").send_keys(str(changed))
    browser.find_element(By.XPATH, "//button[text()='Kontrollera filen']").click()
    WebDriverWait(browser, 20).until(
        expected.presence_of_element_located((By.CSS_SELECTOR, "table.changes"))
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")
    assert [r.text for r in rows] == [
        "Person Ändras rektor.vastra-skolan@example.se"
        " Rektor Västra skolan (sv) → Rektor, Västra skolan (sv)"
    ]
    shot(browser, "admin-org-changes", tmp_path)
    browser.get(f"{live.url}/admin/arbetsfloden/dialog_round")
    assert "Definition, version 1" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "admin-workflow", tmp_path)
