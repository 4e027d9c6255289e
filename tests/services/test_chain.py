"""The chain between dialog levels: the round below is compiled upward, steering comes down."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlcount import statements
from support import line_with

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import Dialog, Instance, Observation, OrgUnit
from styrhjul.errors import DefinitionError, InputError, PermissionDenied, TransitionRefused
from styrhjul.services.chain import compile_round
from styrhjul.services.checklist import complete_agreement, complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import AgreementInput, close, hold, open_due_preparations
from styrhjul.services.instances import fire_trigger
from styrhjul.services.org_import import import_organisation
from styrhjul.services.planning import plan_round
from styrhjul.vocabulary import SYSTEM

YEAR = SchoolYear(2026)
AREA = "grundskola-norr"
HEAD = "verksamhetschef.grundskola-norr@example.se"
DIRECTOR = "utbildningsdirektor@example.se"
SECRETARY = "sekreterare.ledningsgrupp@example.se"
RECTOR = "rektor.vastra-skolan@example.se"


def _dialogs(app: App, level: str, round_no: int = 1, area: str | None = None) -> list[Dialog]:
    with app.db.session() as session:
        query = select(Dialog).where(Dialog.level == level, Dialog.round_no == round_no)
        if area:
            query = query.join(OrgUnit, Dialog.host_unit_id == OrgUnit.id).where(
                OrgUnit.code == area
            )
        found = list(session.scalars(query.order_by(Dialog.starts_at, Dialog.id)))
        for dialog in found:
            _ = dialog.checklist, dialog.unit, dialog.agreements
        return found


def _director_dialog(app: App, area: str = AREA, round_no: int = 1) -> Dialog:
    with app.db.session() as session:
        dialog = session.scalar(
            select(Dialog)
            .join(OrgUnit, Dialog.unit_id == OrgUnit.id)
            .where(
                Dialog.level == "director_area", Dialog.round_no == round_no, OrgUnit.code == area
            )
        )
        assert dialog is not None
        _ = dialog.checklist, dialog.agreements
        return dialog


def _hold_area(app: App, clock: FixedClock, area: str = AREA) -> list[Dialog]:
    """Hold every area head ↔ rektor dialog of round 1 in ``area``, the first with an agreement."""
    below = _dialogs(app, "area_rektor", 1, area)
    clock.set(max(d.starts_at for d in below if d.starts_at) + timedelta(hours=2))
    open_due_preparations(app)
    for i, dialog in enumerate(below):
        agreements = (
            [AgreementInput("Följ upp läsförståelsen i åk 3", RECTOR, date(2027, 1, 15))]
            if i == 0
            else []
        )
        hold(app, dialog.id, actor=HEAD, minutes=f"Samtal om resultaten ({dialog.unit.name})",
             agreements=agreements)  # fmt: skip
    return below


@pytest.fixture
def chained(app: App, clock: FixedClock) -> App:
    """Round 1 of 2026/27 planned at both levels (area head ↔ rektor, director ↔ area heads)."""
    plan_round(app, YEAR, 1)
    result = plan_round(app, YEAR, 1, level="director_area")
    assert len(result.created) == 5
    return app


def test_every_dialog_level_plans_its_units(app: App) -> None:
    counts = {
        level: len(plan_round(app, YEAR, 1, level=level).created)
        for level in ("area_rektor", "director_area", "director_department", "rektor_team",
                      "council_board")
    }  # fmt: skip
    assert counts == {"area_rektor": 40, "director_area": 5, "director_department": 9,
                      "rektor_team": 5, "council_board": 2}  # fmt: skip
    board = _dialogs(app, "council_board")
    assert {d.unit.code for d in board} == {"bun", "ifn"}
    assert all(d.starts_at.astimezone(STOCKHOLM).month == 10 for d in board)


def test_an_unknown_level_is_refused_with_the_known_ones(app: App) -> None:
    with pytest.raises(InputError, match="unknown dialog level 'board'; levels are: area_rektor"):
        plan_round(app, YEAR, 1, level="board")


def test_director_round_waits_for_the_round_below(chained: App, clock: FixedClock) -> None:
    upper = _director_dialog(chained)
    assert upper.prepare_at is not None
    clock.set(upper.prepare_at + timedelta(hours=1))
    opened = open_due_preparations(chained)
    assert upper.id not in opened
    assert _director_dialog(chained).state == "planned"
    with pytest.raises(TransitionRefused, match=r"round below is not held yet: dialog \d+ \("):
        compile_round(chained, upper.id, actor=HEAD, assessments={"grundskola": "Bra"})


def test_compiling_attaches_observations_and_opens_preparation(
    chained: App, clock: FixedClock
) -> None:
    below = _hold_area(chained, clock)
    upper = _director_dialog(chained)
    assert upper.prepare_at is not None
    clock.set(max(clock.now(), upper.prepare_at) + timedelta(hours=1))
    with pytest.raises(PermissionDenied, match="only its participant"):
        compile_round(chained, upper.id, actor=RECTOR, assessments={})
    with pytest.raises(InputError, match="no unit of school form 'förskola'"):
        compile_round(chained, upper.id, actor=HEAD, assessments={"förskola": "x"})
    observations = compile_round(
        chained, upper.id, actor=HEAD, assessments={"grundskola": "Läsförståelsen sjunker i åk 3."}
    )
    assert [o.school_form for o in observations] == ["grundskola"]
    text = observations[0].text
    assert text.startswith("Läsförståelsen sjunker i åk 3.")
    for dialog in below:
        assert f"- {dialog.unit.name}: Samtal om resultaten ({dialog.unit.name})" in text
    assert "Överenskommelse: Följ upp läsförståelsen i åk 3" in text
    after = _director_dialog(chained)
    assert after.state == "preparing"
    assert next(s for s in after.checklist if s.key == "compile").done_by == HEAD
    other = _director_dialog(chained, "forskola")
    assert other.state == "planned"


def test_compiling_before_the_window_leaves_opening_to_the_tick(
    chained: App, clock: FixedClock
) -> None:
    _hold_area(chained, clock)
    upper = _director_dialog(chained)
    assert upper.prepare_at is not None
    assert clock.now() < upper.prepare_at
    compile_round(chained, upper.id, actor=HEAD, assessments={})
    assert _director_dialog(chained).state == "planned"
    clock.set(upper.prepare_at + timedelta(minutes=5))
    assert upper.id in open_due_preparations(chained)
    with chained.db.session() as session:
        compiled = session.scalars(select(Observation).where(Observation.instance_id == upper.id))
        assert [o.school_form for o in compiled] == ["grundskola"]


def test_the_tick_does_not_retry_a_dialog_waiting_for_its_round(
    chained: App, clock: FixedClock
) -> None:
    """Every director's window is open and no round below is compiled: nothing is loaded."""
    directors = _dialogs(chained, "director_area")
    clock.set(max(d.prepare_at for d in directors if d.prepare_at) + timedelta(hours=1))
    open_due_preparations(chained)  # the rounds below whose windows came
    with statements(chained) as seen:
        assert open_due_preparations(chained) == []
    assert len(seen) == 1  # the candidates' SELECT, not a transaction per waiting dialog
    assert {d.state for d in _dialogs(chained, "director_area")} == {"planned"}
    with pytest.raises(TransitionRefused, match="waiting for the round below"):
        fire_trigger(chained, directors[0].id, "open_preparation", actor=SYSTEM)


