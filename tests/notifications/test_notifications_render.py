import re

import pytest
from jinja2 import UndefinedError
from support import PRINCIPAL, SENDER, check_golden, make_invite

from styrhjul.errors import InputError
from styrhjul.notifications.render import Renderer

# Words that would betray English in what a recipient reads.
ENGLISH = re.compile(
    r"\b(the|meeting|invite|invitation|cancel(l?ed)?|reason|due|assignee|dear|regards|"
    r"updated|changed|time|when|where|required|optional)\b",
    re.IGNORECASE,
)


def test_new_invite_subject_and_text(renderer: Renderer) -> None:
    subject, text, _ = renderer.render(
        "invite", invite=make_invite(), recipient=PRINCIPAL, sender=SENDER
    )
    assert subject == "Inbjudan: Budgetdialog, Västra skolan, tisdag 6 oktober 2026 kl. 09.00"
    assert "Du är inbjuden till ”Budgetdialog, Västra skolan”." in text
    assert "När: tisdag 6 oktober 2026 kl. 09.00\N{EN DASH}10.30" in text
    assert "Ändrad" not in text


def test_own_preparations_come_first(renderer: Renderer) -> None:
    _, text, html = renderer.render(
        "invite", invite=make_invite(), recipient=PRINCIPAL, sender=SENDER
    )
    for body in (text, html):
        own = body.index("Dina förberedelser")
        others = body.index("Övriga förberedelser")
        assert own < body.index("Skicka budgetunderlag") < others
        assert own < body.index("Förbered frågor om elevhälsan") < others
        assert others < body.index("Läs verksamhetsplanen")
    assert (
        "- Skicka budgetunderlag, senast måndag 28 september 2026. Ansvarig: Rektor, Västra skolan."
        in text
    )
    assert "- Förbered frågor om elevhälsan (frivillig), senast fredag 2 oktober 2026." in text


def test_sections_without_lines_are_left_out(renderer: Renderer) -> None:
    _, text, html = renderer.render(
        "invite", invite=make_invite(checklist=()), recipient=PRINCIPAL, sender=SENDER
    )
    assert "förberedelser" not in text
    assert "förberedelser" not in html


def test_updated_invite_says_changed_time_and_why(renderer: Renderer) -> None:
    invite = make_invite(sequence=2, reason="Krock med nämndens sammanträde.")
    subject, text, html = renderer.render(
        "invite", invite=invite, recipient=PRINCIPAL, sender=SENDER
    )
    assert subject.startswith("Ändrad tid: Budgetdialog, Västra skolan")
    assert "Anledning: Krock med nämndens sammanträde." in text
    assert "Anledning: Krock med nämndens sammanträde." in html
    check_golden("invite_updated.txt", f"{subject}\n\n{text}")


def test_cancel_gives_the_reason(renderer: Renderer) -> None:
    invite = make_invite(method="CANCEL", sequence=1, reason="Dialogen flyttas till våren.")
    subject, text, html = renderer.render(
        "cancel", invite=invite, recipient=PRINCIPAL, sender=SENDER
    )
    assert subject == "Inställt: Budgetdialog, Västra skolan, tisdag 6 oktober 2026 kl. 09.00"
    assert "är inställt" in text
    assert "Anledning: Dialogen flyttas till våren." in text
    assert "är inställt" in html
    check_golden("cancel.txt", f"{subject}\n\n{text}")


@pytest.mark.parametrize("kind", ["invite", "cancel"])
@pytest.mark.parametrize("sequence", [0, 3])
def test_no_english_reaches_the_reader(renderer: Renderer, kind: str, sequence: int) -> None:
    invite = make_invite(
        method="CANCEL" if kind == "cancel" else "REQUEST", sequence=sequence, reason="Sjukdom."
    )
    subject, text, html = renderer.render(kind, invite=invite, recipient=PRINCIPAL, sender=SENDER)
    visible = re.sub(r"<[^>]+>", " ", html)  # markup and attribute names are not read
    for shown in (subject, text, visible):
        assert not ENGLISH.search(shown), ENGLISH.search(shown)


def test_html_is_escaped_and_text_is_not(renderer: Renderer) -> None:
    invite = make_invite(
        summary="<script>alert('x')</script> & budget",
        description='Se "bilaga" <b>nu</b>',
    )
    subject, text, html = renderer.render(
        "invite", invite=invite, recipient=PRINCIPAL, sender=SENDER
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; budget" in html
    assert "&lt;b&gt;nu&lt;/b&gt;" in html
    assert "<script>alert('x')</script> & budget" in text
    assert "<script>" in subject


def test_subject_is_one_line(renderer: Renderer) -> None:
    subject, _, _ = renderer.render(
        "invite", invite=make_invite(), recipient=PRINCIPAL, sender=SENDER
    )
    assert "\n" not in subject
    assert subject == subject.strip()


def test_missing_variable_is_an_error(renderer: Renderer) -> None:
    with pytest.raises(UndefinedError, match="sender"):
        renderer.render("invite", invite=make_invite(), recipient=PRINCIPAL)
    with pytest.raises(UndefinedError):
        renderer.render("cancel")


def test_unknown_kind_is_named(renderer: Renderer) -> None:
    with pytest.raises(InputError, match="'agenda'"):
        renderer.render("agenda", invite=make_invite())


def test_each_renderer_has_its_own_environment() -> None:
    assert Renderer().environment is not Renderer().environment


def test_templates_are_not_checked_for_changes_before_each_message(renderer: Renderer) -> None:
    """The shipped templates do not change while Styrhjul runs: a renderer compiles each
    once and does not stat its file again before every message (Jinja2's auto_reload)."""
    assert renderer.environment.auto_reload is False
