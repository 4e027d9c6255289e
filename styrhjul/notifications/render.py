"""Renders a message kind's templates: ``templates/<kind>/{subject.txt,body.txt,body.html}``.

One folder per kind keeps the wording of a message together and out of the code. The
environment is strict: a variable a template uses but the caller did not pass is an error,
not an empty string, and HTML (only HTML) is escaped automatically.

Swedish is the users' language and the default: its templates are ``templates/<kind>/``.
English, the second locale, mirrors them under ``templates/en/<kind>/`` and formats dates
with the ``en_*`` filters of :mod:`.english`. A missing English template is an error, never
a silent fall-back to Swedish: a recipient who asked for English and got Swedish would not
know a message was wrong, whereas the test suite checks that every kind exists in every
locale, so the error cannot reach a running system.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape

from styrhjul.errors import InputError
from styrhjul.notifications import english
from styrhjul.notifications.notices import working_days_text
from styrhjul.notifications.swedish import (
    checklist_item,
    checklist_sections,
    sv_date,
    sv_datetime,
    sv_span,
    sv_time,
)

_PARTS = ("subject.txt", "body.txt", "body.html")
DEFAULT_LOCALE = "sv"
LOCALES: dict[str, str] = {"sv": "", "en": "en/"}
"""Each locale a person may have, and where its templates lie under ``templates/``."""


class Renderer:
    """Turns a message kind and its context into (subject, text, html).

    The Jinja2 environment is built here, once per renderer, never at import. Templates
    ship with the package and do not change while it runs, so Jinja2 does not look at
    their files' times again before every render (``auto_reload`` off).
    """

    def __init__(self) -> None:
        self.environment = Environment(
            loader=PackageLoader("styrhjul.notifications", "templates"),
            undefined=StrictUndefined,
            autoescape=select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.environment.filters.update(
            sv_date=sv_date,
            sv_datetime=sv_datetime,
            sv_time=sv_time,
            sv_span=sv_span,
            checklist_item=checklist_item,
            checklist_sections=checklist_sections,
            sv_working_days=working_days_text,
            **english.FILTERS,
        )

    def render(
        self, kind: str, locale: str = DEFAULT_LOCALE, **context: Any
    ) -> tuple[str, str, str]:
        """The subject (one line), plain text and HTML for ``kind`` in ``locale``."""
        if locale not in LOCALES:
            raise InputError(
                f"message kind {kind!r}: unknown locale {locale!r}; known: {', '.join(LOCALES)}",
                key="locale",
            )
        folder = LOCALES[locale] + kind
        try:
            subject, text, html = (
                self.environment.get_template(f"{folder}/{part}").render(**context)
                for part in _PARTS
            )
        except TemplateNotFound as missing:
            raise InputError(
                f"no template {missing.name!r} for message kind {kind!r} in locale {locale!r}"
            ) from None
        return " ".join(subject.split()), text.strip() + "\n", html.strip() + "\n"