def test_a_compiled_dialog_whose_round_grew_is_left_to_its_guard(
    chained: App, clock: FixedClock
) -> None:
    """Compiled, but a dialog below is not held (as one planned after the compilation)."""
    below = _hold_area(chained, clock)
    upper = _director_dialog(chained)
    assert upper.prepare_at is not None
    assert clock.now() < upper.prepare_at
    compile_round(chained, upper.id, actor=HEAD, assessments={})
    with chained.db.session() as session:
        session.execute(update(Instance).where(Instance.id == below[-1].id).values(state="ready"))
    clock.set(upper.prepare_at + timedelta(minutes=5))
    assert upper.id not in open_due_preparations(chained)
    assert _director_dialog(chained).state == "planned"
    hold(chained, below[-1].id, actor=HEAD, minutes="Hölls till slut")
    assert upper.id in open_due_preparations(chained)
    assert _director_dialog(chained).state == "preparing"


def _hold_director(app: App, clock: FixedClock) -> Dialog:
    _hold_area(app, clock)
    upper = _director_dialog(app)
    compile_round(app, upper.id, actor=HEAD, assessments={})
    assert upper.starts_at is not None
    clock.set(upper.starts_at + timedelta(minutes=30))
    assert upper.id in open_due_preparations(app)
    hold(
        app,
        upper.id,
        actor=DIRECTOR,
        minutes="Resultaten i grundskolan norr",
        agreements=[AgreementInput("Inför gemensam läsgenomgång i åk 3", HEAD, date(2027, 2, 1))],
    )
    return _director_dialog(app)


