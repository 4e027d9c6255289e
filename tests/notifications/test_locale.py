"""English as a second locale: every kind in both languages, chosen by the recipient.

The first half renders and composes sample records without a database: English words and
dates in English, Swedish unchanged (the golden files), HTML escaped, no silent fall-back.
The second half walks a planned dialog round on the real database, where the example
organisation's International School rektor reads English, and reads what the outbox holds.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select, update
from support import (
    PRINCIPAL,
    SENDER,
    STAMP,
    body_of,
    check_golden,
    dialog_id_of,
    keep_dialogs,
    make_invite,
)

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import ChecklistItem, OutboxMessage, Person
from styrhjul.errors import DefinitionError, InputError
from styrhjul.notifications.compose import compose_invite, compose_notice
from styrhjul.notifications.english import en_date, en_datetime, en_span, en_time
from styrhjul.notifications.notices import (
    Acknowledgement,
    AgreedAction,
    Digest,
    DigestGroup,
    DigestStep,
    HeldDialog,
    StepNotice,
)
from styrhjul.notifications.render import LOCALES, Renderer
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import cancel
from styrhjul.services.escalation import send_due_notices
from styrhjul.services.org_import import import_organisation

TOKYO = dt.timezone(dt.timedelta(hours=9))
STEP = StepNotice(
    step_id=169,
    title="Update the <quality> report & analysis",
    due=dt.datetime(2026, 9, 22, 16, 0, tzinfo=STOCKHOLM),
    reference="dialog 25",
    instance_title="Verksamhetsdialog International School",
    unit="International School of Exempelstad",
    assignee="Rektor International School of Exempelstad",
    days_overdue=3,
    level=2,
    previous="Verksamhetschef grundskola centrum",
    event=dt.datetime(2026, 10, 5, 13, 0, tzinfo=STOCKHOLM),
)
HELD = HeldDialog(
    reference="dialog 13",
    title="Verksamhetsdialog International School",
    unit="International School of Exempelstad",
    held_at=dt.datetime(2026, 10, 5, 13, 0, tzinfo=STOCKHOLM),
    own=(AgreedAction("Review <reading> results", "Rektor", dt.date(2026, 11, 30)),),
    others=(AgreedAction("Ordna fortbildning", "Verksamhetschef", dt.date(2026, 12, 14)),),
)
DIGEST = Digest(
    year=2026,
    week=39,
    as_of=dt.datetime(2026, 9, 25, 9, 0, tzinfo=STOCKHOLM),
    groups=(
        DigestGroup(
            "area_rektor",
            "Verksamhetsdialog",
            "International School of Exempelstad",
            (
                DigestStep(
                    "Samla in <fakta>",
                    "dialog 13",
                    "Verksamhetsdialog International School",
                    "Rektor",
                    dt.datetime(2026, 9, 17, 16, 0, tzinfo=STOCKHOLM),
                    6,
                    1,
                ),
            ),
        ),
    ),
)
ACK = Acknowledgement(
    unit="International School of Exempelstad",
    what="The step “Facts” in Verksamhetsdialog International School is done.",
    actor="Verksamhetschef grundskola centrum",
    at=dt.datetime(2026, 9, 18, 15, 5, tzinfo=STOCKHOLM),
)
CONTEXTS: dict[str, dict[str, Any]] = {
    "invite": {"invite": make_invite(summary="Budget <dialog> & plan")},
    "cancel": {"invite": make_invite(method="CANCEL", sequence=2, reason="Sjukdom")},
    "reminder": {"step": replace(STEP, days_overdue=0, level=0, previous="")},
    "overdue": {"step": replace(STEP, level=0, previous="")},
    "escalation": {"step": STEP},
    "acknowledgement": {"ack": ACK},
    "held": {"held": HELD},
    "digest": {"digest": DIGEST},
}
"""A context for every message kind."""
EXPECTED: dict[str, tuple[str, str, str, str]] = {
    "invite": ("Invitation: ", "You are invited to", "Inbjudan: ", "Du är inbjuden till"),
    "cancel": ("Cancelled: ", "is cancelled", "Inställt: ", "är inställt"),
    "reminder": ("Reminder: ", "A reminder of a step", "Påminnelse: ", "Påminnelse om ett steg"),
    "overdue": ("Overdue: ", "was due Tuesday 22 September", "Försenat: ", "skulle ha varit"),
    "escalation": ("Escalation (level 2): ", "3 working days overdue", "Eskalering", "försenat"),
    "acknowledgement": ("Acknowledgement: ", "You do not need", "Kvittens: ", "behöver inte"),
    "held": ("The dialog was held", "Your agreed actions", "Dialogen är genomförd", "Dina över"),
    "digest": ("Weekly digest, week 39 2026: 1 overdue step", "by level and unit",
               "Veckosammanställning vecka 39 2026: 1 försenat steg", "per nivå och enhet"),
}  # fmt: skip
"""Per kind: English subject and body words, then Swedish subject and body words."""
ENGLISH = re.compile(r"\b(Hello|Kind regards|Responsible|Reference|This message|working days?)\b")


def _kinds() -> list[str]:
    """Every kind with Swedish templates, read from the package (not from a list here)."""
    root = files("styrhjul.notifications") / "templates"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "subject.txt").is_file())


def test_every_kind_has_templates_in_every_locale() -> None:
    root = files("styrhjul.notifications") / "templates"
    kinds = _kinds()
    assert set(kinds) == set(CONTEXTS)
    for locale, folder in LOCALES.items():
        for kind in kinds:
            for part in ("subject.txt", "body.txt", "body.html"):
                assert (root / f"{folder}{kind}" / part).is_file(), f"{locale}: {kind}/{part}"


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_english_recipients_read_english_and_swedish_ones_swedish(
    renderer: Renderer, kind: str
) -> None:
    context = {"recipient": PRINCIPAL, "sender": SENDER, **CONTEXTS[kind]}
    en_subject, en_subject_words_text, sv_subject, sv_words = EXPECTED[kind]
    subject, text, html = renderer.render(kind, "en", **context)
    assert subject.startswith(en_subject)
    assert en_subject_words_text in text
    assert text.startswith("Hello,")
    assert "Kind regards" in text
    # The wording is English; only the data (unit names, sample texts) may be Swedish.
    assert not re.search(r"\b(Hej|Med vänliga hälsningar|senast|Ärende|Ansvarig|kl\.)", text)
    assert '<html lang="en">' in html
    assert "Kind regards" in html

    sv_subject_text, sv_text, sv_html = renderer.render(kind, "sv", **context)
    assert sv_subject_text.startswith(sv_subject)
    assert sv_words in sv_text
    assert sv_text.startswith("Hej!")
    assert not ENGLISH.search(sv_text.replace("International School of Exempelstad", ""))
    assert '<html lang="sv">' in sv_html
    assert renderer.render(kind, **context) == (sv_subject_text, sv_text, sv_html)  # the default


MARKUP = {
    "invite": "<dialog>",
    "reminder": "<quality>",
    "overdue": "<quality>",
    "escalation": "<quality>",
    "held": "<reading>",
    "digest": "<fakta>",
}
"""The markup each kind's sample record carries (cancel and acknowledgement carry none)."""


