"""Scorecard files: measures (mätetal) with targets (målvärde) and outcomes (utfall) from CSV.

A scorecard is kept where the administration keeps it (Stratsys, a spreadsheet) and
exported as CSV, so this is the format read here: UTF-8 (a spreadsheet's byte-order mark
is accepted), a header row naming the columns, commas or semicolons between cells (a
Swedish spreadsheet writes semicolons, because the comma is its decimal sign), blank lines
and lines starting with ``#`` skipped. Columns:

``unit``        code of the unit the measure belongs to (required)
``code``        the measure's code, unique within the unit: a-z, 0-9, ``-`` and ``_`` (required)
``title``       the measure as people read it (required)
``target``      the target as the documents write it, "Minst 97 %" or "Högst 2 %", or a
                plain number together with ``comparator`` (required)
``comparator``  ``at_least``/``minst`` or ``at_most``/``högst`` (optional with a worded target)
``unit_label``  what the numbers count: ``%``, ``poäng``, ``st`` (optional; taken from the target)
``period``      the period an outcome is for: ``2025/26``, ``2026-T1`` (optional)
``value``       the outcome for the period (optional; with ``period``)

Numbers accept the Swedish decimal comma ("96,5") and spaces between thousands ("2 800").
The file is checked as a whole before anything is written; every problem names the file,
the line and the column. Importing the same file again changes nothing; a changed target
or outcome is updated, written to the audit trail and listed in the summary.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from styrhjul.db.governance import Measure, Outcome
from styrhjul.db.models import AuditEvent, OrgUnit
from styrhjul.errors import InputError
from styrhjul.services.context import App
from styrhjul.vocabulary import SYSTEM

REQUIRED_COLUMNS = ("unit", "code", "title", "target")
OPTIONAL_COLUMNS = ("comparator", "unit_label", "period", "value")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CODE_MAX = 30
"""Measure codes are short: a step key ``scorecard_<code>_<period>`` must fit 64 characters."""
PERIOD = re.compile(r"^[0-9A-Za-zÅÄÖåäö][0-9A-Za-zÅÄÖåäö/ ._-]*$")
PERIOD_MAX = 20
TITLE_MAX = 200
LABEL_MAX = 20

COMPARATOR_WORDS = {
    "at_least": "at_least",
    "minst": "at_least",
    "lägst": "at_least",
    "at_most": "at_most",
    "högst": "at_most",
    "max": "at_most",
}
"""How a comparator may be written, in the comparator column or leading a worded target."""
WORDS = {"at_least": "minst", "at_most": "högst"}
"""How a comparator reads in Swedish."""

_NUMBER = r"[-−+]?(?:\d{1,3}(?:[ \u00a0]\d{3})+|\d+)(?:[,.]\d+)?"
NUMBER = re.compile(rf"^(?P<num>{_NUMBER})\s*(?P<rest>.*)$")
TARGET = re.compile(
    rf"^(?P<word>[^\W\d]+)\.?\s+(?:(?P<pre>[^\W\d]+)\s+)?(?P<num>{_NUMBER})\s*(?P<label>.*)$"
)


def parse_number(text: str) -> tuple[float, str] | None:
    """``"96,5 %"`` -> ``(96.5, "%")``; the text after the number is returned as it is."""
    match = NUMBER.match(text.strip())
    if match is None:
        return None
    digits = match["num"].replace(" ", "").replace("\u00a0", "").replace("−", "-")
    return float(digits.replace(",", ".")), match["rest"].strip()


def parse_target(text: str) -> tuple[str | None, float, str] | None:
    """``"Minst 97 %"`` -> ``("at_least", 97.0, "%")``; ``"97"`` -> ``(None, 97.0, "")``.

    A word before the number that is not a comparator makes no target (None). A word
    between comparator and number ("Minst index 68") is the unit label when none follows.
    """
    text = text.strip()
    plain = parse_number(text)
    if plain is not None:
        return None, plain[0], plain[1]
    match = TARGET.match(text)
    if match is None or match["word"].lower() not in COMPARATOR_WORDS:
        return None
    number = parse_number(match["num"])
    assert number is not None
    label = match["label"].strip() or (match["pre"] or "")
    return COMPARATOR_WORDS[match["word"].lower()], number[0], label


def format_number(value: float) -> str:
    """A number as Swedish text: ``96``, ``96,5``, ``2 800``."""
    if value == int(value):
        text = f"{int(value):,}".replace(",", " ")
    else:
        whole, _, decimals = f"{abs(value):.6f}".rstrip("0").partition(".")
        text = ("-" if value < 0 else "") + f"{int(whole):,}".replace(",", " ") + "," + decimals
    return text


def format_value(value: float, unit_label: str) -> str:
    """``96 %``, ``230 poäng``."""
    return f"{format_number(value)} {unit_label}".strip()


def format_target(comparator: str, target: float, unit_label: str) -> str:
    """``minst 97 %``, ``högst 5 %``."""
    return f"{WORDS[comparator]} {format_value(target, unit_label)}"


@dataclass(frozen=True)
class MeasureRow:
    """One checked row of a scorecard file."""

    line: int
    unit: str
    code: str
    title: str
    comparator: str
    target: float
    unit_label: str
    period: str | None
    value: float | None


@dataclass
class ImportSummary:
    """What importing a scorecard file did."""

    file: str
    rows: int = 0
    measures_added: int = 0
    measures_updated: int = 0
    outcomes_added: int = 0
    outcomes_updated: int = 0
    outcomes_unchanged: int = 0
    changes: list[str] = field(default_factory=list)
    """One line per changed target or outcome: what it was and what it is now."""


class _Problems:
    """Every problem of a file, so one run names them all; the first one is raised."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[tuple[int, str, str]] = []

    def add(self, line: int, column: str, message: str) -> None:
        self.found.append((line, column, message))

    def raise_any(self) -> None:
        if not self.found:
            return
        line, column, message = self.found[0]
        for other_line, other_column, other in self.found[1:]:
            message += f"\n{self.path}:{other_line}: {other_column}: {other}"
        raise InputError(message, file=self.path, line=line, key=column)


