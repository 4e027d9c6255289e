"""The scorecard (styrkort): CSV import, the read model, and the two rules that act on outcomes.

"Minst 97 %" against an outcome of 96 % is not met and becomes a step of the unit's next
dialog; a budget deviation beyond the configured threshold starts a special economic
follow-up, which is walked through its whole life here.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import dialog_id_of, line_with, write_config

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.db.governance import Measure, Outcome
from styrhjul.db.models import AuditEvent, ChecklistItem, Dialog, Instance
from styrhjul.errors import ConfigError, InputError, NotFound, PermissionDenied, TransitionRefused
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import cancel
from styrhjul.services.instances import fire_trigger
from styrhjul.services.planning import plan_round
from styrhjul.services.scorecard import evaluate_scorecard, scorecard, step_key
from styrhjul.services.scorecard_import import (
    format_number,
    import_scorecard,
    parse_number,
    parse_target,
)
from styrhjul.wiring import build

UNIT = "vastra-skolan"
RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
DIRECTOR = "utbildningsdirektor@example.se"
CONTROLLER = "chefscontroller@example.se"
HEADER = "unit,code,title,target,comparator,unit_label,period,value"
TRYGGHET = "Andel elever som känner trygghet"


def write_csv(folder: Path, *rows: str, header: str = HEADER, name: str = "styrkort.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def trygghet(value: str, unit: str = UNIT, target: str = "Minst 97 %") -> str:
    return f"{unit},trygghet,{TRYGGHET},{target},,,2025/26,{value}"


def budget(value: str, unit: str = UNIT, period: str = "2026-T1") -> str:
    return f'{unit},budgetavvikelse,Budgetavvikelse,Minst 0 %,,,{period},"{value}"'


def count(app: App, model: type) -> int:
    with app.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def scorecard_steps(app: App, dialog_id: int) -> list[ChecklistItem]:
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id)
        assert dialog is not None
        steps = [s for s in dialog.checklist if s.origin.startswith("scorecard:")]
        for step in steps:
            _ = step.assignee
        return steps


def follow_ups(app: App) -> list[Instance]:
    with app.db.session() as session:
        found = list(
            session.scalars(select(Instance).where(Instance.workflow == "economic_follow_up"))
        )
        for instance in found:
            _ = instance.checklist, instance.unit
            for step in instance.checklist:
                _ = step.assignee
        return found


# --- parsing the way the documents write numbers ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Minst 97 %", ("at_least", 97.0, "%")),
        ("Högst 2 %", ("at_most", 2.0, "%")),
        ("Max 1,7 %", ("at_most", 1.7, "%")),
        ("Minst 72,5 %", ("at_least", 72.5, "%")),
        ("Minst 2 800 st", ("at_least", 2800.0, "st")),
        ("Minst index 68", ("at_least", 68.0, "index")),
        ("minst 230 poäng", ("at_least", 230.0, "poäng")),
        ("97", (None, 97.0, "")),
        ("Ungefär 97 %", None),
        ("Minst", None),
        ("", None),
    ],
)
def test_targets_are_read_as_the_documents_write_them(text, expected):
    assert parse_target(text) == expected


def test_numbers_take_a_decimal_comma_and_thousands_spaces():
    assert parse_number("96,5") == (96.5, "")
    assert parse_number("96.5 %") == (96.5, "%")
    assert parse_number("-3,4") == (-3.4, "")
    assert parse_number("2 750") == (2750.0, "")
    assert parse_number("9x") == (9.0, "x")  # the caller refuses what follows the number
    assert parse_number("x9") is None
    assert [format_number(v) for v in (96, 96.5, -3.4, 2800, 0.25)] == [
        "96", "96,5", "-3,4", "2 800", "0,25",
    ]  # fmt: skip


def test_step_keys_are_sanitised_codes_and_periods():
    assert step_key("trygghet", "2025/26") == "scorecard_trygghet_2025_26"
    assert step_key("nojdhet-vh", "VT 2026") == "scorecard_nojdhet_vh_vt_2026"
    assert step_key("franvaro", "Höst-2026") == "scorecard_franvaro_host_2026"


# --- the rule: an unmet target becomes a step of the unit's next dialog ------------------


def test_96_against_minst_97_is_not_met_and_lands_on_the_next_dialog(
    planned_app: App, tmp_path: Path
):
    app = planned_app
    import_scorecard(app, write_csv(tmp_path, trygghet("96")))
    (view,) = scorecard(app, unit=UNIT)
    assert (view.target_text, view.outcomes[0].value_text, view.outcomes[0].met) == (
        "minst 97 %", "96 %", False,
    )  # fmt: skip

    report = evaluate_scorecard(app)

    dialog_id = dialog_id_of(app, UNIT)
    (unmet,) = report.unmet
    assert (unmet.status, unmet.dialog_id, unmet.step_key) == (
        "added", dialog_id, "scorecard_trygghet_2025_26",
    )  # fmt: skip
    (step,) = scorecard_steps(app, dialog_id)
    assert step.key == "scorecard_trygghet_2025_26"
    assert step.title == (
        f"Analysera ej uppnått mål: {TRYGGHET} – utfall 96 % mot målvärde minst 97 % (2025/26)"
    )
    assert step.origin == "scorecard:trygghet:2025/26"
    assert (step.assignee_role, step.assignee.email, step.required) == ("rektor", RECTOR, True)
    with app.db.session() as session:
        dialog = session.get(Dialog, dialog_id)
        assert dialog is not None
        starts = dialog.starts_at.astimezone(STOCKHOLM)
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == dialog_id).order_by(AuditEvent.id)
        ).all()
    due = step.due_at.astimezone(STOCKHOLM)
    assert due.date() == app.calendar.add_working_days(starts.date(), -2)
    assert due.time() == time(16, 0)
    assert step.remind_at is not None
    assert step.escalate_at is not None
    assert step.escalate_at > step.due_at
    assert (audit[-1].actor, audit[-1].trigger) == ("system", "add_step")
    assert "trygghet 2025/26" in audit[-1].reason


def test_97_against_minst_97_is_met_and_adds_nothing(planned_app: App, tmp_path: Path):
    app = planned_app
    import_scorecard(app, write_csv(tmp_path, trygghet("97")))
    assert scorecard(app)[0].outcomes[0].met is True
    report = evaluate_scorecard(app)
    assert (report.outcomes_checked, report.unmet, report.steps_added) == (1, [], 0)
    assert scorecard_steps(app, dialog_id_of(app, UNIT)) == []


@pytest.mark.parametrize(
    ("value", "met"), [("8", True), ("7,9", True), ("8,1", False), ("12", False)]
)
def test_at_most_is_met_at_or_below_the_target(
    planned_app: App, tmp_path: Path, value: str, met: bool
):
    app = planned_app
    row = f'{UNIT},franvaro,Andel elever med hög frånvaro,8,at_most,%,2025/26,"{value}"'
    import_scorecard(app, write_csv(tmp_path, row))
    (view,) = scorecard(app)
    assert (view.target_text, view.outcomes[0].met) == ("högst 8 %", met)
    report = evaluate_scorecard(app)
    assert report.steps_added == (0 if met else 1)
    assert len(scorecard_steps(app, dialog_id_of(app, UNIT))) == (0 if met else 1)


def test_evaluating_twice_adds_nothing(planned_app: App, tmp_path: Path):
    app = planned_app
    import_scorecard(app, write_csv(tmp_path, trygghet("96"), budget("-3,4")))
    first = evaluate_scorecard(app)
    assert (first.steps_added, first.follow_ups_started) == (2, 1)
    dialog_id = dialog_id_of(app, UNIT)
    with app.db.session() as session:
        version = session.get(Dialog, dialog_id).version  # type: ignore[union-attr]
    rows = count(app, ChecklistItem), count(app, Instance), count(app, AuditEvent)

    second = evaluate_scorecard(app)

    assert (second.steps_added, second.follow_ups_started) == (0, 0)
    assert {u.status for u in second.unmet} == {"already"}
    assert [d.status for d in second.deviations] == ["already"]
    assert (count(app, ChecklistItem), count(app, Instance), count(app, AuditEvent)) == rows
    with app.db.session() as session:
        assert session.get(Dialog, dialog_id).version == version  # type: ignore[union-attr]


def test_only_the_period_asked_for_is_evaluated(planned_app: App, tmp_path: Path):
    app = planned_app
    older = f"{UNIT},trygghet,{TRYGGHET},Minst 97 %,,,2024/25,95"
    import_scorecard(app, write_csv(tmp_path, older, trygghet("96")))
    report = evaluate_scorecard(app, "2024/25")
    assert [(u.period, u.status) for u in report.unmet] == [("2024/25", "added")]
    assert [s.key for s in scorecard_steps(app, dialog_id_of(app, UNIT))] == [
        "scorecard_trygghet_2024_25"
    ]


def test_a_unit_without_an_upcoming_dialog_is_reported_and_served_later(app: App, tmp_path: Path):
    import_scorecard(app, write_csv(tmp_path, trygghet("96")))
    report = evaluate_scorecard(app)
    assert [(u.unit, u.status) for u in report.without_dialog] == [(UNIT, "no_dialog")]
    assert report.steps_added == 0

    plan_round(app, SchoolYear(2026), 1)
    later = evaluate_scorecard(app)

    assert later.without_dialog == []
    assert [(u.status, u.dialog_id) for u in later.unmet] == [("added", dialog_id_of(app, UNIT))]


def test_a_cancelled_or_started_dialog_is_not_the_next_one(
    planned_app: App, tmp_path: Path, clock: FixedClock
):
    app = planned_app
    import_scorecard(
        app, write_csv(tmp_path, trygghet("96"), trygghet("90", unit="norrbackaskolan"))
    )
    cancel(app, dialog_id_of(app, UNIT), actor=DIRECTOR, reason="Enheten slås samman")
    with app.db.session() as session:
        other = session.get(Dialog, dialog_id_of(app, "norrbackaskolan"))
        assert other is not None
        clock.set(other.starts_at)  # the dialog begins now: too late to prepare for it

    report = evaluate_scorecard(app)

    assert sorted(u.unit for u in report.without_dialog) == ["norrbackaskolan", UNIT]
    assert scorecard_steps(app, dialog_id_of(app, UNIT)) == []
    assert scorecard_steps(app, dialog_id_of(app, "norrbackaskolan")) == []


# --- the rule: a budget deviation beyond the threshold starts economic follow-up --------


def test_a_budget_deviation_over_the_threshold_starts_economic_follow_up(
    planned_app: App, tmp_path: Path
):
    app = planned_app
    rows = [
        budget("-3,4"),
        budget("2,6", unit="norrbackaskolan"),
        budget("-1,5", unit="bergaskolan"),
    ]
    rows.append(budget("2", unit="lonnskolan"))  # the threshold itself is not beyond it
    import_scorecard(app, write_csv(tmp_path, *rows))

    report = evaluate_scorecard(app)

    assert sorted((d.unit, d.value, d.status) for d in report.deviations) == [
        ("norrbackaskolan", 2.6, "started"),
        (UNIT, -3.4, "started"),
    ]
    started = {f.unit.code: f for f in follow_ups(app)}
    assert sorted(started) == ["norrbackaskolan", UNIT]
    follow_up = started[UNIT]
    assert follow_up.key == f"economic_follow_up:2026-T1:{UNIT}"
    assert (follow_up.kind, follow_up.state) == ("process", "analysis")
    assert follow_up.title == "Särskild ekonomisk uppföljning 2026-T1 – Västra skolan"
    (step,) = follow_up.checklist
    assert (step.key, step.assignee.email, step.required) == ("analyse_deviation", RECTOR, True)
    assert step.due_at.astimezone(STOCKHOLM).date() == app.calendar.add_working_days(
        app.clock.today(), 10
    )
    with app.db.session() as session:
        (audit,) = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "process", AuditEvent.entity_id == follow_up.id
            )
        ).all()
    assert (audit.trigger, audit.from_state, audit.to_state) == ("start", None, "analysis")
    assert "-3,4 %" in audit.reason


def test_the_threshold_comes_from_the_configuration(
    planned_url: str, tmp_path: Path, clock: FixedClock
):
    folder = tmp_path / "strict"
    folder.mkdir()
    extra = '\n[scorecard]\nbudget_deviation_threshold_percent = 5\nbudget_measure = "budget"\n'
    settings = load_settings(write_config(folder, planned_url, extra=extra), environ={})
    app = build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))
    try:
        rows = [
            f"{UNIT},budget,Budgetavvikelse,Minst 0 %,,,2026-T1,-4",
            "norrbackaskolan,budget,Budgetavvikelse,Minst 0 %,,,2026-T1,-6",
            budget("-9"),  # not the configured budget measure
        ]
        import_scorecard(app, write_csv(tmp_path, *rows))
        report = evaluate_scorecard(app)
        assert [(d.unit, d.threshold) for d in report.deviations] == [("norrbackaskolan", 5.0)]
    finally:
        app.close()


def test_a_bad_threshold_is_refused_with_its_line(tmp_path: Path):
    extra = "\n[scorecard]\nbudget_deviation_threshold_percent = 0\n"
    path = write_config(tmp_path, "sqlite:///styrhjul.db", extra=extra)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    line = line_with(path.read_text(encoding="utf-8"), "budget_deviation_threshold_percent")
    assert (caught.value.line, caught.value.key) == (
        line,
        "scorecard.budget_deviation_threshold_percent",
    )


def test_the_economic_follow_up_runs_its_whole_life(planned_app: App, tmp_path: Path):
    app = planned_app
    import_scorecard(app, write_csv(tmp_path, budget("-3,4")))
    evaluate_scorecard(app)
    (follow_up,) = follow_ups(app)

    def steps() -> dict[str, ChecklistItem]:
        (current,) = [f for f in follow_ups(app) if f.id == follow_up.id]
        return {s.key: s for s in current.checklist}

    with pytest.raises(TransitionRefused, match="analyse_deviation"):
        fire_trigger(app, follow_up.id, "plan_actions", actor=RECTOR)
    complete_step(app, steps()["analyse_deviation"].id, actor=RECTOR)
    assert fire_trigger(app, follow_up.id, "plan_actions", actor=RECTOR) == "action_plan"
    raised = steps()
    assert raised["action_plan"].assignee.email == RECTOR
    assert raised["economist_support"].assignee.email == CONTROLLER
    assert raised["economist_support"].required is False
    complete_step(app, raised["action_plan"].id, actor=RECTOR)
    assert fire_trigger(app, follow_up.id, "review", actor=RECTOR) == "review"
    complete_step(app, steps()["review_with_area_head"].id, actor=HEAD)
    with pytest.raises(PermissionDenied, match="'report' needs one of the roles area_head"):
        fire_trigger(app, follow_up.id, "report", actor=RECTOR)  # only the area head reports
    assert fire_trigger(app, follow_up.id, "report", actor=HEAD) == "reporting"
    assert steps()["report_to_director"].assignee.email == HEAD
    complete_step(app, steps()["report_to_director"].id, actor=HEAD)
    assert fire_trigger(app, follow_up.id, "close", actor=HEAD) == "closed"
    with pytest.raises(TransitionRefused, match="final state"):
        fire_trigger(app, follow_up.id, "close", actor=DIRECTOR)
    assert evaluate_scorecard(app).follow_ups_started == 0  # once per unit and period


# --- importing --------------------------------------------------------------------------


def test_decimal_commas_semicolons_and_worded_targets(app: App, tmp_path: Path):
    rows = [
        f"{UNIT};meritvarde;Genomsnittligt meritvärde;Minst 230 poäng;;;2025/26;226,4",
        f"{UNIT};forvarv;Andel förvärvsarbetande;72,5;minst;%;2025/26;72,5 %",
        f"{UNIT};bostader;Bostäder i buffert;Minst 2 800 st;;;2026;2 750",
        f"{UNIT};bistand;Andel med långvarigt bistånd;Max 1,7 %;;;;",
    ]
    path = write_csv(tmp_path, *rows, header=HEADER.replace(",", ";"))
    summary = import_scorecard(app, path)
    assert (summary.rows, summary.measures_added, summary.outcomes_added) == (4, 4, 3)
    views = {v.code: v for v in scorecard(app, unit=UNIT)}
    assert (views["meritvarde"].outcomes[0].value, views["meritvarde"].outcomes[0].met) == (
        226.4, False,
    )  # fmt: skip
    assert (views["forvarv"].target, views["forvarv"].outcomes[0].met) == (72.5, True)
    assert views["bostader"].target_text == "minst 2 800 st"
    assert views["bostader"].outcomes[0].value_text == "2 750 st"
    assert (views["bistand"].comparator, views["bistand"].outcomes) == ("at_most", [])
    quoted = write_csv(
        tmp_path,
        f'{UNIT},forvarv,Andel förvärvsarbetande,"Minst 72,5 %",,,2026,"73,1"',
        name="komma.csv",
    )
    assert import_scorecard(app, quoted).outcomes_added == 1


def test_importing_again_changes_nothing_and_a_changed_value_is_audited(app: App, tmp_path: Path):
    path = write_csv(tmp_path, trygghet("96"), budget("-3,4"))
    import_scorecard(app, path)
    rows = count(app, Measure), count(app, Outcome), count(app, AuditEvent)

    again = import_scorecard(app, path)

    assert (again.measures_added, again.measures_updated) == (0, 0)
    assert (again.outcomes_added, again.outcomes_updated, again.outcomes_unchanged) == (0, 0, 2)
    assert (count(app, Measure), count(app, Outcome), count(app, AuditEvent)) == rows

    changed = write_csv(
        tmp_path, trygghet("97", target="Minst 98 %"), budget("-3,4"), name="rättad.csv"
    )
    summary = import_scorecard(app, changed, actor=RECTOR)

    assert (summary.measures_updated, summary.outcomes_updated) == (1, 1)
    assert summary.changes == [
        f"{UNIT}/trygghet: target minst 97 % -> minst 98 %",
        f"{UNIT}/trygghet 2025/26: outcome 96 % -> 97 %",
    ]
    (view,) = [v for v in scorecard(app, period="2025/26") if v.code == "trygghet"]
    assert (view.target, view.outcomes[0].value, view.outcomes[0].met) == (98.0, 97.0, False)
    with app.db.session() as session:
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.entity.in_(["measure", "outcome"]))
        ).all()
    assert sorted((a.entity, a.actor, a.trigger) for a in audit) == [
        ("measure", RECTOR, "import"),
        ("outcome", RECTOR, "import"),
    ]
    assert all("rättad.csv" in a.reason for a in audit)


GOOD = trygghet("96")


@pytest.mark.parametrize(
    ("rows", "header", "line", "column", "message"),
    [
        ([GOOD, trygghet("96", unit="okand-skola")], HEADER, 3, "unit",
         "unknown unit 'okand-skola'"),
        ([GOOD, f"{UNIT},nojdhet,Nöjdhet,Minst 92 %,,,2025/26,9x"], HEADER, 3, "value", "'9x'"),
        ([GOOD, f"{UNIT},nojdhet,Nöjdhet,92,ungefär,%,2025/26,90"], HEADER, 3, "comparator",
         "unknown comparator 'ungefär'"),
        ([GOOD, trygghet("95", target="Minst 95 %").replace("2025/26", "2024/25")], HEADER, 3,
         "target", "target minst 95 % here, but minst 97 % on line 2"),
        ([GOOD, f"{UNIT},nojdhet,Nöjdhet,Ungefär 92 %,,,2025/26,90"], HEADER, 3, "target",
         "expected a target"),
        ([GOOD, f"{UNIT},nojdhet,Nöjdhet,92,,,2025/26,90"], HEADER, 3, "target",
         "needs a comparator"),
        ([GOOD, f"{UNIT},nojdhet,Nöjdhet,Minst 92 %,,,,90"], HEADER, 3, "period",
         "needs the period"),
        ([GOOD, f"{UNIT},Nöjdhet!,Nöjdhet,Minst 92 %,,,2025/26,90"], HEADER, 3, "code",
         "expected a code"),
        ([GOOD, f"{UNIT},nojdhet,Nöjdhet,Minst 92 %"], HEADER, 3, "row", "4 cells"),
        ([GOOD, trygghet("95")], HEADER, 3, "value", "another outcome for 2025/26 on line 2"),
        ([GOOD], "unit,code,title,comparator,period,value", 1, "target",
         "required column is missing"),
        ([GOOD], HEADER + ",kommentar", 1, "kommentar", "unknown column"),
    ],
)  # fmt: skip
def test_every_bad_row_names_file_line_and_column_and_nothing_is_written(
    app: App, tmp_path: Path, rows: list[str], header: str, line: int, column: str, message: str
):
    path = write_csv(tmp_path, *rows, header=header)
    with pytest.raises(InputError) as caught:
        import_scorecard(app, path)
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, column)
    assert message in str(error)
    assert str(error).startswith(f"{path}:{line}: {column}: ")
    assert (count(app, Measure), count(app, Outcome)) == (0, 0)


def test_every_problem_of_a_file_is_listed(app: App, tmp_path: Path):
    path = write_csv(tmp_path, trygghet("9x"), trygghet("96", unit="okand"), GOOD)
    with pytest.raises(InputError) as caught:
        import_scorecard(app, path)
    assert (caught.value.line, caught.value.key) == (2, "value")
    assert f"\n{path}:3: unit: unknown unit 'okand'" in str(caught.value)


def test_a_missing_file_and_an_unknown_unit_filter(app: App, tmp_path: Path):
    with pytest.raises(InputError, match="file not found"):
        import_scorecard(app, tmp_path / "saknas.csv")
    with pytest.raises(NotFound, match="unit 'okand'"):
        scorecard(app, unit="okand")
