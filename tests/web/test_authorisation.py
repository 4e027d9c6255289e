"""Every kind of user against every action of the web app: allowed or refused.

:data:`MATRIX` lists each route of the app (pages and API) with the kinds of user it
allows; every other kind is refused, a logged-in one with 403, an anonymous one with the
login redirect (pages) or 401 (API). The coverage test fails when a route exists that the
matrix does not name, so a new route cannot skip it.

Each test gets a copy of one scene, built once per module: round 1 of 2026/27 under way
(Västra skolan's dialog preparing with the rektor's step open, two more grundskola-norr
dialogs held, one with its agreement done), the management group's (LG) meetings in every
state from planned to approved, a feed token of the rektor's, accounts for the
administrators to act on, and a session for each kind of user. A refused request must
change nothing (the audit trail and the outbox are compared before and after); an allowed
write gets a fresh copy so one role's success never turns another's into a 409.

Run on SQLite only: who may do what is decided in the services, the same on both databases,
and the other web tests run on both."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from support import START, write_config

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.db.models import AuditEvent, OutboxMessage
from styrhjul.errors import NotAuthenticated
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.accounts import create_account, log_in, set_disabled
from styrhjul.services.checklist import complete_agreement
from styrhjul.services.context import App
from styrhjul.services.definitions import remember_definitions
from styrhjul.services.dialogs import AgreementInput, hold, open_due_preparations
from styrhjul.services.feed_tokens import create_token
from styrhjul.services.meeting_agenda import add_agenda_item
from styrhjul.services.meeting_minutes import ActionInput, MeetingRecord, hold_meeting
from styrhjul.services.meeting_views import meeting_detail
from styrhjul.services.meetings import approve_minutes, schedule_meeting, send_agenda
from styrhjul.services.org_import import import_organisation
from styrhjul.services.planning import plan_round
from styrhjul.services.views import dialog_detail, list_dialogs
from styrhjul.services.workflow_install import text_digest
from styrhjul.web import pages
from styrhjul.web.app import create_web_app
from styrhjul.web.security import COOKIE
from styrhjul.wiring import build
from styrhjul.workflows import definition_path

from .webkit import PASSWORD, ROLES, make_accounts

KINDS = (*ROLES, "anonymous")
EVERYONE = frozenset(ROLES)
SECRETARY, RECTOR, HEAD = ROLES["secretary"], ROLES["rektor"], ROLES["area_head"]
DIRECTOR = ROLES["director"]
TEAM_LEADERS = tuple(
    f"arbetslagsledare.{team}@example.se"
    for team in (
        "vastra-skolan-f-3",
        "vastra-skolan-4-6",
        "ekbackens-forskoleomrade-ekorren",
        "ekbackens-forskoleomrade-myran",
    )
)
"""People without accounts in ROLES, whose accounts the administrators' actions act on."""
NEWCOMER = "rektor.lindhagens-forskoleomrade@example.se"
"""A person of the organisation without an account: the one an administrator creates."""


@dataclass
class Scene:
    """The planned example database in mid-round, and the ids the matrix's paths name."""

    web: FastAPI
    ids: dict[str, int]
    names: dict[str, str]
    clients: dict[str, TestClient] = field(default_factory=dict)

    @property
    def app(self) -> App:
        found: App = self.web.state.app
        return found


