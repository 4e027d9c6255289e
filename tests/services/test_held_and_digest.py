"""Agreed actions after a held dialog, and the director's weekly digest, end to end.

Round 1 of 2026/27 is planned (``planned_app``); messages are drained by the real outbox
into the real Maildir and read back from there. The International School's rektor reads
English (``locale = "en"`` in the example organisation); everyone else Swedish.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from datetime import date, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update
from support import body_of, dialog_id_of, keep_dialogs

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import Dialog, OutboxMessage, Person
from styrhjul.notifications.notices import working_days_text
from styrhjul.services.context import App
from styrhjul.services.dialogs import AgreementInput, hold, open_due_preparations
from styrhjul.services.digest import digest_key, send_weekly_digest
from styrhjul.services.escalation import send_due_notices
from styrhjul.services.invites import enqueue_agreed_actions
from styrhjul.services.outbox import dispatch
from styrhjul.services.overdue import overdue_steps
from styrhjul.services.views import dialog_detail

RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
INTL_RECTOR = "rektor.international-school@example.se"
INTL_HEAD = "verksamhetschef.grundskola-centrum@example.se"
DIRECTOR = "utbildningsdirektor@example.se"


DEC_1 = date(2026, 12, 1)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=STOCKHOLM)


def _delivered(app: App, kind: str) -> list[EmailMessage]:
    """Send the outbox, then read every message of ``kind`` back from the Maildir."""
    dispatch(app)
    with app.db.session() as session:
        ids = set(
            session.scalars(select(OutboxMessage.message_id).where(OutboxMessage.kind == kind))
        )
    found = []
    for raw in mailbox.Maildir(app.settings.maildir_path, create=False):
        message = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["Message-ID"] in ids:
            found.append(message)
    return sorted(found, key=_to)


def _to(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def _hold(app: App, clock: FixedClock, unit: str, agreements: list[AgreementInput]) -> int:
    dialog_id = dialog_id_of(app, unit)
    detail = dialog_detail(app, dialog_id)
    clock.set(detail.prepare_at)
    open_due_preparations(app)
    clock.set(detail.dialog.starts_at + timedelta(minutes=80))
    hold(app, dialog_id, actor=detail.dialog.organizer, minutes="Protokoll", agreements=agreements)
    return dialog_id


# --- held -----------------------------------------------------------------------------------


def test_each_owner_gets_one_message_with_their_own_actions_first(
    planned_app: App, clock: FixedClock
) -> None:
    app = planned_app
    dialog_id = _hold(
        app,
        clock,
        "vastra-skolan",
        [
            AgreementInput(
                "Analysera resultaten i åk 6 <matematik> & NO", RECTOR, date(2026, 12, 1)
            ),
            AgreementInput("Stöd från Pedagogiskt center", HEAD, date(2026, 12, 15)),
            AgreementInput("Följ upp närvaron", RECTOR, date(2027, 1, 20)),
        ],
    )
    with app.db.session() as session:
        keys = sorted(
            session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "held"))
        )
        # The same cause never yields a second message: enqueueing again adds nothing.
        dialog = session.get(Dialog, dialog_id)
        assert dialog is not None
        assert enqueue_agreed_actions(app, session, dialog) == 0
    assert keys == [f"held:{dialog_id}:{RECTOR}", f"held:{dialog_id}:{HEAD}"]
    rector_mail, head_mail = _delivered(app, "held")
    assert (_to(rector_mail), _to(head_mail)) == (RECTOR, HEAD)
    assert rector_mail["Subject"].startswith("Dialogen är genomförd – dina överenskomna åtgärder:")
    assert "Verksamhetsdialog Västra skolan, tisdag 6 oktober 2026" in rector_mail["Subject"]
    assert rector_mail.get_content_type() == "multipart/alternative"  # no calendar part
    assert all(p.get_content_type() != "text/calendar" for p in rector_mail.walk())

    text = body_of(rector_mail)
    own, others = text.index("Dina överenskomna åtgärder"), text.index("Övriga överenskomna")
    first = text.index("Analysera resultaten i åk 6 <matematik> & NO, senast tisdag 1 december")
    third = text.index("Följ upp närvaron, senast onsdag 20 januari 2027.")
    head_action = text.index("Stöd från Pedagogiskt center, senast tisdag 15 december 2026.")
    assert own < first < third < others < head_action
    assert "Ansvarig: Verksamhetschef" in text[others:]
    assert "med Västra skolan genomfördes tisdag 6 oktober 2026 kl. 14.30" in text

    head_text = body_of(head_mail)
    assert head_text.index("Stöd från Pedagogiskt center") < head_text.index("Övriga")
    assert head_text.index("Övriga") < head_text.index("Analysera resultaten")

    html = body_of(rector_mail, "html")
    assert "&lt;matematik&gt; &amp; NO" in html
    assert "<matematik>" not in html


def test_an_english_owner_reads_english_and_a_swedish_one_swedish(
    planned_app: App, clock: FixedClock
) -> None:
    app = planned_app
    _hold(
        app,
        clock,
        "international-school",
        [
            AgreementInput("Review the reading results", INTL_RECTOR, date(2026, 11, 30)),
            AgreementInput("Ordna fortbildning", INTL_HEAD, date(2026, 12, 14)),
        ],
    )
    english, swedish = sorted(_delivered(app, "held"), key=lambda m: _to(m) != INTL_RECTOR)
    assert _to(english) == INTL_RECTOR
    assert english["Subject"].startswith("The dialog was held – your agreed actions:")
    assert english["Content-Language"] == "en"
    text = body_of(english)
    assert "Your agreed actions" in text
    assert "Other agreed actions" in text
    assert "Review the reading results, by Monday 30 November 2026." in text
    assert "was held Monday 5 October 2026 at 13:00" in text
    assert "Dina" not in text
    assert "senast" not in text
    assert '<html lang="en">' in body_of(english, "html")
    assert swedish["Subject"].startswith("Dialogen är genomförd")
    assert swedish["Content-Language"] == "sv"
    assert "Dina överenskomna åtgärder" in body_of(swedish)


def test_a_dialog_held_without_agreements_sends_nothing(
    planned_app: App, clock: FixedClock
) -> None:
    _hold(planned_app, clock, "vastra-skolan", [])
    assert _delivered(planned_app, "held") == []


# --- the weekly digest ----------------------------------------------------------------------

KEPT = ("vastra-skolan", "norrbackaskolan", "international-school")


@pytest.fixture
def digest_app(planned_app: App) -> App:
    """Three dialogs kept; the International School's is moved to a second level.

    Round 1 plans only ``area_rektor`` dialogs; giving one dialog the board level shows
    the grouping by level without planning a second workflow.
    """
    keep_dialogs(planned_app, *KEPT)
    with planned_app.db.session() as session:
        session.execute(
            update(Dialog)
            .where(Dialog.id == dialog_id_of(planned_app, "international-school"))
            .values(level="council_board")
        )
    return planned_app


def _groups(text: str) -> dict[str, list[str]]:
    """Heading -> the step lines under it, from a digest's plain text."""
    groups: dict[str, list[str]] = {}
    heading = None
    for line in text.splitlines():
        if " – " in line and not line.startswith("- "):
            heading = line
            groups[heading] = []
        elif line.startswith("- ") and heading is not None:
            groups[heading].append(line)
        elif not line:
            heading = None if heading is None or groups[heading] else heading
    return groups


