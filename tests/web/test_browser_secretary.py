"""The secretary's main path in Debian's chromium, and a rektor refused another unit's dialog."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import Select, WebDriverWait

from styrhjul.clock import FixedClock
from styrhjul.services.context import App
from styrhjul.services.dialogs import open_due_preparations
from styrhjul.services.views import dialog_detail, list_dialogs

from .webkit import PASSWORD, ROLES, LiveServer, shot

pytestmark = pytest.mark.browser


def _log_in(browser: Any, live: LiveServer, who: str, target: str) -> None:
    browser.get(f"{live.url}{target}")
    browser.find_element(By.NAME, "email").send_keys(ROLES[who])
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}{target}"))


def _submit(browser: Any, form: Any, flash: str) -> None:
    """Confirm and send ``form``; wait for the next page's flash to say ``flash``."""
    before = browser.current_url
    form.find_element(By.CSS_SELECTOR, "input[name=confirm]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected.url_changes(before))
    # while the page changes chromedriver may report a node of the old one as an error
    WebDriverWait(browser, 20, ignored_exceptions=[WebDriverException]).until(
        expected.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash"), flash)
    )


def test_the_secretary_records_a_dialog_as_held_and_closes_it(
    live: LiveServer, planned_web: FastAPI, clock: FixedClock, browser: Any, tmp_path: Path
) -> None:
    app: App = planned_web.state.app
    row = next(d for d in list_dialogs(app) if d.unit == "vastra-skolan")
    clock.set(row.starts_at + timedelta(minutes=80))
    open_due_preparations(app)
    _log_in(browser, live, "secretary", "/sekreterare")
    browser.find_element(By.CSS_SELECTOR, f'a[href="/sekreterare/dialog/{row.id}"]').click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/sekreterare/dialog/{row.id}"))

    form = browser.find_element(By.CSS_SELECTOR, f'form[action$="/{row.id}/genomford"]')
    form.find_element(By.ID, "minutes").send_keys("Vi gick igenom kvalitetsrapporten.")
    form.find_element(By.NAME, "action_text").send_keys("Ta fram en plan för ökad närvaro")
    Select(form.find_element(By.NAME, "action_owner")).select_by_value(ROLES["rektor"])
    due = form.find_element(By.NAME, "action_due")
    browser.execute_script("arguments[0].value = '2026-12-01'", due)
    shot(browser, "secretary-dialog-before", tmp_path)
    _submit(browser, form, "registrerad som genomförd")
    assert "registrerad som genomförd" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert dialog_detail(app, row.id).dialog.state == "following_up"
    newest = browser.find_element(By.CSS_SELECTOR, "#historik tr.newest").text
    assert "Uppföljning pågår" in newest

    done = browser.find_element(By.CSS_SELECTOR, 'form[action$="/klar"]')
    _submit(browser, done, "markerad som klar")
    close = browser.find_element(By.CSS_SELECTOR, f'form[action$="/{row.id}/avsluta"]')
    close.find_element(By.NAME, "reason").send_keys("Allt klart")
    _submit(browser, close, "Uppföljningen är avslutad.")
    assert "Uppföljningen är avslutad." in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert "Allt klart" in browser.find_element(By.CSS_SELECTOR, "#historik tr.newest").text
    assert dialog_detail(app, row.id).dialog.state == "closed"
    assert shot(browser, "secretary-dialog", tmp_path).stat().st_size > 10_000


def test_a_rektor_is_refused_another_units_dialog(
    live: LiveServer, planned_web: FastAPI, browser: Any, tmp_path: Path
) -> None:
    app: App = planned_web.state.app
    other = next(d for d in list_dialogs(app) if d.unit == "ekbackens-forskoleomrade")
    target = f"/sekreterare/dialog/{other.id}"
    _log_in(browser, live, "rektor", target)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Åtkomst nekad"
    assert "Du har inte behörighet" in browser.find_element(By.CSS_SELECTOR, ".problem").text
    shot(browser, "secretary-refused", tmp_path)