def read_scorecard(path: Path, known_units: set[str]) -> list[MeasureRow]:
    """Read and check a scorecard file; any problem raises an InputError naming line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file (expected UTF-8 text): {exc}", file=path) from None
    content = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not content:
        raise InputError("no header row; expected columns: " + ", ".join(COLUMNS), file=path)
    problems = _Problems(path)
    delimiter = ";" if ";" in content[0][1] else ","
    header = _check_header(content[0], delimiter, problems)
    rows: list[MeasureRow] = []
    for number, line in content[1:]:
        cells = next(csv.reader([line], delimiter=delimiter))
        if len(cells) != len(header):
            message = f"{len(cells)} cells, but the header names {len(header)} columns"
            problems.add(number, "row", message)
            continue
        row = _check_row(number, dict(zip(header, (c.strip() for c in cells), strict=True)))
        if isinstance(row, MeasureRow):
            if row.unit not in known_units:
                problems.add(number, "unit", f"unknown unit {row.unit!r}")
            rows.append(row)
        else:
            for column, message in row:
                problems.add(number, column, message)
    _check_consistent(rows, problems)
    problems.raise_any()
    return rows


def _check_header(header_row: tuple[int, str], delimiter: str, problems: _Problems) -> list[str]:
    line, text = header_row
    header = [cell.strip().lower() for cell in next(csv.reader([text], delimiter=delimiter))]
    for cell in header:
        if cell not in COLUMNS:
            problems.add(line, cell, "unknown column; columns are: " + ", ".join(COLUMNS))
    for column in REQUIRED_COLUMNS:
        if column not in header:
            problems.add(line, column, "required column is missing")
    if len(set(header)) != len(header):
        problems.add(line, "header", "a column is named twice")
    problems.raise_any()
    return header


Problems = list[tuple[str, str]]
"""What is wrong with one row: (column, message) pairs."""


def _check_row(line: int, cells: dict[str, str]) -> MeasureRow | Problems:
    """The row, or what is wrong with it."""
    bad: Problems = []
    unit, code, title = cells["unit"], cells["code"], cells["title"]
    if not unit:
        bad.append(("unit", "a unit code is required"))
    if not CODE.match(code) or len(code) > CODE_MAX:
        message = f"expected a code of a-z, 0-9, '-' and '_' (at most {CODE_MAX}), got {code!r}"
        bad.append(("code", message))
    if not title or len(title) > TITLE_MAX:
        bad.append(("title", f"a title of 1 to {TITLE_MAX} characters is required"))
    target = _check_target(cells, bad)
    unit_label = target[2] if target else cells.get("unit_label", "")
    period, value = _check_outcome(cells, unit_label, bad)
    if bad or target is None:
        return bad
    return MeasureRow(line, unit, code, title, *target, period, value)


def _check_target(cells: dict[str, str], bad: Problems) -> tuple[str, float, str] | None:
    """(comparator, target, unit label) from the target and the optional columns."""
    written = cells.get("comparator", "")
    comparator = COMPARATOR_WORDS.get(written.lower()) if written else None
    if written and comparator is None:
        known = ", ".join(COMPARATOR_WORDS)
        bad.append(("comparator", f"unknown comparator {written!r}; expected one of: {known}"))
        return None
    target = parse_target(cells["target"])
    if target is None:
        message = "expected a target like 'Minst 97 %', 'Högst 2 %' or a number"
        bad.append(("target", f"{message}, got {cells['target']!r}"))
        return None
    worded, number, label = target
    unit_label = cells.get("unit_label", "") or label
    if worded is None and comparator is None:
        bad.append(("target", "a plain number needs a comparator (at_least or at_most)"))
    elif worded is not None and comparator is not None and worded != comparator:
        bad.append(("comparator", f"{written!r} contradicts the target {cells['target']!r}"))
    elif label and unit_label != label:
        bad.append(("unit_label", f"{unit_label!r} contradicts the target {cells['target']!r}"))
    elif len(unit_label) > LABEL_MAX:
        bad.append(("unit_label", f"at most {LABEL_MAX} characters, got {unit_label!r}"))
    else:
        return str(comparator or worded), number, unit_label
    return None


def _check_outcome(
    cells: dict[str, str], unit_label: str, bad: Problems
) -> tuple[str | None, float | None]:
    """(period, value), both or neither."""
    period = cells.get("period", "") or None
    written = cells.get("value", "")
    if period is not None and (not PERIOD.match(period) or len(period) > PERIOD_MAX):
        message = f"expected a period like 2025/26 or 2026-T1 (at most {PERIOD_MAX} characters)"
        bad.append(("period", f"{message}, got {period!r}"))
    if not written:
        if period is not None:
            bad.append(("value", f"period {period!r} has no outcome (value)"))
        return period, None
    if period is None:
        bad.append(("period", "an outcome (value) needs the period it is for"))
    parsed = parse_number(written)
    if parsed is None or parsed[1] not in ("", unit_label):
        bad.append(("value", f"expected a number like 96 or 96,5, got {written!r}"))
        return period, None
    return period, parsed[0]


def _check_consistent(rows: list[MeasureRow], problems: _Problems) -> None:
    """One measure, one definition; one outcome per measure and period."""
    first: dict[tuple[str, str], MeasureRow] = {}
    outcomes: dict[tuple[str, str, str], MeasureRow] = {}
    for row in rows:
        seen = first.setdefault((row.unit, row.code), row)
        where = f"measure {row.unit}/{row.code} has"
        if (seen.comparator, seen.target) != (row.comparator, row.target):
            problems.add(
                row.line,
                "target",
                f"{where} target {format_target(row.comparator, row.target, row.unit_label)} "
                f"here, but {format_target(seen.comparator, seen.target, seen.unit_label)} "
                f"on line {seen.line}",
            )
        if seen.title != row.title:
            problems.add(row.line, "title", f"{where} another title on line {seen.line}")
        if seen.unit_label != row.unit_label:
            problems.add(row.line, "unit_label", f"{where} another unit label on line {seen.line}")
        if row.period is None:
            continue
        other = outcomes.setdefault((row.unit, row.code, row.period), row)
        if other.value != row.value:
            problems.add(
                row.line,
                "value",
                f"{where} another outcome for {row.period} on line {other.line}",
            )


def import_scorecard(app: App, path: Path, *, actor: str = SYSTEM) -> ImportSummary:
    """Add or update the measures and outcomes of a scorecard file, all or nothing."""
    summary = ImportSummary(file=str(path))
    with app.db.session() as session:
        units = {u.code: u for u in session.scalars(select(OrgUnit))}
        rows = read_scorecard(path, set(units))
        summary.rows = len(rows)
        stored = session.scalars(
            select(Measure).options(selectinload(Measure.unit), selectinload(Measure.outcomes))
        )
        measures = {(m.unit.code, m.code): m for m in stored}
        writer = _Writer(session, app.clock.now(), actor, path.name, summary)
        for row in rows:
            measure = measures.get((row.unit, row.code))
            if measure is None:
                measure = Measure(
                    unit=units[row.unit],
                    code=row.code,
                    title=row.title,
                    comparator=row.comparator,
                    target=row.target,
                    unit_label=row.unit_label,
                )
                session.add(measure)
                measures[(row.unit, row.code)] = measure
                summary.measures_added += 1
            else:
                writer.update_measure(measure, row)
            if row.period is not None and row.value is not None:
                writer.upsert_outcome(measure, row.period, row.value)
    return summary


@dataclass
class _Writer:
    """Applies checked rows to stored measures; every change is audited and summarised."""

    session: Session
    now: datetime
    actor: str
    file_name: str
    summary: ImportSummary

    def update_measure(self, measure: Measure, row: MeasureRow) -> None:
        wanted = (row.title, row.comparator, row.target, row.unit_label)
        if (measure.title, measure.comparator, measure.target, measure.unit_label) == wanted:
            return
        before = format_target(measure.comparator, measure.target, measure.unit_label)
        after = format_target(row.comparator, row.target, row.unit_label)
        what = f"target {before} -> {after}" if before != after else "title or unit label changed"
        measure.title, measure.comparator, measure.target, measure.unit_label = wanted
        self.summary.measures_updated += 1
        self._record("measure", measure.id, f"{row.unit}/{row.code}: {what}")

    def upsert_outcome(self, measure: Measure, period: str, value: float) -> None:
        outcome = next((o for o in measure.outcomes if o.period == period), None)
        if outcome is None:
            measure.outcomes.append(Outcome(period=period, value=value, recorded_at=self.now))
            self.summary.outcomes_added += 1
            return
        if outcome.value == value:
            self.summary.outcomes_unchanged += 1
            return
        label = measure.unit_label
        what = f"outcome {format_value(outcome.value, label)} -> {format_value(value, label)}"
        outcome.value, outcome.recorded_at = value, self.now
        self.summary.outcomes_updated += 1
        self._record("outcome", outcome.id, f"{measure.unit.code}/{measure.code} {period}: {what}")

    def _record(self, entity: str, entity_id: int, change: str) -> None:
        """A changed target or outcome goes to the audit trail, like a change of state."""
        self.summary.changes.append(change)
        self.session.add(
            AuditEvent(
                entity=entity,
                entity_id=entity_id,
                at=self.now,
                actor=self.actor,
                trigger="import",
                from_state=None,
                to_state=None,
                reason=f"{change} ({self.file_name})",
            )
        )