@pytest.mark.parametrize("kind", sorted(MARKUP))
def test_english_html_is_escaped(renderer: Renderer, kind: str) -> None:
    context = {"recipient": PRINCIPAL, "sender": SENDER, **CONTEXTS[kind]}
    _, text, html = renderer.render(kind, "en", **context)
    raw = MARKUP[kind]
    assert raw not in html
    assert raw.replace("<", "&lt;").replace(">", "&gt;") in html
    assert raw in text  # plain text is not escaped


def test_english_dates_times_and_spans() -> None:
    morning = dt.datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM)
    assert en_date(dt.date(2026, 10, 6)) == "Tuesday 6 October 2026"
    assert en_time(morning.replace(hour=16, minute=30)) == "16:30"  # 24-hour clock
    assert en_datetime(morning) == "Tuesday 6 October 2026 at 09:00"
    assert en_span(morning, morning + timedelta(minutes=90)) == (
        "Tuesday 6 October 2026, 09:00\N{EN DASH}10:30"
    )
    late = dt.datetime(2026, 3, 28, 23, 0, tzinfo=STOCKHOLM)
    assert en_span(late, late.astimezone(dt.UTC) + timedelta(hours=3)) == (
        "Saturday 28 March 2026 at 23:00 \N{EN DASH} Sunday 29 March 2026 at 03:00"
    )  # across midnight and the spring change (CET to CEST)
    # An instant in another zone is shown in Stockholm time, the date with it.
    assert en_datetime(dt.datetime(2026, 1, 2, 7, 0, tzinfo=TOKYO)) == (
        "Thursday 1 January 2026 at 23:00"
    )
    with pytest.raises(InputError, match="no time zone"):
        en_time(dt.datetime(2026, 1, 2, 7, 0))  # noqa: DTZ001 - naive on purpose