def test_the_digest_lists_overdue_steps_by_level_and_unit(
    digest_app: App, clock: FixedClock
) -> None:
    app = digest_app
    clock.set(at(9, 25))  # Friday: every kept dialog's early steps are past due
    assert send_due_notices(app).escalated  # so that the digest has escalation levels to show
    expected = overdue_steps(app, unit="sff")
    assert {r.escalation_level for r in expected} == {0, 1}
    assert len({(r.level, r.unit_name) for r in expected}) == 3
    assert send_weekly_digest(app) == 1

    (message,) = _delivered(app, "digest")
    assert _to(message) == DIRECTOR
    assert message["Subject"] == (
        f"Veckosammanställning vecka 39 2026: {len(expected)} försenade steg"
    )
    groups = _groups(body_of(message))
    # Levels in order of their code (area_rektor before council_board), then units by name.
    assert list(groups) == [
        "Verksamhetsdialog – Norrbackaskolan",
        "Verksamhetsdialog – Västra skolan",
        "Budgetdialog med nämnd – International School of Exempelstad",
    ]
    title = {"area_rektor": "Verksamhetsdialog", "council_board": "Budgetdialog med nämnd"}
    for row in expected:
        lines = groups[f"{title[row.level]} – {row.unit_name}"]
        (line,) = [line for line in lines if line.startswith(f"- {row.title} (")]
        days = working_days_text(row.days_overdue)
        assert f"dialog {row.instance_id}" in line
        if row.escalation_level:
            assert line.endswith(f"försenat {days}, eskaleringsnivå {row.escalation_level}.")
        else:
            assert line.endswith(f"försenat {days}.")
    assert sum(len(lines) for lines in groups.values()) == len(expected)


def test_the_digest_goes_once_a_week(digest_app: App, clock: FixedClock) -> None:
    app = digest_app
    clock.set(at(9, 21))  # Monday of week 39
    assert send_weekly_digest(app) == 1
    assert send_weekly_digest(app) == 0
    clock.set(at(9, 27, 20))  # Sunday evening, same ISO week
    assert send_weekly_digest(app) == 0
    assert send_weekly_digest(app, date(2026, 9, 23)) == 0  # naming the week changes nothing
    clock.set(at(9, 28))  # Monday of week 40
    assert send_weekly_digest(app) == 1
    with app.db.session() as session:
        keys = list(
            session.scalars(
                select(OutboxMessage.key)
                .where(OutboxMessage.kind == "digest")
                .order_by(OutboxMessage.id)
            )
        )
    assert keys == [f"digest:2026-W39:{DIRECTOR}", f"digest:2026-W40:{DIRECTOR}"]
    assert digest_key(date(2027, 1, 1), DIRECTOR) == f"digest:2026-W53:{DIRECTOR}"  # ISO year


def test_a_clean_week_still_sends_inget_forsenat(planned_app: App) -> None:
    # 1 September: nothing is due yet anywhere.
    assert overdue_steps(planned_app) == []
    assert send_weekly_digest(planned_app) == 1
    (message,) = _delivered(planned_app, "digest")
    assert message["Subject"] == "Veckosammanställning vecka 36 2026: inget försenat"
    assert "Inget försenat: inga steg i dina enheter är försenade" in body_of(message)


def test_an_english_director_gets_the_digest_in_english(digest_app: App, clock: FixedClock) -> None:
    app = digest_app
    with app.db.session() as session:
        session.execute(update(Person).where(Person.email == DIRECTOR).values(locale="en"))
    clock.set(at(9, 25))
    assert send_weekly_digest(app) == 1
    (message,) = _delivered(app, "digest")
    count = len(overdue_steps(app, unit="sff"))
    assert message["Subject"] == f"Weekly digest, week 39 2026: {count} overdue steps"
    text = body_of(message)
    assert "These are the overdue steps in your units" in text
    assert re.search(r"Was due \w+day \d+ September 2026, \d+ working days? overdue", text)
    assert "försenat" not in text