def test_director_agreements_become_steps_in_the_next_round_below(
    chained: App, clock: FixedClock
) -> None:
    upper = _hold_director(chained, clock)
    agreement = upper.agreements[0]
    plan_round(chained, YEAR, 2)
    steered = _dialogs(chained, "area_rektor", 2, AREA)
    assert steered
    for dialog in steered:
        step = next(s for s in dialog.checklist if s.key == f"steer_{agreement.id}")
        assert step.title.startswith("Styrsignal från Dialogrunda 1 på huvudmannanivå")
        assert step.title.endswith("Inför gemensam läsgenomgång i åk 3")
        assert step.assignee_id == upper.participant_id
        assert not step.required
        assert step.origin == f"chain:dialog {upper.id}:agreement {agreement.id}"
        assert dialog.starts_at is not None
        assert step.due_at < dialog.starts_at
    elsewhere = _dialogs(chained, "area_rektor", 2, "forskola")
    assert elsewhere
    assert not any(s.key.startswith("steer_") for d in elsewhere for s in d.checklist)


def test_steering_reaches_a_round_planned_before_the_decision(
    chained: App, clock: FixedClock
) -> None:
    plan_round(chained, YEAR, 2)
    upper = _hold_director(chained, clock)
    key = f"steer_{upper.agreements[0].id}"
    steered = _dialogs(chained, "area_rektor", 2, AREA)
    assert all(any(s.key == key for s in d.checklist) for d in steered)
    plan_round(chained, YEAR, 2)  # planning again adds nothing twice
    again = _dialogs(chained, "area_rektor", 2, AREA)
    assert all(sum(s.key == key for s in d.checklist) == 1 for d in again)


def test_board_dialogs_fall_in_october_and_april(app: App) -> None:
    autumn = plan_round(app, YEAR, 1, level="council_board")
    spring = plan_round(app, YEAR, 2, level="council_board")
    months = {
        d.starts_at.astimezone(STOCKHOLM).month
        for d in _dialogs(app, "council_board", 1) + _dialogs(app, "council_board", 2)
        if d.starts_at
    }
    assert months == {10, 4}
    assert len(autumn.created) == len(spring.created) == 2
    dialog = _dialogs(app, "council_board", 1)[0]
    basis = next(s for s in dialog.checklist if s.key == "economy_basis")
    with app.db.session() as session:
        step = session.get(type(basis), basis.id)
        assert step is not None
        assert step.assignee is not None
        assert step.assignee.email == DIRECTOR
    assert datetime(2026, 10, 1, tzinfo=STOCKHOLM) < dialog.starts_at  # type: ignore[operator]