def test_an_unknown_locale_and_a_missing_english_template_are_errors(renderer: Renderer) -> None:
    context = {"recipient": PRINCIPAL, "sender": SENDER, **CONTEXTS["reminder"]}
    with pytest.raises(InputError, match="unknown locale 'de'; known: sv, en"):
        renderer.render("reminder", "de", **context)
    # No fall-back to Swedish: the error names the kind and the locale.
    with pytest.raises(InputError, match="for message kind 'weather' in locale 'en'"):
        renderer.render("weather", "en", **context)


def test_swedish_messages_still_match_their_golden_files(renderer: Renderer) -> None:
    subject, text, _ = renderer.render(
        "reminder", "sv", recipient=PRINCIPAL, sender=SENDER, step=_golden_step()
    )
    check_golden("reminder.txt", f"{subject}\n\n{text}")
    invite = make_invite(sequence=1, reason="Krock med nämndens sammanträde.")
    message = compose_invite(
        invite, PRINCIPAL, sender=SENDER, key="k", stamp=STAMP, renderer=renderer, locale="sv"
    )
    part = message.get_body(("plain",))
    assert part is not None
    check_golden("invite_updated.txt", f"{message['Subject']}\n\n{part.get_content()}")
    assert message["Content-Language"] == "sv"


def _golden_step() -> StepNotice:
    return StepNotice(
        step_id=169,
        title="Uppdatera kvalitetsrapporten med analys och bedömning",
        due=dt.datetime(2026, 9, 22, 16, 0, tzinfo=STOCKHOLM),
        reference="dialog 25",
        instance_title="Verksamhetsdialog Västra skolan",
        unit="Västra skolan",
        assignee="Rektor, Västra skolan",
        event=dt.datetime(2026, 10, 6, 14, 30, tzinfo=STOCKHOLM),
    )


def _calendar(message: EmailMessage) -> bytes:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def test_an_english_invite_has_english_text_and_the_same_calendar(renderer: Renderer) -> None:
    invite = make_invite()
    common: dict[str, Any] = {"sender": SENDER, "key": "k", "stamp": STAMP, "renderer": renderer}
    english = compose_invite(invite, PRINCIPAL, locale="en", **common)
    swedish = compose_invite(invite, PRINCIPAL, **common)
    assert english["Content-Language"] == "en"
    assert (
        english["Subject"]
        == "Invitation: Budgetdialog, Västra skolan, Tuesday 6 October 2026 at 09:00"
    )
    assert _calendar(english) == _calendar(swedish)  # one calendar for every attendee
    summary = Calendar.from_ical(_calendar(english)).walk("VEVENT")[0]["SUMMARY"]
    assert str(summary) == "Budgetdialog, Västra skolan"
    notice = compose_notice(
        "overdue", PRINCIPAL, locale="en", step=replace(STEP, level=0, previous=""), **common
    )
    assert notice["Content-Language"] == "en"
    assert str(notice["Subject"]).startswith("Overdue: Update the <quality> report & analysis")


# --- on the database: the example's English-reading rektor ----------------------------------

INTL_RECTOR = "rektor.international-school@example.se"
INTL_HEAD = "verksamhetschef.grundskola-centrum@example.se"
NORR_RECTOR = "rektor.norrbackaskolan@example.se"
NORR_HEAD = "verksamhetschef.grundskola-norr@example.se"
SUBJECTS = {
    "invite": ("Invitation: ", "Inbjudan: "),
    "reminder": ("Reminder: ", "Påminnelse: "),
    "overdue": ("Overdue: ", "Försenat: "),
    "escalation": ("Escalation (level 1): ", "Eskalering (nivå 1): "),
    "acknowledgement": ("Acknowledgement: The step “", "Kvittens: Steget ”"),
    "cancel": ("Cancelled: ", "Inställt: "),
}


