"""The scorecard (styrkort): measures against targets, and the rules that act on outcomes.

Two rules turn outcomes (utfall) into work, so that a number that is off target is talked
about instead of only recorded:

- An outcome that does not meet its target ("minst 97 %" against 96 %) adds a step to the
  unit's next dialog (the earliest dialog of the unit that has not started and is not
  closed or cancelled): the rektor analyses it before the dialog. A unit with no upcoming
  dialog is reported; the step is added when the scorecard is evaluated again after the
  next round has been planned.
- A budget deviation (the outcome of the measure ``[scorecard] budget_measure``, in
  percent) further from zero than ``budget_deviation_threshold_percent`` starts a special
  economic follow-up (särskild ekonomisk uppföljning, ``workflows/economic_follow_up.toml``)
  for the unit and period.

Both are idempotent: a step is known by its origin ``scorecard:<code>:<period>`` on any
instance of the unit, a follow-up by its key ``economic_follow_up:<period>:<unit>``, so
evaluating again adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from styrhjul.db.governance import Measure, Outcome
from styrhjul.db.models import ChecklistItem, Dialog, Instance, OrgUnit
from styrhjul.services.audit import audit_instance
from styrhjul.services.context import App
from styrhjul.services.instances import (
    add_step,
    instance_transaction,
    resolve_assignee,
)
from styrhjul.services.org import unit_by_code
from styrhjul.services.processes import start_process
from styrhjul.services.schedule import due_times
from styrhjul.services.scorecard_import import format_target, format_value
from styrhjul.vocabulary import SYSTEM

FOLLOW_UP = "economic_follow_up"
"""The workflow a budget deviation beyond the threshold starts."""
ANALYST_ROLE = "rektor"
"""Who analyses an unmet target before the dialog."""


def is_met(comparator: str, target: float, value: float) -> bool:
    """Whether ``value`` meets the target: "minst 97" is met by 97, not by 96."""
    return value >= target if comparator == "at_least" else value <= target


def step_key(code: str, period: str) -> str:
    """``scorecard_<code>_<period>`` as a step key: lower case a-z, 0-9 and ``_``."""
    text = f"scorecard_{code}_{period}".lower()
    text = text.translate(str.maketrans("åäöéü", "aaoeu"))
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", text)).strip("_")


def origin_of(code: str, period: str) -> str:
    return f"scorecard:{code}:{period}"


# --- the read model ----------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeView:
    """One outcome of a measure and whether it meets the target."""

    period: str
    value: float
    value_text: str
    met: bool
    recorded_at: datetime


@dataclass(frozen=True)
class MeasureView:
    """A measure of a unit, its target and its outcomes, oldest period first."""

    unit: str
    unit_name: str
    code: str
    title: str
    comparator: str
    target: float
    unit_label: str
    target_text: str
    outcomes: list[OutcomeView]


def scorecard(app: App, unit: str | None = None, period: str | None = None) -> list[MeasureView]:
    """Every measure (of ``unit``) with its outcomes (for ``period``), and whether each is met."""
    with app.db.session() as session:
        query = (
            select(Measure)
            .join(OrgUnit, Measure.unit_id == OrgUnit.id)
            .options(selectinload(Measure.outcomes), selectinload(Measure.unit))
            .order_by(OrgUnit.code, Measure.code)
        )
        if unit is not None:
            query = query.where(Measure.unit_id == unit_by_code(session, unit).id)
        return [
            MeasureView(
                unit=m.unit.code,
                unit_name=m.unit.name,
                code=m.code,
                title=m.title,
                comparator=m.comparator,
                target=m.target,
                unit_label=m.unit_label,
                target_text=format_target(m.comparator, m.target, m.unit_label),
                outcomes=[
                    OutcomeView(
                        o.period,
                        o.value,
                        format_value(o.value, m.unit_label),
                        is_met(m.comparator, m.target, o.value),
                        o.recorded_at,
                    )
                    for o in m.outcomes
                    if period is None or o.period == period
                ],
            )
            for m in session.scalars(query)
        ]


# --- the rules ---------------------------------------------------------------------------


@dataclass
class UnmetTarget:
    """An outcome that misses its target, and what became of it.

    ``status``: ``added`` (a step was added to ``dialog_id`` now), ``already`` (an earlier
    evaluation added it), ``no_dialog`` (the unit has no upcoming dialog yet).
    """

    unit: str
    code: str
    title: str
    period: str
    value_text: str
    target_text: str
    status: str = "no_dialog"
    dialog_id: int | None = None
    step_key: str | None = None


@dataclass
class BudgetDeviation:
    """A budget deviation beyond the threshold, and its economic follow-up.

    ``status``: ``started`` (the follow-up ``instance_id`` was started now) or ``already``.
    """

    unit: str
    period: str
    value: float
    threshold: float
    status: str = "started"
    instance_id: int | None = None


@dataclass
class EvaluationReport:
    """What evaluating the scorecard found and did."""

    period: str | None
    outcomes_checked: int = 0
    unmet: list[UnmetTarget] = field(default_factory=list)
    deviations: list[BudgetDeviation] = field(default_factory=list)

    @property
    def steps_added(self) -> int:
        return sum(1 for u in self.unmet if u.status == "added")

    @property
    def without_dialog(self) -> list[UnmetTarget]:
        return [u for u in self.unmet if u.status == "no_dialog"]

    @property
    def follow_ups_started(self) -> int:
        return sum(1 for d in self.deviations if d.status == "started")


def evaluate_scorecard(
    app: App, period: str | None = None, *, actor: str = SYSTEM
) -> EvaluationReport:
    """Apply the scorecard rules to every outcome (of ``period``); running it again adds nothing."""
    config = app.settings.scorecard
    report = EvaluationReport(period)
    pending: dict[int, list[UnmetTarget]] = {}
    with app.db.session() as session:
        query = select(Outcome).options(selectinload(Outcome.measure).selectinload(Measure.unit))
        if period is not None:
            query = query.where(Outcome.period == period)
        for outcome in session.scalars(query.order_by(Outcome.id)):
            measure = outcome.measure
            report.outcomes_checked += 1
            if not is_met(measure.comparator, measure.target, outcome.value):
                unmet = UnmetTarget(
                    unit=measure.unit.code,
                    code=measure.code,
                    title=measure.title,
                    period=outcome.period,
                    value_text=format_value(outcome.value, measure.unit_label),
                    target_text=format_target(
                        measure.comparator, measure.target, measure.unit_label
                    ),
                )
                report.unmet.append(unmet)
                pending.setdefault(measure.unit_id, []).append(unmet)
            threshold = config.budget_deviation_threshold_percent
            if measure.code == config.budget_measure and abs(outcome.value) > threshold:
                report.deviations.append(
                    BudgetDeviation(measure.unit.code, outcome.period, outcome.value, threshold)
                )
        dialogs = {unit_id: _next_dialog(app, session, unit_id) for unit_id in pending}
        for unit_id, items in pending.items():
            placed = _placed_origins(session, unit_id)
            for item in items:
                if origin_of(item.code, item.period) in placed:
                    item.status = "already"
    for unit_id, items in pending.items():
        todo = [i for i in items if i.status != "already"]
        if todo and (dialog_id := dialogs[unit_id]) is not None:
            _add_steps(app, dialog_id, todo, actor)
    for deviation in report.deviations:
        _start_follow_up(app, deviation, actor)
    return report


def _next_dialog(app: App, session: Session, unit_id: int) -> int | None:
    """The id of the unit's earliest dialog that has not started and is not over."""
    upcoming = session.scalars(
        select(Dialog)
        .where(Dialog.unit_id == unit_id, Dialog.starts_at > app.clock.now())
        .order_by(Dialog.starts_at, Dialog.id)
    )
    for dialog in upcoming:
        if (
            dialog.state
            not in app.machine(dialog.workflow, dialog.workflow_version).definition.final_states
        ):
            return dialog.id
    return None