def _build_scene(app: App, clock: FixedClock) -> tuple[dict[str, int], dict[str, str]]:
    """Set the scene in ``app``; the ids and names the matrix's paths take from it."""
    # The management group (LG): on 1 September it meets and the chair approves the minutes;
    # on 8 September it meets, agrees an action, and the minutes are approved; on 15
    # September it meets; on 22 September it has its agenda sent and has begun; on 3
    # November it is only planned.
    meetings = {
        key: schedule_meeting(
            app,
            "lg",
            datetime(2026, month, day, 13, tzinfo=STOCKHOLM),
            actor=SECRETARY,
            place="Jupiter",
        ).meeting_id
        for key, (month, day) in {
            "closable_meeting": (9, 1),
            "meeting": (9, 8),
            "held_meeting": (9, 15),
            "sent_meeting": (9, 22),
            "planned_meeting": (11, 3),
        }.items()
    }
    for meeting_id in meetings.values():
        add_agenda_item(app, meeting_id, actor=SECRETARY, kind="decision", title="Tidplan för VP")
    for key in ("closable_meeting", "meeting", "held_meeting", "sent_meeting"):
        send_agenda(app, meetings[key], actor=SECRETARY)
    clock.set(datetime(2026, 9, 1, 16, tzinfo=STOCKHOLM))
    hold_meeting(app, meetings["closable_meeting"], MeetingRecord(), actor=SECRETARY)
    approve_minutes(app, meetings["closable_meeting"], actor=DIRECTOR)
    clock.set(datetime(2026, 9, 8, 16, tzinfo=STOCKHOLM))
    record = MeetingRecord(actions=[ActionInput("Ta fram tidplan", HEAD, date(2026, 10, 1))])
    hold_meeting(app, meetings["meeting"], record, actor=SECRETARY)
    approve_minutes(app, meetings["meeting"], actor=DIRECTOR)
    clock.set(datetime(2026, 9, 15, 16, tzinfo=STOCKHOLM))
    hold_meeting(app, meetings["held_meeting"], MeetingRecord(), actor=SECRETARY)

    # Round 1: Västra skolan's dialog and another grundskola-norr school's, both under way.
    dialogs = list_dialogs(app)
    vastra = next(d for d in dialogs if d.unit == "vastra-skolan")
    held, finished = [d for d in dialogs if d.area == vastra.area and d.unit != vastra.unit][:2]
    clock.set(max(d.starts_at for d in (vastra, held, finished)) + timedelta(minutes=80))
    open_due_preparations(app)
    for dialog in (held, finished):
        hold(
            app,
            dialog.id,
            actor=SECRETARY,
            minutes="Vi gick igenom kvalitetsrapporten.",
            agreements=[AgreementInput("Plan för ökad närvaro", HEAD, date(2026, 12, 1))],
        )
    complete_agreement(app, dialog_detail(app, finished.id).agreements[0].id, actor=SECRETARY)
    detail = dialog_detail(app, vastra.id)
    step = next(s for s in detail.checklist if s.assignee == RECTOR and s.done_at is None)
    token = create_token(app, person=RECTOR, label="Telefonen")
    # Accounts for the administrators' actions: a plain one, a disabled one, a locked one,
    # and a second administrator.
    accounts = {
        "plain_account": create_account(app, TEAM_LEADERS[0], password=PASSWORD),
        "disabled_account": create_account(app, TEAM_LEADERS[1], password=PASSWORD),
        "locked_account": create_account(app, TEAM_LEADERS[2], password=PASSWORD),
        "admin_account": create_account(app, TEAM_LEADERS[3], password=PASSWORD, admin=True),
    }
    set_disabled(app, TEAM_LEADERS[1], disabled=True)
    for _ in range(app.settings.web.max_failed_logins):
        with pytest.raises(NotAuthenticated):
            log_in(app, TEAM_LEADERS[2], "fel lösenord")
    return (
        {
            "dialog": vastra.id,
            "held_dialog": held.id,
            "finished_dialog": finished.id,
            "agreement": dialog_detail(app, held.id).agreements[0].id,
            "step": step.id,
            **meetings,
            "meeting_action": meeting_detail(app, meetings["meeting"]).actions[0].id,
            "token": token.row.id,
            **accounts,
        },
        {
            "token": token.address.rsplit("/", 1)[1],
            "verb": "inaktivera",
            "workflow": "dialog_round",
        },
    )


@dataclass(frozen=True)
class SceneFile:
    path: Path
    now: datetime
    ids: dict[str, int]
    names: dict[str, str]


@pytest.fixture(scope="module")
def scene_file(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> SceneFile:
    """The scene built once, into a SQLite file that each test copies."""
    folder = tmp_path_factory.mktemp("authorisation")
    path = folder / "scene.db"
    shutil.copyfile(sqlite_template, path)
    clock = FixedClock(START)
    app = _app_on(path, folder, clock)
    try:
        remember_definitions(app)
        with as_file(files("styrhjul.examples") / "organisation.toml") as org:
            import_organisation(app, Path(org))
        plan_round(app, SchoolYear(2026), 1)
        make_accounts(app)
        ids, names = _build_scene(app, clock)
        # one session per kind of user, opened here: each test then skips the Argon2 hash
        sessions = {kind: log_in(app, email, PASSWORD) for kind, email in ROLES.items()}
    finally:
        app.close()
    names |= {f"token:{k}": login.token for k, login in sessions.items()}
    names |= {f"csrf:{k}": login.csrf for k, login in sessions.items()}
    return SceneFile(path, clock.now(), ids, names)


def _app_on(path: Path, folder: Path, clock: FixedClock) -> App:
    settings = load_settings(write_config(folder, f"sqlite:///{path}"), environ={})
    return build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))