def _messages(app: App, to: str) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    with app.db.session() as session:
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient.contains(to))
        ):
            message = email.message_from_bytes(row.payload, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.setdefault(row.kind, []).append(message)
    return found


def test_every_kind_follows_the_recipients_locale(planned_app: App, clock: FixedClock) -> None:
    app = planned_app
    keep_dialogs(app, "international-school", "norrbackaskolan")
    with app.db.session() as session:  # the International School's area head reads English too
        session.execute(update(Person).where(Person.email == INTL_HEAD).values(locale="en"))
    day = clock.now()
    while day.date() <= dt.date(2026, 9, 25):  # reminders, overdue notices, escalations
        clock.set(day)
        send_due_notices(app)
        day += timedelta(days=1)
    with app.db.session() as session:
        head_step = session.scalar(
            select(ChecklistItem.id).where(
                ChecklistItem.instance_id == dialog_id_of(app, "international-school"),
                ChecklistItem.key == "quality_criteria",
            )
        )
    assert head_step is not None
    complete_step(app, head_step, actor=INTL_HEAD)  # a kvittens to the rektor
    cancel(app, dialog_id_of(app, "international-school"), actor=INTL_HEAD, reason="Sjukdom")
    cancel(
        app,
        dialog_id_of(app, "norrbackaskolan"),
        actor=NORR_RECTOR.replace("rektor.norrbackaskolan", "verksamhetschef.grundskola-norr"),
        reason="Sjukdom",
    )

    english = _messages(app, INTL_RECTOR) | {"escalation": _messages(app, INTL_HEAD)["escalation"]}
    swedish = _messages(app, NORR_RECTOR)
    swedish["escalation"] = _messages(app, NORR_HEAD)["escalation"]
    swedish["acknowledgement"] = []  # the area head ticks nothing at Norrbackaskolan
    for kind, (en_prefix, sv_prefix) in SUBJECTS.items():
        assert english.get(kind), f"no {kind} to the English reader"
        for message in english[kind]:
            assert str(message["Subject"]).startswith(en_prefix), kind
            assert message["Content-Language"] == "en"
            text = body_of(message)
            assert text.startswith("Hello,"), kind
            assert "Kind regards" in text
            assert "Med vänliga hälsningar" not in text
        for message in swedish.get(kind, []):
            assert str(message["Subject"]).startswith(sv_prefix), kind
            assert message["Content-Language"] == "sv"
            assert body_of(message).startswith("Hej!")
        assert kind == "acknowledgement" or swedish.get(kind), f"no {kind} to the Swedish reader"
    ack = body_of(english["acknowledgement"][0])
    assert re.search(
        r"The step “[^”]+” in Verksamhetsdialog International School of Exempelstad is done\.", ack
    )
    assert "Steget" not in ack


# --- organisation files ----------------------------------------------------------------------

ORG = """valid_from = 2024-08-01

[[unit]]
code = "root"
name = "Förvaltningen"
kind = "administration"

[[person]]
email = "a@example.se"
title = "Direktör"
{locale}
"""


def test_an_organisation_file_sets_a_persons_locale(empty_app: App, tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(ORG.format(locale='locale = "en"'), encoding="utf-8")
    assert import_organisation(empty_app, path).people_added == 1
    assert _locale(empty_app, "a@example.se") == "en"
    path.write_text(ORG.format(locale=""), encoding="utf-8")  # back to the default
    assert import_organisation(empty_app, path).people_updated == 1
    assert _locale(empty_app, "a@example.se") == "sv"
    path.write_text(ORG.format(locale='locale = "de"'), encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        import_organisation(empty_app, path)
    message = str(refused.value)
    assert "unknown locale 'de'; expected one of sv, en" in message
    assert "org.toml:11: person[0].locale: " in message  # file, line and key


def test_the_example_international_school_rektor_reads_english(app: App) -> None:
    assert _locale(app, INTL_RECTOR) == "en"
    assert _locale(app, NORR_RECTOR) == "sv"


def _locale(app: App, email_address: str) -> str:
    with app.db.session() as session:
        found = session.scalar(select(Person.locale).where(Person.email == email_address))
    assert found is not None
    return found
