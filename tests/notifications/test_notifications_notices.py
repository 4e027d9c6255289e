"""Plain notices: reminders, overdue notices, escalations and kvittenser, rendered and composed.

Each kind is checked against a golden file (subject and plain text) and parsed back with
``email``: one ``multipart/alternative`` with text and HTML, no calendar, and the same
headers as an invite.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest
from jinja2 import UndefinedError
from support import PRINCIPAL, SENDER, STAMP, check_golden

from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError
from styrhjul.notifications.compose import compose_notice, message_id_for
from styrhjul.notifications.messages import Party
from styrhjul.notifications.notices import Acknowledgement, StepNotice, working_days_text
from styrhjul.notifications.render import Renderer

HEAD = Party("vc.norr@skola.helsingborg.test", "Verksamhetschef grundskola norr")
ENGLISH = re.compile(
    r"\b(the|step|reminder|overdue|escalat\w*|level|due|assignee|acknowledge\w*|dear|"
    r"regards|unit|done|when|by)\b",
    re.IGNORECASE,
)

STEP = StepNotice(
    step_id=169,
    title="Uppdatera kvalitetsrapporten med analys och bedömning",
    due=dt.datetime(2026, 9, 22, 16, 0, tzinfo=STOCKHOLM),
    reference="dialog 25",
    instance_title="Verksamhetsdialog Västra skolan",
    unit="Västra skolan",
    assignee="Rektor, Västra skolan",
    event=dt.datetime(2026, 10, 6, 14, 30, tzinfo=STOCKHOLM),
)
ACK = Acknowledgement(
    unit="Västra skolan",
    what="Steget ”Fastställ kvalitetskriterier” i Verksamhetsdialog Västra skolan är klart.",
    actor="Verksamhetschef grundskola norr",
    at=dt.datetime(2026, 9, 18, 15, 5, tzinfo=STOCKHOLM),
)
CASES: dict[str, tuple[str, Party, dict[str, Any]]] = {
    "reminder.txt": ("reminder", PRINCIPAL, {"step": STEP}),
    "overdue.txt": ("overdue", PRINCIPAL, {"step": replace(STEP, days_overdue=1)}),
    "escalation_1.txt": ("escalation", HEAD, {"step": replace(STEP, days_overdue=2, level=1)}),
    "escalation_2.txt": (
        "escalation",
        HEAD,
        {
            "step": replace(
                STEP, days_overdue=5, level=2, previous="Verksamhetschef grundskola norr"
            )
        },
    ),
    "acknowledgement.txt": ("acknowledgement", PRINCIPAL, {"ack": ACK}),
}


def parse_back(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("golden", sorted(CASES))
def test_notice_matches_its_golden_file(renderer: Renderer, golden: str) -> None:
    kind, recipient, context = CASES[golden]
    subject, text, _ = renderer.render(kind, recipient=recipient, sender=SENDER, **context)
    check_golden(golden, f"{subject}\n\n{text}")


@pytest.mark.parametrize("golden", sorted(CASES))
def test_notice_is_text_and_html_and_parses_back(renderer: Renderer, golden: str) -> None:
    kind, recipient, context = CASES[golden]
    key = f"{kind}:169"
    message = parse_back(
        compose_notice(
            kind, recipient, sender=SENDER, key=key, stamp=STAMP, renderer=renderer, **context
        )
    )
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == "utf-8"
    assert message["Message-ID"] == message_id_for(key, SENDER.domain)
    assert message["X-Styrhjul-Key"] == key
    assert message["Content-Language"] == "sv"
    assert message["MIME-Version"] == "1.0"
    (to,) = message["To"].addresses
    assert to.addr_spec == recipient.email
    assert to.display_name == recipient.title
    assert "\n" not in message["Subject"]
    subject, text, _ = renderer.render(kind, recipient=recipient, sender=SENDER, **context)
    assert message["Subject"] == subject
    assert plain.get_content() == text
    assert "<!DOCTYPE html>" in html.get_content()
    # The same key composes to the same bytes (a resend is recognisably the same message).
    again = compose_notice(
        kind, recipient, sender=SENDER, key=key, stamp=STAMP, renderer=renderer, **context
    )
    assert again.as_bytes() == message.as_bytes()


@pytest.mark.parametrize("golden", sorted(CASES))
def test_no_english_reaches_the_reader(renderer: Renderer, golden: str) -> None:
    kind, recipient, context = CASES[golden]
    subject, text, html = renderer.render(kind, recipient=recipient, sender=SENDER, **context)
    visible = re.sub(r"<[^>]+>", " ", html)
    for shown in (subject, text, visible):
        assert not ENGLISH.search(shown), ENGLISH.search(shown)


def test_escalation_names_its_level(renderer: Renderer) -> None:
    first = replace(STEP, days_overdue=1, level=1)
    subject, text, html = renderer.render("escalation", recipient=HEAD, sender=SENDER, step=first)
    assert subject == (
        "Eskalering (nivå 1): Uppdatera kvalitetsrapporten med analys och bedömning,"
        " Västra skolan, försenat 1 arbetsdag"
    )
    assert "som närmaste chef" in text
    assert "som närmaste chef" in html
    assert "Tidigare eskalerat" not in text
    second = replace(first, level=2, previous="Verksamhetschef grundskola norr")
    _, text, html = renderer.render("escalation", recipient=HEAD, sender=SENDER, step=second)
    assert "som nästa nivå i styrkedjan" in text
    assert "Tidigare eskalerat till" in html


def test_html_is_escaped_and_text_is_not(renderer: Renderer) -> None:
    step = replace(STEP, title="<b>Budget</b> & plan", unit="Skola <A>")
    subject, text, html = renderer.render("reminder", recipient=PRINCIPAL, sender=SENDER, step=step)
    assert "&lt;b&gt;Budget&lt;/b&gt; &amp; plan" in html
    assert "Skola &lt;A&gt;" in html
    assert "<b>" not in html
    assert "<b>Budget</b> & plan" in text
    assert "<b>Budget</b> & plan" in subject
    ack = replace(ACK, what="Förslag <script>x</script>")
    _, _, html = renderer.render("acknowledgement", recipient=PRINCIPAL, sender=SENDER, ack=ack)
    assert "<script>" not in html


def test_a_notice_without_an_event_leaves_the_line_out(renderer: Renderer) -> None:
    _, text, html = renderer.render(
        "overdue", recipient=PRINCIPAL, sender=SENDER, step=replace(STEP, event=None)
    )
    assert "Inför mötet" not in text
    assert "Inför mötet" not in html


def test_missing_context_is_an_error(renderer: Renderer) -> None:
    with pytest.raises(UndefinedError, match="step"):
        renderer.render("reminder", recipient=PRINCIPAL, sender=SENDER)


def test_records_refuse_what_would_break_a_message() -> None:
    with pytest.raises(InputError, match="no time zone"):
        replace(STEP, due=dt.datetime(2026, 9, 22, 16, 0))  # noqa: DTZ001 - the point of it
    with pytest.raises(InputError, match="single line"):
        replace(STEP, title="Två\nrader")
    with pytest.raises(InputError, match="level 3"):
        replace(STEP, level=3)
    with pytest.raises(InputError, match="say what"):
        replace(ACK, what="  ")
    assert working_days_text(1) == "1 arbetsdag"
    assert working_days_text(0) == "0 arbetsdagar"
