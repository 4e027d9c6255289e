"""Renders a message kind's templates: ``templates/<kind>/{subject.txt,body.txt,body.html}``.

One folder per kind keeps the wording of a message together and out of the code. The
environment is strict: a variable a template uses but the caller did not pass is an error,
not an empty string, and HTML (only HTML) is escaped automatically.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape

from styrhjul.errors import InputError
from styrhjul.notifications.swedish import (
    checklist_item,
    checklist_sections,
    sv_date,
    sv_datetime,
    sv_span,
    sv_time,
)

_PARTS = ("subject.txt", "body.txt", "body.html")


class Renderer:
    """Turns a message kind and its context into (subject, text, html).

    The Jinja2 environment is built here, once per renderer, never at import.
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
        )
        self.environment.filters.update(
            sv_date=sv_date,
            sv_datetime=sv_datetime,
            sv_time=sv_time,
            sv_span=sv_span,
            checklist_item=checklist_item,
            checklist_sections=checklist_sections,
        )

    def render(self, kind: str, **context: Any) -> tuple[str, str, str]:
        """The subject (one line), plain text and HTML for ``kind``."""
        try:
            subject, text, html = (
                self.environment.get_template(f"{kind}/{part}").render(**context) for part in _PARTS
            )
        except TemplateNotFound as missing:
            raise InputError(f"no template {missing.name!r} for message kind {kind!r}") from None
        return " ".join(subject.split()), text.strip() + "\n", html.strip() + "\n"
