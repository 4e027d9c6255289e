"""The chain of command between dialog levels: information goes up, steering comes down.

Up: after the area head ↔ rektor round the area head compiles observations, assessments
and conclusions per school form (:func:`compile_round`). Styrhjul gathers what each
unit's dialog recorded (minutes, agreements) beside the area head's own assessment and
attaches it to the director's dialog with the area, whose preparation can then open.

Down: what the director's round agrees becomes steps in the area's next round with its
rektorer (:func:`apply_steering`), whether that round is planned already or later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from styrhjul.calendar import SchoolYear
from styrhjul.db.models import Agreement, Dialog, Observation
from styrhjul.engine.definition import WorkflowDefinition
from styrhjul.errors import InputError, TransitionRefused
from styrhjul.services.audit import audit_instance
from styrhjul.services.chain_facts import chain_waiting, held_states, rounds_below
from styrhjul.services.context import App
from styrhjul.services.instances import (
    add_step,
    facts_of,
    fire,
    instance_transaction,
    ref,
    require_runner,
)
from styrhjul.services.org import ancestors, subtree_ids
from styrhjul.services.schedule import due_times
from styrhjul.vocabulary import SYSTEM

COMPILE_STEP = "compile"
"""The key of the step a chained dialog has for the compilation, ticked when it is made."""
OTHER_FORMS = "övriga"
"""How observations of units without a school form are grouped."""
STEER_DAYS_BEFORE = 1
"""A steering step is due this many working days before the dialog it lands in."""


def compile_round(
    app: App, dialog_id: int, *, actor: str, assessments: Mapping[str, str]
) -> list[Observation]:
    """Compile the round below into observations per school form on dialog ``dialog_id``.

    ``assessments`` maps a school form to the area head's own observations, assessments and
    conclusions for it; Styrhjul adds, per form, what each unit's dialog recorded. Refused
    while a dialog of the round below has not been held. Compiling again replaces the
    observations (the audit trail keeps both). When the preparation window has come, the
    dialog's preparation opens at once.
    """
    with instance_transaction(app, dialog_id, model=Dialog) as (session, dialog):
        machine = app.machine(dialog.workflow, dialog.workflow_version)
        if machine.definition.schedule.chain_after is None:
            raise InputError(
                f"{ref(dialog)}: level {dialog.level} has no round below to compile", key="dialog"
            )
        require_runner(
            app,
            session,
            dialog,
            actor,
            "compile it",
            owner_id=dialog.participant_id,
            owner="its participant",
        )
        if dialog.state in machine.definition.final_states:
            raise TransitionRefused(ref(dialog), "compile", dialog.state, [])
        below = rounds_below(app, session, dialog)
        waiting = [w for w in chain_waiting(app, session, dialog) if w.startswith("dialog ")]
        if waiting:
            raise TransitionRefused(
                ref(dialog),
                "compile",
                dialog.state,
                machine.allowed_triggers(dialog.state),
                reason="the round below is not held yet: " + "; ".join(waiting),
            )
        texts = _compiled_texts(app, below, assessments)
        now = app.clock.now()
        for old in session.scalars(select(Observation).where(Observation.instance_id == dialog.id)):
            session.delete(old)
        observations = [
            Observation(
                instance_id=dialog.id, school_form=form, text=text, author=actor, recorded_at=now
            )
            for form, text in sorted(texts.items())
        ]
        session.add_all(observations)
        session.flush()
        audit_instance(
            session,
            dialog,
            at=now,
            actor=actor,
            trigger="compile",
            from_state=dialog.state,
            reason=f"{len(below)} dialogs of the round below compiled into "
            f"{len(observations)} school forms",
        )
        step = next((s for s in dialog.checklist if s.key == COMPILE_STEP), None)
        if step is not None and step.done_at is None:
            step.done_at, step.done_by = now, actor
        if (
            "open_preparation" in machine.allowed_triggers(dialog.state)
            and machine.refusal(facts_of(app, dialog), "open_preparation") is None
        ):
            fire(app, session, dialog, "open_preparation", SYSTEM, "the round below is compiled")
        return observations


def _compiled_texts(
    app: App, below: list[Dialog], assessments: Mapping[str, str]
) -> dict[str, str]:
    """Per school form: the area head's assessment, then what each unit's dialog recorded."""
    by_form: dict[str, list[Dialog]] = defaultdict(list)
    for dialog in below:
        definition = app.machine(dialog.workflow, dialog.workflow_version).definition
        if dialog.state in definition.final_states and not dialog.minutes:
            continue  # cancelled: nothing was said
        by_form[dialog.unit.school_form or OTHER_FORMS].append(dialog)
    unknown = sorted(set(assessments) - set(by_form))
    if unknown:
        raise InputError(
            f"no unit of school form {', '.join(map(repr, unknown))} had a dialog in this round;"
            f" forms in the round: {', '.join(sorted(by_form)) or 'none'}",
            key="assessment",
        )
    texts = {}
    for form, dialogs in by_form.items():
        lines = [assessments[form].strip(), ""] if assessments.get(form, "").strip() else []
        lines.append("Underlag från dialogerna med rektorerna:")
        for dialog in dialogs:
            minutes = " ".join((dialog.minutes or "inga anteckningar").split())
            lines.append(f"- {dialog.unit.name}: {minutes}")
            lines.extend(
                f"  Överenskommelse: {a.text} ({a.owner.title}, senast {a.due_on.isoformat()})"
                for a in dialog.agreements
            )
        texts[form] = "\n".join(lines)
    return texts


def apply_steering(app: App, session: Session, dialogs: Iterable[Dialog]) -> int:
    """Add the steering steps the round above agreed to each of ``dialogs``; returns how many.

    A dialog of level L, round N receives every agreement of the dialogs of the level that
    chains after L, held in the round before N (the last round of the previous school year
    for N = 1), for the units above it. Idempotent: one step per agreement and dialog.
    """
    added = 0
    rounds: _Rounds = {}
    for dialog in dialogs:
        definition = app.machine(dialog.workflow, dialog.workflow_version).definition
        if dialog.state in held_states(definition):
            continue
        for upper, agreement in _steering_for(app, session, dialog, rounds):
            key = f"steer_{agreement.id}"
            if any(item.key == key for item in dialog.checklist):
                continue
            assert dialog.starts_at is not None
            due, remind, escalate = due_times(
                app, definition.spec.timing, dialog.starts_at, -STEER_DAYS_BEFORE
            )
            upper_definition = app.machine(upper.workflow, upper.workflow_version).definition
            round_title = _round_title(app, upper)
            add_step(
                dialog,
                key=key,
                title=f"Styrsignal från {round_title}: {agreement.text}"[:300],
                assignee_role=upper_definition.participant_role(upper.unit.kind),
                assignee=upper.participant,
                required=False,
                due_at=due,
                remind_at=remind,
                escalate_at=escalate,
                origin=f"chain:{ref(upper)}:agreement {agreement.id}",
            )
            added += 1
    return added


def steer_planned_rounds(app: App, session: Session, upper: Dialog) -> int:
    """After ``upper`` recorded agreements: steer the already planned next round below it."""
    definition = app.machine(upper.workflow, upper.workflow_version).definition
    below = definition.schedule.chain_after
    if below is None or not upper.agreements:
        return 0
    year, number = _next_round(
        definition, SchoolYear.parse(upper.school_year or ""), upper.round_no
    )
    lower = session.scalars(
        select(Dialog)
        .options(selectinload(Dialog.checklist))
        .where(
            Dialog.level == below,
            Dialog.school_year == year.label,
            Dialog.round_no == number,
            Dialog.unit_id.in_(subtree_ids(upper.unit_id)),
        )
    )
    return apply_steering(app, session, list(lower))


def _next_round(
    definition: WorkflowDefinition, year: SchoolYear, number: int
) -> tuple[SchoolYear, int]:
    numbers = sorted(r.number for r in definition.schedule.round)
    later = [n for n in numbers if n > number]
    return (year, later[0]) if later else (year.next(), numbers[0])


def _round_title(app: App, dialog: Dialog) -> str:
    spec = app.machine(dialog.workflow, dialog.workflow_version).definition.round(dialog.round_no)
    return spec.title if spec else f"dialogrunda {dialog.round_no}"


_Rounds = dict[tuple[str, str, int], dict[int, list[Dialog]]]
"""Upper rounds already read in one call: (level, school year, round) -> unit id -> dialogs."""


def _steering_for(
    app: App, session: Session, dialog: Dialog, rounds: _Rounds
) -> list[tuple[Dialog, Agreement]]:
    upper_levels = [
        m.definition
        for name, m in app.machines.items()
        if "@" not in name
        and m.definition.kind == "dialog"
        and m.definition.schedule.chain_after == dialog.level
    ]
    found: list[tuple[Dialog, Agreement]] = []
    unit_ids = [u.id for u in ancestors(session, dialog.unit)]
    for upper_definition in upper_levels:
        year, number = _previous_round(
            upper_definition, SchoolYear.parse(dialog.school_year or ""), dialog.round_no
        )
        if number is None:
            continue
        key = (upper_definition.schedule.level, year.label, number)
        by_unit = rounds.get(key)
        if by_unit is None:
            # one query per upper round, not per dialog: a round plans hundreds of dialogs
            by_unit = {}
            for upper in session.scalars(
                select(Dialog)
                .options(selectinload(Dialog.agreements), selectinload(Dialog.unit))
                .where(
                    Dialog.level == key[0],
                    Dialog.school_year == key[1],
                    Dialog.round_no == key[2],
                )
            ):
                by_unit.setdefault(upper.unit_id, []).append(upper)
            rounds[key] = by_unit
        found.extend(
            (upper, a)
            for unit_id in unit_ids
            for upper in by_unit.get(unit_id, ())
            for a in upper.agreements
        )
    return found


def _previous_round(
    definition: WorkflowDefinition, year: SchoolYear, number: int
) -> tuple[SchoolYear, int | None]:
    numbers = sorted(r.number for r in definition.schedule.round)
    earlier = [n for n in numbers if n < number]
    if earlier:
        return year, earlier[-1]
    return SchoolYear(year.start_year - 1), (numbers[-1] if numbers else None)