@pytest.fixture
def scene(scene_file: SceneFile, tmp_path: Path) -> Iterator[Scene]:
    path = tmp_path / "scene.db"
    shutil.copyfile(scene_file.path, path)
    app = _app_on(path, tmp_path, FixedClock(scene_file.now))
    try:
        yield Scene(create_web_app(app), dict(scene_file.ids), dict(scene_file.names))
    finally:
        app.close()


# --- the matrix --------------------------------------------------------------------------

Form = Callable[[Scene], dict[str, Any]]


def _confirm(_: Scene) -> dict[str, Any]:
    return {"confirm": "ja"}


def _hold_form(scene: Scene) -> dict[str, Any]:
    version = dialog_detail(scene.app, scene.ids["dialog"]).dialog.version
    return {
        "version": str(version),
        "minutes": "Vi gick igenom kvalitetsrapporten.",
        "action_text": ["Ta fram en plan för ökad närvaro"],
        "action_owner": [RECTOR],
        "action_due": ["2026-12-01"],
        "confirm": "ja",
    }


def _close_form(scene: Scene) -> dict[str, Any]:
    version = dialog_detail(scene.app, scene.ids["finished_dialog"]).dialog.version
    return {"version": str(version), "confirm": "ja"}


def _hold_json(scene: Scene) -> dict[str, Any]:
    form = _hold_form(scene)
    return {
        "minutes": form["minutes"],
        "agreements": [{"text": "Plan för ökad närvaro", "owner": RECTOR, "due_on": "2026-12-01"}],
        "expected_version": int(form["version"]),
    }


def _postpone_form(_: Scene) -> dict[str, Any]:
    return {
        "new_day": "2026-11-24",
        "new_time": "10:00",
        "reason": "Krockar med nämnden.",
        "confirm": "ja",
    }


def _cancel_form(_: Scene) -> dict[str, Any]:
    return {"reason": "Rektorn är sjuk.", "confirm": "ja"}


def _postpone_json(scene: Scene) -> dict[str, Any]:
    return {"starts_at": "2026-11-24T10:00:00+01:00", "reason": "Krockar med nämnden."}


def _upload(name: str, text: str) -> Form:
    return lambda _: {"fil": (name, text.encode("utf-8"), "application/toml")}


def _example_organisation() -> str:
    return (files("styrhjul.examples") / "organisation.toml").read_text(encoding="utf-8")


def _dialog_workflow() -> str:
    return definition_path("dialog_round").read_text(encoding="utf-8")


def _next_dialog_workflow() -> str:
    """The dialog workflow as its next version: what an administrator uploads to check."""
    text = _dialog_workflow()
    assert "\nversion = 1\n" in text
    return text.replace("\nversion = 1\n", "\nversion = 2\n", 1)


@dataclass(frozen=True)
class Action:
    """One route, what it is called with, and who may do it."""

    method: str
    route: str
    """The route's path as the app declares it, with ``{name}`` parameters."""
    allowed: frozenset[str]
    values: dict[str, str] = field(default_factory=dict)
    """Path parameter -> key of ``Scene.ids`` (or ``Scene.names``) that fills it."""
    form: Form | None = None
    json: Form | None = None
    files: Form | None = None
    note: str = ""

    @property
    def api(self) -> bool:
        return self.route.startswith("/api/")

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    def path(self, scene: Scene) -> str:
        found = self.route
        for name, key in self.values.items():
            value = scene.ids[key] if key in scene.ids else scene.names[key]
            found = found.replace("{" + name + "}", str(value))
        return found

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


