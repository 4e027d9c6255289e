"""The director's weekly digest: every overdue step under them, by level and unit.

Each person holding the ``director`` role gets one message a week listing the overdue
open steps of the instances in the units where they are director and every unit below
(the listing of :mod:`styrhjul.services.overdue`), grouped by level (a dialog level or an
instance kind) and unit, with days overdue and escalation level. The outbox key names the
ISO week and the director, so the digest goes out once a week however often it is asked
for; the content is the state when it is first sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from styrhjul.db.models import OrgUnit, Person, RoleAssignment
from styrhjul.notifications.notices import DIGEST, Digest, DigestGroup, DigestStep
from styrhjul.services.context import App
from styrhjul.services.notices import enqueue_notice
from styrhjul.services.org import person_by_email, valid_on
from styrhjul.services.overdue import StepRow, overdue_steps

DIRECTOR = "director"
UNASSIGNED = {"sv": "ingen ansvarig", "en": "nobody"}
"""How the digest names the assignee of a step that nobody holds, per locale."""


def digest_key(week: date, email: str) -> str:
    """``digest:<ISO year>-W<ISO week>:<email>``: one digest per director and ISO week."""
    iso = week.isocalendar()
    return f"digest:{iso.year}-W{iso.week:02d}:{email}"


def send_weekly_digest(app: App, week: date | None = None) -> int:
    """Enqueue this week's digest (or the ISO week of ``week``) to every director.

    Returns how many digests were enqueued: a director who already has this week's digest
    is not counted. The listing is of steps overdue now, whichever week is named.
    """
    today = app.clock.today()
    week = week or today
    iso = week.isocalendar()
    titles = _level_titles(app)
    with app.db.session() as session:
        held = session.execute(
            select(Person.email, OrgUnit.code)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
            .where(
                RoleAssignment.role == DIRECTOR,
                *valid_on(today),
            )
            .order_by(Person.email, OrgUnit.code)
        ).all()
    units: dict[str, list[str]] = defaultdict(list)
    for email, code in held:
        units[email].append(code)
    sent = 0
    for email, codes in units.items():
        rows = {row.id: row for code in codes for row in overdue_steps(app, unit=code)}
        with app.db.session() as session:
            director = person_by_email(session, email)
            digest = Digest(
                year=iso.year,
                week=iso.week,
                as_of=app.clock.now(),
                groups=_groups(rows.values(), titles, director.locale),
            )
            # Sent also when nothing is overdue: a week without a digest must mean that
            # something is broken (the daemon, the mail), never that all is well.
            if enqueue_notice(
                app, session, DIGEST, director, key=digest_key(week, email), digest=digest
            ):
                sent += 1
    return sent


def _level_titles(app: App) -> dict[str, str]:
    """The title of each dialog level (its workflow's title); other levels are their kind."""
    return {
        m.definition.schedule.level: m.definition.spec.workflow.title
        for name, m in sorted(app.machines.items())
        if "@" not in name and m.definition.kind == "dialog"
    }


def _groups(
    rows: Iterable[StepRow], titles: dict[str, str], locale: str
) -> tuple[DigestGroup, ...]:
    """Steps grouped by level, then unit (both by name), most overdue first in each."""
    grouped: dict[tuple[str, str], list[StepRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.level, row.unit_name)].append(row)
    nobody = UNASSIGNED.get(locale, UNASSIGNED["sv"])
    return tuple(
        DigestGroup(
            level=level,
            level_title=titles.get(level, level),
            unit=unit,
            steps=tuple(
                DigestStep(
                    title=row.title,
                    reference=f"{row.instance_kind} {row.instance_id}",
                    instance_title=row.instance_title,
                    assignee=row.assignee_title or nobody,
                    due=row.due_at,
                    days_overdue=row.days_overdue,
                    escalation_level=row.escalation_level,
                )
                for row in sorted(steps, key=lambda r: (-r.days_overdue, r.due_at, r.id))
            ),
        )
        for (level, unit), steps in sorted(grouped.items())
    )
