"""The secretary's main paths in Debian's chromium, and a rektor refused another unit's dialog.

A dialog recorded as held and closed; a meeting moved through the confirmation, its new
time typed the Swedish way in a browser whose own date format is American.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import Select, WebDriverWait

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.services.context import App
from styrhjul.services.dialogs import open_due_preparations
from styrhjul.services.meeting_views import meeting_detail
from styrhjul.services.meetings import schedule_meeting
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


def test_the_secretary_postpones_a_meeting_through_the_confirmation(
    live: LiveServer, planned_web: FastAPI, browser: Any, tmp_path: Path
) -> None:
    app: App = planned_web.state.app
    starts = datetime(2026, 9, 8, 13, tzinfo=STOCKHOLM)
    meeting = schedule_meeting(
        app, "lg", starts, actor=ROLES["secretary"], place="Jupiter"
    ).meeting_id
    _log_in(browser, live, "secretary", "/sekreterare")
    browser.find_element(By.CSS_SELECTOR, f'a[href="/sekreterare/mote/{meeting}"]').click()
    WebDriverWait(browser, 20).until(expected.url_to_be(f"{live.url}/sekreterare/mote/{meeting}"))

    form = browser.find_element(By.CSS_SELECTOR, f'form[action$="/{meeting}/flytta"]')
    # typed the Swedish way, in a browser whose own date format is American
    form.find_element(By.NAME, "new_day").send_keys("2026-09-10")
    when = form.find_element(By.NAME, "new_time")
    assert when.get_attribute("value") == "13:00"  # the current time, to change
    when.clear()
    when.send_keys("14.00")
    form.find_element(By.NAME, "reason").send_keys("Krock med nämndens sammanträde")
    shot(browser, "secretary-meeting-before", tmp_path)
    _submit(browser, form, "Mötet är flyttat till tor 10 sep 2026 14:00.")
    flash = browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert f"Historiken: tis 1 sep 2026 09:00 Flytta av {ROLES['secretary']}." in flash
    assert meeting_detail(app, meeting).meeting.starts_at == datetime(
        2026, 9, 10, 14, tzinfo=STOCKHOLM
    )
    newest = browser.find_element(By.CSS_SELECTOR, "#historik tr.newest").text
    assert "Flytta" in newest
    assert "Krock med nämndens sammanträde" in newest
    assert "tor 10 sep 2026 14:00" in browser.find_element(By.CSS_SELECTOR, ".facts").text
    browser.execute_script("window.scrollTo(0, 0)")  # the flash and the new time
    assert shot(browser, "secretary-meeting", tmp_path).stat().st_size > 10_000
