"""The records behind plain notices: reminders, escalations, kvittenser, digests and more.

Reminders, overdue notices, escalations, acknowledgements, the agreed actions after a held
dialog, and the director's weekly digest.

Like :mod:`styrhjul.notifications.messages` they are frozen values the service layer fills
in, so that the templates can be rendered and tested without a database. A record that
could only give a broken message (a naive time, a line break in a one-line field) is
refused when it is built, naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from styrhjul.errors import InputError
from styrhjul.notifications.messages import require_aware

StepNoticeKind = Literal["reminder", "overdue", "escalation"]
STEP_NOTICE_KINDS: frozenset[str] = frozenset(get_args(StepNoticeKind))
"""The template folders (and outbox kinds) of the notices about one step."""
ACKNOWLEDGEMENT = "acknowledgement"
"""The template folder (and outbox kind) of a kvittens."""
HELD = "held"
"""The template folder (and outbox kind) of "the dialog was held: your agreed actions"."""
DIGEST = "digest"
"""The template folder (and outbox kind) of the director's weekly digest."""


def _one_line(value: str, key: str) -> None:
    if "\r" in value or "\n" in value:
        raise InputError(f"must be a single line: {value!r}", key=key)


def working_days_text(days: int) -> str:
    """Working days as Swedish counts them: "1 arbetsdag", "3 arbetsdagar"."""
    return f"{days} arbetsdag" if days == 1 else f"{days} arbetsdagar"


@dataclass(frozen=True, slots=True)
class StepNotice:
    """What a reminder, an overdue notice or an escalation says about one step.

    ``assignee`` is the title of whoever should do the step ("Rektor, Västra skolan"), or a
    Swedish phrase saying nobody does; ``level`` is the escalation level (0 for reminders
    and overdue notices) and ``previous`` the title of whoever the step was escalated to
    before (level 2). ``event`` is when the meeting the step prepares starts, if it does.
    """

    step_id: int
    title: str
    due: datetime
    reference: str
    instance_title: str
    unit: str
    assignee: str
    days_overdue: int = 0
    level: int = 0
    previous: str = ""
    event: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.due, "due")
        if self.event is not None:
            require_aware(self.event, "event")
        for key in ("title", "reference", "instance_title", "unit", "assignee", "previous"):
            _one_line(getattr(self, key), key)
        if self.days_overdue < 0:
            raise InputError("days overdue must not be negative", key="days_overdue")
        if self.level not in (0, 1, 2):
            raise InputError(f"escalation level {self.level} is not 0, 1 or 2", key="level")

    @property
    def overdue_text(self) -> str:
        """How late the step is, in working days ("2 arbetsdagar")."""
        return working_days_text(self.days_overdue)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A kvittens to a rektor: something concerning their unit was submitted or done.

    ``what`` is one Swedish sentence naming it; ``actor`` the title of who did it.
    """

    unit: str
    what: str
    actor: str
    at: datetime

    def __post_init__(self) -> None:
        require_aware(self.at, "at")
        if not self.what.strip():
            raise InputError("an acknowledgement must say what it acknowledges", key="what")
        for key in ("unit", "what", "actor"):
            _one_line(getattr(self, key), key)


@dataclass(frozen=True, slots=True)
class AgreedAction:
    """One agreed action (överenskommelse) as a message lists it; ``owner`` is a role title."""

    text: str
    owner: str
    due: date


@dataclass(frozen=True, slots=True)
class HeldDialog:
    """What one agreement owner is told when a dialog was held: their actions, then the rest.

    ``own`` are the recipient's agreed actions, ``others`` everyone else's, each in the
    order they were recorded; ``held_at`` is when the dialog started.
    """

    reference: str
    title: str
    unit: str
    held_at: datetime
    own: tuple[AgreedAction, ...]
    others: tuple[AgreedAction, ...] = ()

    def __post_init__(self) -> None:
        require_aware(self.held_at, "held_at")
        for key in ("reference", "title", "unit"):
            _one_line(getattr(self, key), key)
        if not self.own:
            raise InputError(
                f"{self.reference}: a held-dialog message needs the recipient's own actions",
                key="own",
            )


@dataclass(frozen=True, slots=True)
class DigestStep:
    """One overdue step in a digest."""

    title: str
    reference: str
    instance_title: str
    assignee: str
    due: datetime
    days_overdue: int
    escalation_level: int

    def __post_init__(self) -> None:
        require_aware(self.due, "due")


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """The overdue steps of one level (a dialog level or instance kind) in one unit."""

    level: str
    level_title: str
    unit: str
    steps: tuple[DigestStep, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """The director's weekly digest: ISO week ``year``-W``week`` and its groups.

    No groups means nothing is overdue, which is still worth a message (see
    :func:`styrhjul.services.digest.send_weekly_digest`).
    """

    year: int
    week: int
    as_of: datetime
    groups: tuple[DigestGroup, ...] = ()

    def __post_init__(self) -> None:
        require_aware(self.as_of, "as_of")
        if not 1 <= self.week <= 53:
            raise InputError(f"ISO week {self.week} is not 1 to 53", key="week")

    @property
    def step_count(self) -> int:
        """How many overdue steps the digest lists."""
        return sum(len(group.steps) for group in self.groups)