def test_a_school_meets_its_teams_on_its_own_cycle(app: App) -> None:
    plan_round(app, YEAR, 1, level="rektor_team")
    starts = {d.unit.code: d.starts_at.astimezone(STOCKHOLM).date() for d in
              _dialogs(app, "rektor_team") if d.starts_at}  # fmt: skip
    assert starts["vastra-skolan-f-3"] >= date(2026, 9, 14)
    assert starts["vastra-skolan-f-3"] < date(2026, 9, 21)
    assert starts["norra-gymnasiet-naturvetenskap"] >= date(2026, 9, 21)


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ('{ rektor_teams = ["09-14", "01-11", "04-19"] }',
         "unknown dialog level 'rektor_teams'; levels are: area_rektor"),
        ('{ rektor_team = ["09-14", "01-11"] }',
         "level rektor_team has 3 rounds a year, so give 3 windows, not 2"),
        ('{ rektor_team = ["09-31", "01-11", "04-19"] }', "dialog_windows"),
    ],
)  # fmt: skip
def test_a_bad_own_cycle_is_refused_with_its_place(
    empty_app: App, tmp_path: Path, windows: str, message: str
) -> None:
    with as_file(files("styrhjul.examples") / "organisation.toml") as path:
        text = Path(path).read_text(encoding="utf-8")
    broken = text.replace('dialog_windows = { rektor_team = ["09-14", "01-11", "04-19"] }',
                          f"dialog_windows = {windows}")  # fmt: skip
    assert broken != text
    target = tmp_path / "org.toml"
    target.write_text(broken, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        import_organisation(empty_app, target)
    assert info.value.line == line_with(broken, "dialog_windows = ")
    assert message in str(info.value)
    with empty_app.db.session() as session:
        assert session.scalar(select(OrgUnit.id)) is None


def test_importing_the_own_cycle_again_changes_nothing(app: App) -> None:
    with as_file(files("styrhjul.examples") / "organisation.toml") as path:
        summary = import_organisation(app, Path(path))
    assert summary.units_updated == 0


@pytest.mark.parametrize(
    ("level", "unit", "runner", "owner"),
    [
        ("director_department", "elevhalsan", DIRECTOR, "avdelningschef.elevhalsan@example.se"),
        ("rektor_team", "vastra-skolan-f-3", RECTOR,
         "arbetslagsledare.vastra-skolan-f-3@example.se"),
        ("council_board", "bun", "ordforande.kf@example.se", "ordforande.bun@example.se"),
    ],
)  # fmt: skip
def test_every_level_runs_a_dialog_from_plan_to_closed(
    app: App, clock: FixedClock, level: str, unit: str, runner: str, owner: str
) -> None:
    plan_round(app, YEAR, 1, level=level)
    (dialog,) = [d for d in _dialogs(app, level) if d.unit.code == unit]
    assert dialog.prepare_at is not None
    assert dialog.starts_at is not None
    assert dialog.participant_id is not None
    clock.set(max(clock.now(), dialog.prepare_at) + timedelta(minutes=1))
    assert dialog.id in open_due_preparations(app)
    for step in dialog.checklist:
        complete_step(app, step.id, actor="system")
    assert _state(app, dialog.id) == "ready"
    clock.set(dialog.starts_at + timedelta(minutes=10))
    with pytest.raises(PermissionDenied):
        hold(app, dialog.id, actor=owner, minutes="x")
    hold(app, dialog.id, actor=runner, minutes="Genomförd enligt plan",
         agreements=[AgreementInput("Återkom med en plan", owner, date(2027, 1, 29))])  # fmt: skip
    (agreement,) = _agreements(app, dialog.id)
    complete_agreement(app, agreement, actor=owner)
    assert close(app, dialog.id, actor=runner) == "closed"


def _state(app: App, dialog_id: int) -> str:
    with app.db.session() as session:
        found = session.get(Dialog, dialog_id)
        assert found is not None
        return found.state


def _agreements(app: App, dialog_id: int) -> list[int]:
    with app.db.session() as session:
        found = session.get(Dialog, dialog_id)
        assert found is not None
        return [a.id for a in found.agreements]