OVERSEERS = EVERYONE
"""Who gets the overview pages: anyone holding a role today (narrowed to what they read)."""
READS_VASTRA = frozenset({"director", "controller", "area_head", "rektor", "secretary"})
"""Who reads Västra skolan's dialog: the readers of everything, its area head and rektor,
and the secretary who keeps it."""
KEEPS_DIALOGS = frozenset({"secretary", "area_head"})
"""Who may hold and close grundskola-norr's dialogs: the keeping secretary and its area head."""
TICKS_STEP = frozenset({"rektor", "secretary", "area_head"})
"""Who ticks the rektor's step: the rektor, and those who run the dialog on their behalf."""
READS_LG = frozenset({"secretary", "director", "controller", "area_head"})
"""Who reads the management group's meetings: its secretary, its members (the director
and the area heads) and the controllers, who read everything."""
RUNS_LG = frozenset({"secretary", "director"})
"""Who runs the management group's meetings: its secretary and its chair, the director."""
CHAIRS_LG = frozenset({"director"})
CANCELS_DIALOGS = KEEPS_DIALOGS | {"director"}
"""Who may cancel a dialog: those who keep it, and the director."""
"""Who approves (justerar) the minutes: the chair."""
ADMINS = frozenset({"admin"})

MATRIX: tuple[Action, ...] = (
    # --- every logged-in user
    Action("GET", "/", EVERYONE),
    Action("GET", "/mitt", EVERYONE),
    Action("GET", "/mitt/kalender", EVERYONE),
    Action("POST", "/mitt/kalender", EVERYONE, form=lambda _: {"label": "Jobbdatorn"}),
    Action(
        "POST",
        "/mitt/kalender/{token_id}/aterkalla",
        frozenset({"rektor"}),
        values={"token_id": "token"},
        form=_confirm,
        note="only its owner revokes a feed token",
    ),
    # --- the overview pages
    Action("GET", "/oversikt/forsenat", OVERSEERS),
    Action("GET", "/oversikt/arshjul", OVERSEERS),
    Action("GET", "/oversikt/arshjul.svg", OVERSEERS),
    Action("GET", "/oversikt/vp-uppdrag", OVERSEERS),
    Action("GET", "/oversikt/styrkort", OVERSEERS),
    # --- an instance and its invite
    Action("GET", "/arenden/{instance_id}", READS_VASTRA, values={"instance_id": "dialog"}),
    Action(
        "GET",
        "/dialoger/{dialog_id}/inbjudan.ics",
        READS_VASTRA,
        values={"dialog_id": "dialog"},
    ),
    Action(
        "POST",
        "/steg/{step_id}/klar",
        TICKS_STEP,
        values={"step_id": "step"},
        form=lambda _: {},
        note="its assignee, or someone who runs the dialog on their behalf",
    ),
    # --- the secretary's desk
    Action("GET", "/sekreterare", frozenset({"secretary"})),
    Action(
        "GET",
        "/sekreterare/dialog/{dialog_id}",
        READS_VASTRA,
        values={"dialog_id": "dialog"},
        note="readers see it without forms",
    ),
    Action(
        "POST",
        "/sekreterare/dialog/{dialog_id}/genomford",
        KEEPS_DIALOGS,
        values={"dialog_id": "dialog"},
        form=_hold_form,
    ),
    Action(
        "POST",
        "/sekreterare/dialog/{dialog_id}/avsluta",
        KEEPS_DIALOGS,
        values={"dialog_id": "finished_dialog"},
        form=_close_form,
    ),
    Action(
        "POST",
        "/sekreterare/overenskommelse/{agreement_id}/klar",
        KEEPS_DIALOGS,
        values={"agreement_id": "agreement"},
        form=_confirm,
    ),
    Action(
        "POST",
        "/sekreterare/overenskommelse/{agreement_id}/flytta",
        RUNS_LG,
        values={"agreement_id": "meeting_action"},
        form=_confirm,
        note="an LG action carried to the next meeting: the LG's secretary or chair",
    ),
    Action("GET", "/sekreterare/mote/{meeting_id}", READS_LG, values={"meeting_id": "meeting"}),
    Action(
        "POST",
        "/sekreterare/dialog/{dialog_id}/flytta",
        KEEPS_DIALOGS,
        values={"dialog_id": "dialog"},
        form=_postpone_form,
    ),
    Action(
        "POST",
        "/sekreterare/dialog/{dialog_id}/installa",
        CANCELS_DIALOGS,
        values={"dialog_id": "dialog"},
        form=_cancel_form,
    ),
    Action(
        "POST",
        "/sekreterare/mote/{meeting_id}/dagordning",
        RUNS_LG,
        values={"meeting_id": "planned_meeting"},
        form=_confirm,
    ),
    Action(
        "POST",
        "/sekreterare/mote/{meeting_id}/genomfort",
        RUNS_LG,
        values={"meeting_id": "sent_meeting"},
        form=lambda _: {"notes": "Vi gick igenom tidplanen.", "confirm": "ja"},
    ),
    Action(
        "POST",
        "/sekreterare/mote/{meeting_id}/justera",
        CHAIRS_LG,
        values={"meeting_id": "held_meeting"},
        form=_confirm,
    ),
    Action(
        "POST",
        "/sekreterare/mote/{meeting_id}/avsluta",
        RUNS_LG,
        values={"meeting_id": "closable_meeting"},
        form=_confirm,
    ),
    Action(
        "POST",
        "/sekreterare/mote/{meeting_id}/flytta",
        RUNS_LG,
        values={"meeting_id": "planned_meeting"},
        form=_postpone_form,
    ),
    Action(
        "POST",
        "/sekreterare/mote/{meeting_id}/installa",
        RUNS_LG,
        values={"meeting_id": "planned_meeting"},
        form=_cancel_form,
    ),
    # --- the administrators' pages
    Action("GET", "/admin", ADMINS),
    Action("GET", "/admin/konton", ADMINS),
    Action("GET", "/admin/konton/{account_id}", ADMINS, values={"account_id": "plain_account"}),
    Action("POST", "/admin/konton", ADMINS, form=lambda _: {"email": NEWCOMER, "confirm": "ja"}),
    Action(
        "POST",
        "/admin/konton/{account_id}/{action}",
        ADMINS,
        values={"account_id": "plain_account", "action": "verb"},
        form=_confirm,
    ),
    Action("GET", "/admin/personer", ADMINS),
    Action(
        "POST",
        "/admin/personer/import",
        ADMINS,
        files=_upload("organisation.toml", _example_organisation()),
        note="checks the upload and shows what would change",
    ),
    Action(
        "POST",
        "/admin/personer/import/bekrafta",
        ADMINS,
        form=lambda _: {
            "confirm": "ja",
            "name": "organisation.toml",
            "text": _example_organisation(),
        },
    ),
    Action("GET", "/admin/arbetsfloden", ADMINS),
    Action("GET", "/admin/arbetsfloden/{name}", ADMINS, values={"name": "workflow"}),
    Action(
        "POST",
        "/admin/arbetsfloden",
        ADMINS,
        files=_upload("dialog_round.toml", _next_dialog_workflow()),
        note="checks the upload and shows the difference to the stored version",
    ),
    Action(
        "POST",
        "/admin/arbetsfloden/installera",
        ADMINS,
        form=lambda _: {
            "confirm": "ja",
            "name": "dialog_round.toml",
            "text": _next_dialog_workflow(),
            "digest": text_digest(_next_dialog_workflow()),
        },
        note="into the test's own workflows.folder, never the package",
    ),
    # --- the JSON API: the session and what everyone reads
    Action("DELETE", "/api/v1/session", EVERYONE),
    Action("GET", "/api/v1/me", EVERYONE),
    Action("GET", "/api/v1/agenda", EVERYONE),
    Action("GET", "/api/v1/events", EVERYONE),
    Action("GET", "/api/v1/assignments", OVERSEERS),
    Action("GET", "/api/v1/scorecard", OVERSEERS),
    Action("GET", "/api/v1/overdue", OVERSEERS),
    Action("GET", "/api/v1/feed-tokens", EVERYONE),
    Action("POST", "/api/v1/feed-tokens", EVERYONE, json=lambda _: {"label": "Mobilen"}),
    Action(
        "DELETE",
        "/api/v1/feed-tokens/{token_id}",
        frozenset({"rektor"}),
        values={"token_id": "token"},
    ),
    Action("GET", "/api/v1/desk", frozenset({"secretary"})),
    # --- the JSON API: dialogs, steps, agreements
    Action("GET", "/api/v1/dialogs/{dialog_id}", READS_VASTRA, values={"dialog_id": "dialog"}),
    Action(
        "GET",
        "/api/v1/dialogs/{dialog_id}/invite.ics",
        READS_VASTRA,
        values={"dialog_id": "dialog"},
    ),
    Action(
        "GET", "/api/v1/instances/{instance_id}", READS_VASTRA, values={"instance_id": "dialog"}
    ),
    Action("POST", "/api/v1/steps/{step_id}/done", TICKS_STEP, values={"step_id": "step"}),
    Action(
        "POST",
        "/api/v1/agreements/{agreement_id}/done",
        KEEPS_DIALOGS,
        values={"agreement_id": "agreement"},
    ),
    Action(
        "POST",
        "/api/v1/agreements/{agreement_id}/carry",
        RUNS_LG,
        values={"agreement_id": "meeting_action"},
        json=lambda _: {},
    ),
    Action(
        "POST",
        "/api/v1/dialogs/{dialog_id}/held",
        KEEPS_DIALOGS,
        values={"dialog_id": "dialog"},
        json=_hold_json,
    ),
    Action(
        "POST",
        "/api/v1/dialogs/{dialog_id}/close",
        KEEPS_DIALOGS,
        values={"dialog_id": "finished_dialog"},
        json=lambda _: {},
    ),
    Action(
        "POST",
        "/api/v1/dialogs/{dialog_id}/cancel",
        CANCELS_DIALOGS,
        values={"dialog_id": "dialog"},
        json=lambda _: {"reason": "Rektorn är sjuk."},
    ),
    Action(
        "POST",
        "/api/v1/dialogs/{dialog_id}/postpone",
        KEEPS_DIALOGS,
        values={"dialog_id": "dialog"},
        json=_postpone_json,
    ),
    # --- the JSON API: the management group's meetings
    Action("GET", "/api/v1/meetings/{meeting_id}", READS_LG, values={"meeting_id": "meeting"}),
    Action(
        "POST",
        "/api/v1/meetings/{meeting_id}/send-agenda",
        RUNS_LG,
        values={"meeting_id": "planned_meeting"},
        json=lambda _: {},
    ),
    Action(
        "POST",
        "/api/v1/meetings/{meeting_id}/held",
        RUNS_LG,
        values={"meeting_id": "sent_meeting"},
        json=lambda _: {"notes": "Vi gick igenom tidplanen."},
    ),
    Action(
        "POST",
        "/api/v1/meetings/{meeting_id}/approve",
        CHAIRS_LG,
        values={"meeting_id": "held_meeting"},
        json=lambda _: {},
    ),
    Action(
        "POST",
        "/api/v1/meetings/{meeting_id}/close",
        RUNS_LG,
        values={"meeting_id": "closable_meeting"},
        json=lambda _: {},
    ),
    Action(
        "POST",
        "/api/v1/meetings/{meeting_id}/cancel",
        RUNS_LG,
        values={"meeting_id": "planned_meeting"},
        json=lambda _: {"reason": "Krockar med nämnden."},
    ),
    Action(
        "POST",
        "/api/v1/meetings/{meeting_id}/postpone",
        RUNS_LG,
        values={"meeting_id": "planned_meeting"},
        json=_postpone_json,
    ),
    # --- the JSON API for administrators
    Action("GET", "/api/v1/admin/accounts", ADMINS),
    Action("POST", "/api/v1/admin/accounts", ADMINS, json=lambda _: {"email": NEWCOMER}),
    Action(
        "POST",
        "/api/v1/admin/accounts/{account_id}/disable",
        ADMINS,
        values={"account_id": "plain_account"},
    ),
    Action(
        "POST",
        "/api/v1/admin/accounts/{account_id}/enable",
        ADMINS,
        values={"account_id": "disabled_account"},
    ),
    Action(
        "POST",
        "/api/v1/admin/accounts/{account_id}/unlock",
        ADMINS,
        values={"account_id": "locked_account"},
    ),
    Action(
        "PUT",
        "/api/v1/admin/accounts/{account_id}/admin",
        ADMINS,
        values={"account_id": "plain_account"},
    ),
    Action(
        "DELETE",
        "/api/v1/admin/accounts/{account_id}/admin",
        ADMINS,
        values={"account_id": "admin_account"},
    ),
    Action("GET", "/api/v1/admin/people", ADMINS),
    Action("GET", "/api/v1/admin/workflows", ADMINS),
)

PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/login/oidc"),
    ("GET", "/login/oidc/callback"),
    ("POST", "/api/v1/session"),
    ("GET", "/kalender/{name}"),
}
"""Routes that need no login: logging in and out (tests/web/test_login.py, test_oidc.py,
test_api.py) and the feed, whose token is the credential (test_participant.py)."""


def _app_routes(web: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers: the pages' routers and the API's OpenAPI paths.

    The pages are left out of the OpenAPI description, so they are read from their routers
    (which have no prefix); every API route is in the description, which the fuzz needs too.
    """
    found = set()
    for router in pages.routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                found.update((m, route.path) for m in route.methods if m != "HEAD")
    for path, operations in web.openapi()["paths"].items():
        found.update((method.upper(), path) for method in operations)
    return found


def test_the_matrix_names_every_route_of_the_app(scene: Scene) -> None:
    web = scene.web
    named = {(a.method, a.route) for a in MATRIX}
    assert len(named) == len(MATRIX), "a route is named twice"
    missing = _app_routes(web) - named - PUBLIC
    assert not missing, f"routes the authorisation matrix does not cover: {sorted(missing)}"
    stale = named - _app_routes(web)
    assert not stale, f"the matrix names routes the app does not have: {sorted(stale)}"


# --- requests ----------------------------------------------------------------------------


def _client(scene: Scene, kind: str) -> TestClient:
    """A client of ``kind``, with the session the scene opened for them (cookie and CSRF)."""
    if kind not in scene.clients:
        client = TestClient(scene.web, base_url="http://testserver", follow_redirects=False)
        if kind != "anonymous":
            client.cookies.set(COOKIE, scene.names[f"token:{kind}"])
        scene.clients[kind] = client
    return scene.clients[kind]


def _request(scene: Scene, action: Action, kind: str) -> Any:
    client = _client(scene, kind)
    path = action.path(scene)
    if action.api:
        body = action.json(scene) if action.json else None
        headers = {}
        if kind != "anonymous":
            # the bearer token alone, as an API client sends it
            client = TestClient(scene.web, base_url="http://testserver")
            headers["Authorization"] = f"Bearer {scene.names[f'token:{kind}']}"
        return client.request(action.method, path, json=body, headers=headers)
    if not action.writes:
        return client.get(path)
    data = dict(action.form(scene)) if action.form else {}
    if kind != "anonymous":
        data["csrf_token"] = scene.names[f"csrf:{kind}"]
    files = action.files(scene) if action.files else None
    return client.request(action.method, path, data=data, files=files)


def _footprint(app: App) -> tuple[int, int]:
    with app.db.session() as session:
        audit = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        outbox = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    return audit, outbox


def _refused(action: Action, kind: str, answer: Any) -> str | None:
    """Why ``answer`` is no proper refusal of ``kind``, or None."""
    got = f"{kind}: got {answer.status_code} {answer.text[:200]!r}"
    if kind == "anonymous":
        if action.api:
            return None if answer.status_code == 401 else f"{got}, expected 401"
        location = answer.headers.get("location", "")
        if answer.status_code == 303 and location.startswith("/login?next="):
            return None
        return f"{got}, expected the login redirect"
    if answer.status_code != 403:
        return f"{got}, expected 403"
    if not action.api and "Åtkomst nekad" not in answer.text:
        return f"{got}, expected the refusal page"
    return None


def _allowed(action: Action, kind: str, answer: Any) -> str | None:
    """Why ``answer`` is no success for ``kind``, or None."""
    got = f"{kind}: got {answer.status_code} {answer.text[:300]!r}"
    status = answer.status_code
    if action.api or not action.writes:
        return None if 200 <= status < 300 else f"{got}, expected success"
    if status == 303 and not answer.headers["location"].startswith("/login"):
        return None
    return None if status == 200 else f"{got}, expected success (303 or 200)"


@pytest.mark.parametrize("action", MATRIX, ids=str)
def test_who_is_refused_is_refused_and_nothing_changes(scene: Scene, action: Action) -> None:
    problems = []
    for kind in KINDS:
        if kind in action.allowed:
            continue
        before = _footprint(scene.app)
        problem = _refused(action, kind, _request(scene, action, kind))
        if problem:
            problems.append(problem)
        elif _footprint(scene.app) != before:
            problems.append(f"{kind}: refused, but the audit trail or the outbox changed")
    if not action.writes:
        problems += [
            problem
            for kind in sorted(action.allowed)
            if (problem := _allowed(action, kind, _request(scene, action, kind)))
        ]
    assert not problems, f"{action}:\n" + "\n".join(problems)


def _allowed_writes() -> Iterator[Any]:
    for action in MATRIX:
        if action.writes:
            for kind in sorted(action.allowed):
                yield pytest.param(action, kind, id=f"{action}-{kind}")


@pytest.mark.parametrize(("action", "kind"), list(_allowed_writes()))
def test_who_is_allowed_succeeds(scene: Scene, action: Action, kind: str) -> None:
    problem = _allowed(action, kind, _request(scene, action, kind))
    assert problem is None, f"{action}: {problem}"