def _placed_origins(session: Session, unit_id: int) -> set[str]:
    """The scorecard origins of every step on any instance of the unit."""
    return set(
        session.scalars(
            select(ChecklistItem.origin)
            .join(Instance, ChecklistItem.instance_id == Instance.id)
            .where(Instance.unit_id == unit_id, ChecklistItem.origin.like("scorecard:%"))
        )
    )


def _add_steps(app: App, dialog_id: int, items: list[UnmetTarget], actor: str) -> None:
    """Add one analysis step per unmet target to the dialog, in one audited transaction."""
    days = app.settings.scorecard.step_working_days_before_dialog
    now = app.clock.now()
    with instance_transaction(app, dialog_id, model=Dialog) as (session, dialog):
        assert dialog.starts_at is not None
        timing = app.machine(dialog.workflow, dialog.workflow_version).definition.spec.timing
        due, remind, escalate = due_times(app, timing, dialog.starts_at, -days)
        if due < now:  # the dialog is near: due by its start
            due, remind, escalate = due_times(app, timing, dialog.starts_at, 0)
        keys = {step.key for step in dialog.checklist}
        origins = {step.origin for step in dialog.checklist}
        for done in [i for i in items if origin_of(i.code, i.period) in origins]:
            done.status = "already"  # added by an evaluation running at the same time
        items = [i for i in items if i.status != "already"]
        if not items:
            return
        for item in items:
            key = step_key(item.code, item.period)
            suffix = 2
            while key in keys:  # two periods that read alike as keys ("2026/27", "2026-27")
                key, suffix = f"{step_key(item.code, item.period)}_{suffix}", suffix + 1
            keys.add(key)
            title = (
                f"Analysera ej uppnått mål: {item.title} – utfall {item.value_text} "
                f"mot målvärde {item.target_text} ({item.period})"
            )
            add_step(
                dialog,
                key=key,
                title=title[:300],
                assignee_role=ANALYST_ROLE,
                assignee=resolve_assignee(session, dialog, ANALYST_ROLE, "unit", due.date()),
                required=True,
                due_at=due,
                remind_at=remind,
                escalate_at=escalate,
                origin=origin_of(item.code, item.period),
            )
            item.status, item.dialog_id, item.step_key = "added", dialog_id, key
        audit_instance(
            session,
            dialog,
            at=now,
            actor=actor,
            trigger="add_step",
            from_state=dialog.state,
            reason="scorecard: unmet target " + ", ".join(f"{i.code} {i.period}" for i in items),
        )


def _start_follow_up(app: App, deviation: BudgetDeviation, actor: str) -> None:
    """Start the unit's economic follow-up for the period, unless it exists."""
    started = start_process(
        app,
        FOLLOW_UP,
        deviation.unit,
        period=deviation.period,
        actor=SYSTEM,
        reason=(
            f"budget deviation {format_value(deviation.value, '%')} in {deviation.period} "
            f"is beyond the threshold of {format_value(deviation.threshold, '%')}"
            + ("" if actor == SYSTEM else f" (evaluated by {actor})")
        ),
    )
    if not started.created:
        deviation.status = "already"
    deviation.instance_id = started.id
