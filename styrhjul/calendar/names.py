"""Names of weekdays and months, written once for the calendar and the messages.

Swedish writes them in lower case ("tisdag 6 oktober"); the English names are for what the
operator reads (error messages, reports) and for weekday names in rule files ("tuesday").
The machine's locale is never asked: a server with LANG=C must still write Swedish.
"""

from __future__ import annotations

__all__ = ["ENGLISH_MONTHS", "ENGLISH_WEEKDAYS", "MONTHS", "SHORT_MONTHS", "WEEKDAYS"]

WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
"""Monday first, as ``date.weekday()`` counts."""

MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)

SHORT_MONTHS = tuple(name[:3] for name in MONTHS)
"""jan, feb, mar ... the forms used in short dates ("17 maj", "3 okt")."""

ENGLISH_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""Monday first, as ``date.weekday()`` counts; capitalised, as English writes them."""

ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
