"""The administrators' pages on both databases: accounts, people and the organisation, workflows.

Each form calls the service the CLI uses; these tests check what it changed (the account
as ``log_in`` meets it, the database, the definitions folder), that what cannot be undone
needs the confirmation box (400, nothing changed), that the rules hold (an administrator
neither disables themselves nor removes their own admin flag), that an audit row names
the administrator, and that everyone else gets 403 on every route, GET included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from styrhjul.clock import FixedClock
from styrhjul.config import Settings
from styrhjul.db.models import AuditEvent, WorkflowSource
from styrhjul.notifications.transports import MaildirTransport
from styrhjul.services.accounts import account_history, list_accounts
from styrhjul.services.administration import AccountView, account_views
from styrhjul.services.context import App
from styrhjul.services.definitions import remember_definitions
from styrhjul.services.org_import import import_organisation
from styrhjul.web.app import create_web_app
from styrhjul.web.pages.admin import router
from styrhjul.wiring import build
from styrhjul.workflows import definition_path, definition_paths

from .webkit import ROLES, account_id_of, csrf_of, logged_in, logs_in, make_accounts

ADMIN, RECTOR = ROLES["admin"], ROLES["rektor"]
NEWCOMER = "verksamhetschef.forskola@example.se"
"""A person of the example organisation without an account."""
NEW_PASSWORD = "ett-nytt-losenord-2026"


def _core(web: FastAPI) -> App:
    app: App = web.state.app
    return app


# --- access ----------------------------------------------------------------------------------


def _admin_paths() -> list[tuple[str, str]]:
    """(method, path) of every admin route, path parameters filled with an existing thing."""
    found = []
    for route in router.routes:
        assert isinstance(route, APIRoute)
        path = (
            route.path.replace("{account_id}", "1")
            .replace("{action}", "inaktivera")
            .replace("{name}", "team_dialog")
        )
        found += [(method, path) for method in sorted(route.methods or ())]
    return found


def test_every_admin_route_refuses_a_non_administrator_with_the_403_page(
    web: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    paths = _admin_paths()
    assert ("GET", "/admin") in paths
    assert ("POST", "/admin/arbetsfloden/installera") in paths
    client = logged_in(web, RECTOR)
    csrf = csrf_of(client)
    before = [(a.email, a.state) for a in _views(web)]
    for method, path in paths:
        answer = client.request(method, path, data={"csrf_token": csrf, "confirm": "ja"})
        assert answer.status_code == 403, (method, path)
        assert "Åtkomst nekad" in answer.text
        assert "is not an administrator" in answer.text
    assert [(a.email, a.state) for a in _views(web)] == before
    refused = [r for r in caplog.records if r.getMessage() == "access.refused"]
    assert len(refused) >= len(paths)
    assert "Administration" not in client.get("/").text  # no menu link for them


def _views(web: FastAPI) -> list[AccountView]:
    return account_views(_core(web))


def test_without_login_an_admin_page_redirects_to_the_login(web: FastAPI) -> None:
    client = TestClient(web, follow_redirects=False)
    answer = client.get("/admin/konton")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/admin/konton"


def test_the_start_page_counts_accounts_people_and_workflows(web: FastAPI) -> None:
    client = logged_in(web, ADMIN)
    home = client.get("/")
    assert 'href="/admin"' in home.text
    page = client.get("/admin")
    assert page.status_code == 200
    assert f"{len(ROLES)} konton, varav 1 administratör." in page.text
    assert "68 personer i organisationen" in page.text
    assert "11 arbetsflöden" in page.text


# --- accounts --------------------------------------------------------------------------------


def test_an_admin_creates_an_account_for_a_person_who_thenlogs_in(web: FastAPI) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    listing = client.get("/admin/konton").text
    assert f'<option value="{NEWCOMER}">' in listing
    assert f'<option value="{RECTOR}">' not in listing  # has an account already
    answer = client.post(
        "/admin/konton",
        data={
            "csrf_token": csrf,
            "email": NEWCOMER,
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert answer.status_code == 303
    account_id = account_id_of(app, NEWCOMER)
    assert answer.headers["location"].startswith(f"/admin/konton/{account_id}?klart=")
    assert logs_in(app, NEWCOMER, NEW_PASSWORD)
    page = client.get(answer.headers["location"]).text
    assert "Konto skapat för" in page
    assert "Aktivt" in page
    assert f'<span class="actor">{ADMIN}</span>' in page
    assert "Kontot skapades" in page
    listing = client.get("/admin/konton").text
    assert f'<option value="{NEWCOMER}">' not in listing
    assert NEWCOMER in listing


def test_creating_refuses_differing_passwords_and_an_unknown_person(web: FastAPI) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    answer = client.post(
        "/admin/konton",
        data={
            "csrf_token": csrf,
            "email": NEWCOMER,
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD + "x",
        },
    )
    assert answer.status_code == 400
    assert "password2: the two passwords differ" in answer.text
    answer = client.post("/admin/konton", data={"csrf_token": csrf, "email": "ingen@example.se"})
    assert answer.status_code == 404
    answer = client.post(
        "/admin/konton",
        data={"csrf_token": csrf, "email": NEWCOMER, "password": "kort", "password2": "kort"},
    )
    assert answer.status_code == 400
    assert "at least 12 characters" in answer.text
    assert NEWCOMER not in [a.email for a in list_accounts(app)]


def test_a_form_without_the_csrf_token_changes_nothing(web: FastAPI) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    rektor = account_id_of(app, RECTOR)
    answer = client.post(f"/admin/konton/{rektor}/inaktivera", data={"confirm": "ja"})
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    assert logs_in(app, RECTOR)


def test_disabling_needs_the_box_ends_the_sessions_and_enabling_undoes_it(web: FastAPI) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    victim = logged_in(web, RECTOR)
    rektor = account_id_of(app, RECTOR)
    answer = client.post(f"/admin/konton/{rektor}/inaktivera", data={"csrf_token": csrf})
    assert answer.status_code == 400
    assert "tick the box" in answer.text
    assert logs_in(app, RECTOR)
    answer = client.post(
        f"/admin/konton/{rektor}/inaktivera", data={"csrf_token": csrf, "confirm": "ja"}
    )
    assert answer.status_code == 303
    assert not logs_in(app, RECTOR)
    assert victim.get("/mitt").status_code == 303  # its session ended: back to the login
    page = client.get(f"/admin/konton/{rektor}").text
    assert "Inaktiverat" in page
    assert "Aktivera kontot" in page
    answer = client.post(f"/admin/konton/{rektor}/aktivera", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert logs_in(app, RECTOR)
    trail = [(e.trigger, e.actor, e.from_state, e.to_state) for e in account_history(app, RECTOR)]
    assert trail[:2] == [
        ("enable", ADMIN, "disabled", "active"),
        ("disable", ADMIN, "active", "disabled"),
    ]


def test_an_admin_neither_disables_themselves_nor_removes_their_own_admin_flag(
    web: FastAPI,
) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    me = account_id_of(app, ADMIN)
    page = client.get(f"/admin/konton/{me}").text
    assert "Du kan inte inaktivera ditt eget konto" in page
    assert "Du kan inte ta bort din egen administratörsrätt" in page
    for action in ("inaktivera", "ta-bort-admin"):
        answer = client.post(
            f"/admin/konton/{me}/{action}", data={"csrf_token": csrf, "confirm": "ja"}
        )
        assert answer.status_code == 403, action
        assert "their own" in answer.text
    [mine] = [a for a in list_accounts(app) if a.email == ADMIN]
    assert mine.admin
    assert mine.disabled_at is None


def test_admin_is_granted_and_revoked_by_another_admin(web: FastAPI) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    rektor = account_id_of(app, RECTOR)
    answer = client.post(f"/admin/konton/{rektor}/gor-admin", data={"csrf_token": csrf})
    assert answer.status_code == 400  # the box is needed
    answer = client.post(
        f"/admin/konton/{rektor}/gor-admin", data={"csrf_token": csrf, "confirm": "ja"}
    )
    assert answer.status_code == 303
    now_admin = logged_in(web, RECTOR)
    assert now_admin.get("/admin").status_code == 200
    # the new administrator may take the flag of the first one, not their own
    other = csrf_of(now_admin)
    me = account_id_of(app, ADMIN)
    answer = now_admin.post(
        f"/admin/konton/{me}/ta-bort-admin", data={"csrf_token": other, "confirm": "ja"}
    )
    assert answer.status_code == 303
    assert client.get("/admin").status_code == 403
    assert next(e.trigger for e in account_history(app, ADMIN)) == "revoke_admin"
    assert next(e.trigger for e in account_history(app, RECTOR)) == "grant_admin"


def test_a_locked_account_shows_until_when_and_is_unlocked(web: FastAPI) -> None:
    app = _core(web)
    for _ in range(app.settings.web.max_failed_logins):
        assert not logs_in(app, RECTOR, "fel-losenord-fel-losenord")
    assert not logs_in(app, RECTOR)  # locked, even with the right password
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    listing = client.get("/admin/konton").text
    row = listing[listing.index(RECTOR) :].split("</tr>")[0]
    assert "Låst" in row
    assert "09:15" in row
    rektor = account_id_of(app, RECTOR)
    assert "Lås upp kontot" in client.get(f"/admin/konton/{rektor}").text
    answer = client.post(f"/admin/konton/{rektor}/las-upp", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert logs_in(app, RECTOR)
    answer = client.post(f"/admin/konton/{rektor}/las-upp", data={"csrf_token": csrf})
    assert answer.status_code == 400
    assert "is not locked" in answer.text


def test_a_new_password_is_set_after_confirmation(web: FastAPI) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    rektor = account_id_of(app, RECTOR)
    form = {"csrf_token": csrf, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert client.post(f"/admin/konton/{rektor}/losenord", data=form).status_code == 400
    assert logs_in(app, RECTOR)
    answer = client.post(f"/admin/konton/{rektor}/losenord", data={**form, "confirm": "ja"})
    assert answer.status_code == 303
    assert not logs_in(app, RECTOR)
    assert logs_in(app, RECTOR, NEW_PASSWORD)


def test_an_unknown_account_or_action_is_named(web: FastAPI) -> None:
    client = logged_in(web, ADMIN)
    csrf = csrf_of(client)
    assert client.get("/admin/konton/9999").status_code == 404
    answer = client.post(
        f"/admin/konton/{account_id_of(_core(web), RECTOR)}/radera", data={"csrf_token": csrf}
    )
    assert answer.status_code == 400
    assert "unknown account action &#39;radera&#39;" in answer.text


# --- people and the organisation file --------------------------------------------------------


def test_people_are_listed_with_todays_roles_and_searched(web: FastAPI) -> None:
    client = logged_in(web, ADMIN)
    page = client.get("/admin/personer").text
    assert "<strong>68</strong> personer." in page
    found = client.get("/admin/personer", params={"q": "västra"}).text
    assert "matchar ”västra”" in found
    assert RECTOR in found
    assert "rektor, Västra skolan" in found
    assert "Aktivt" in found  # the rektor's account
    assert ROLES["director"] not in found
    none = client.get("/admin/personer", params={"q": "finns-inte"}).text
    assert "Ingen person matchar." in none


def _example_text() -> str:
    with as_file(files("styrhjul.examples") / "organisation.toml") as path:
        return Path(path).read_text(encoding="utf-8")


def _upload(client: TestClient, path: str, name: str, text: str) -> Response:
    return client.post(
        path,
        data={"csrf_token": csrf_of(client)},
        files={"fil": (name, text.encode("utf-8"), "application/toml")},
    )


def _hidden(html: str, name: str) -> str:
    import html as markup  # noqa: PLC0415

    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return markup.unescape(found.group(1))


def test_an_invalid_organisation_file_is_refused_with_line_and_key(web: FastAPI) -> None:
    client = logged_in(web, ADMIN)
    text = _example_text().replace('role = "rektor"', 'role = "rektorr"', 1)
    answer = _upload(client, "/admin/personer/import", "ny-organisation.toml", text)
    assert answer.status_code == 400
    html = answer.text
    line = 1 + text[: text.index('role = "rektorr"')].count("\n")
    assert f"ny-organisation.toml:{line}" in html
    assert "unknown role &#39;rektorr&#39;" in html
    assert "Inget har ändrats" in html
    assert "bekrafta" not in html


def test_an_organisation_file_is_checked_shown_and_imported_on_confirmation(
    web: FastAPI,
) -> None:
    app = _core(web)
    client = logged_in(web, ADMIN)
    text = _example_text()
    same = _upload(client, "/admin/personer/import", "organisation.toml", text)
    assert "importen skulle inte ändra något" in same.text
    changed = (
        text.replace('title = "Rektor Västra skolan"', 'title = "Rektor, Västra skolan"')
        + '\n[[person]]\nemail = "biträdande.rektor@example.se"\ntitle = "Biträdande rektor"\n'
        + '\n[[role]]\nperson = "biträdande.rektor@example.se"\nunit = "vastra-skolan"\n'
        + 'role = "member"\nvalid_from = 2026-08-01\n'
    )
    assert changed.count("Rektor, Västra skolan") == 1
    answer = _upload(client, "/admin/personer/import", "organisation.toml", changed)
    html = answer.text
    assert answer.status_code == 200
    assert "Det här ändras vid import (3)" in html
    assert "Rektor Västra skolan (sv) → Rektor, Västra skolan (sv)" in html
    assert "biträdande.rektor@example.se" in html
    form = {
        "csrf_token": csrf_of(client),
        "name": _hidden(html, "name"),
        "text": _hidden(html, "text").replace("\n", "\r\n"),  # as a browser sends it
    }
    assert client.post("/admin/personer/import/bekrafta", data=form).status_code == 400
    assert "Biträdande rektor" not in client.get("/admin/personer").text
    done = client.post("/admin/personer/import/bekrafta", data={**form, "confirm": "ja"})
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "1 personer tillagda, 1 ändrade; 1 roller tillagda" in page
    assert "Biträdande rektor" in page
    assert "Rektor, Västra skolan" in page
    with app.db.session() as session:
        row = session.scalars(select(AuditEvent).where(AuditEvent.entity == "organisation")).one()
        assert row.actor == ADMIN
        assert row.trigger == "import"


# --- workflows -------------------------------------------------------------------------------


@pytest.fixture
def folder(settings: Settings) -> Path:
    """``[workflows] folder`` of the configuration: where the web app installs (missing yet)."""
    assert not settings.workflows_folder.exists()
    return settings.workflows_folder


@pytest.fixture
def workflow_web(settings: Settings, clock: FixedClock) -> Iterator[FastAPI]:
    """The shipped definitions overlaid by the (still empty) configured folder, as served."""
    app = build(settings, clock=clock, transport=MaildirTransport(settings.maildir_path))
    remember_definitions(app)
    with as_file(files("styrhjul.examples") / "organisation.toml") as path:
        import_organisation(app, Path(path))
    make_accounts(app)
    yield create_web_app(app)
    app.close()


def test_workflows_are_listed_with_their_versions_and_one_is_shown(planned_web: FastAPI) -> None:
    client = logged_in(planned_web, ADMIN)
    page = client.get("/admin/arbetsfloden").text
    assert "Dialog med arbetslag" in page
    assert "version 1: 40 pågående, 0 avslutade" in page  # the planned round's dialogs
    shown = client.get("/admin/arbetsfloden/team_dialog").text
    assert "Definition, version 1" in shown
    assert "name = &#34;team_dialog&#34;" in shown or 'name = "team_dialog"' in shown
    assert client.get("/admin/arbetsfloden/finns_inte").status_code == 404
    assert client.get("/admin/arbetsfloden/team_dialog?version=7").status_code == 404


def test_an_invalid_definition_is_refused_with_its_problem(workflow_web: FastAPI) -> None:
    client = logged_in(workflow_web, ADMIN)
    text = (definition_paths()[0]).read_text(encoding="utf-8")
    broken = text.replace("[workflow]", "[workflow]\ncolour = 3", 1)
    answer = _upload(client, "/admin/arbetsfloden", "ny.toml", broken)
    assert answer.status_code == 400
    html = answer.text
    assert "Definitionen kan inte installeras" in html
    assert "ny.toml:" in html
    assert "workflow.colour" in html
    assert "unknown key" in html
    same = _upload(client, "/admin/arbetsfloden", "ny.toml", text)
    assert same.status_code == 400
    assert "already has version" in same.text
    assert "with this very text" in same.text


def test_a_new_version_is_compared_then_installed_on_confirmation(
    workflow_web: FastAPI, folder: Path
) -> None:
    app = _core(workflow_web)
    client = logged_in(workflow_web, ADMIN)
    path = folder / "team_dialog.toml"
    old = definition_path("team_dialog").read_text(encoding="utf-8")
    new = old.replace("version = 1", "version = 2", 1).replace(
        'title = "Dialog med arbetslag"', 'title = "Dialog med arbetslaget"', 1
    )
    answer = _upload(client, "/admin/arbetsfloden", "team_dialog.toml", new)
    html = answer.text
    assert answer.status_code == 200, html
    assert "Skillnader mot installerad version 1" in html
    assert "Dialog med arbetslaget" in html
    form = {
        "csrf_token": csrf_of(client),
        "name": _hidden(html, "name"),
        "text": _hidden(html, "text").replace("\n", "\r\n"),
        "digest": _hidden(html, "digest"),
    }
    assert client.post("/admin/arbetsfloden/installera", data=form).status_code == 400
    assert not folder.exists()
    tampered = {**form, "confirm": "ja", "text": form["text"].replace("laget", "lagen")}
    answer = client.post("/admin/arbetsfloden/installera", data=tampered)
    assert answer.status_code == 400
    assert "differs from the one that was checked" in answer.text
    done = client.post("/admin/arbetsfloden/installera", data={**form, "confirm": "ja"})
    assert done.status_code == 303
    assert path.read_text(encoding="utf-8") == new
    assert folder.stat().st_mode & 0o777 == 0o750
    assert definition_path("team_dialog").read_text(encoding="utf-8") == old  # not the package
    assert app.machine("team_dialog").definition.version == 2
    assert app.machine("team_dialog").definition.source.path == path
    assert app.machine("team_dialog", 1).definition.spec.workflow.title == "Dialog med arbetslag"
    assert "Version 2 av team_dialog är installerad" in client.get(done.headers["location"]).text
    with app.db.session() as session:
        assert (
            session.scalar(
                select(WorkflowSource.text).where(
                    WorkflowSource.name == "team_dialog", WorkflowSource.version == 2
                )
            )
            == new
        )
        audit = session.scalars(select(AuditEvent).where(AuditEvent.entity == "workflow")).one()
        assert (audit.actor, audit.from_state, audit.to_state) == (ADMIN, "version 1", "version 2")
    again = client.post("/admin/arbetsfloden/installera", data={**form, "confirm": "ja"})
    assert again.status_code == 400
    assert "already has version 2" in again.text


def test_an_install_that_cannot_write_the_file_stores_nothing(
    workflow_web: FastAPI, folder: Path
) -> None:
    """A definitions folder the web app cannot create (a file is in its way) refuses, and
    rolls back: no stored version, no audit row, the machine unchanged."""
    app = _core(workflow_web)
    client = logged_in(workflow_web, ADMIN)
    new = (
        definition_path("team_dialog")
        .read_text(encoding="utf-8")
        .replace("version = 1", "version = 2", 1)
    )
    html = _upload(client, "/admin/arbetsfloden", "team_dialog.toml", new).text
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder\n", encoding="utf-8")
    form = {
        "csrf_token": csrf_of(client),
        "name": _hidden(html, "name"),
        "text": _hidden(html, "text"),
        "digest": _hidden(html, "digest"),
        "confirm": "ja",
    }
    answer = client.post("/admin/arbetsfloden/installera", data=form)
    assert answer.status_code == 400
    assert "cannot write the definition" in answer.text
    assert "workflows.folder" in answer.text
    assert folder.read_text(encoding="utf-8") == "not a folder\n"
    assert app.machine("team_dialog").definition.version == 1
    with app.db.session() as session:
        versions = session.scalars(
            select(WorkflowSource.version).where(WorkflowSource.name == "team_dialog")
        ).all()
        assert versions == [1]
        assert not session.scalars(select(AuditEvent).where(AuditEvent.entity == "workflow")).all()


def test_odd_uploads_and_ids_are_refused_with_a_4xx(web: FastAPI) -> None:
    """What PostgreSQL cannot store or compare never reaches it: NUL, ids beyond 32 bits."""
    client = logged_in(web, ADMIN)
    assert client.get(f"/admin/konton/{2**40}").status_code == 422
    assert client.get(f"/admin/arbetsfloden/team_dialog?version={2**40}").status_code == 422
    nul = _upload(client, "/admin/personer/import", "org.toml", "valid_from = 2024-08-01\n\x00")
    assert nul.status_code == 400
    assert "org.toml:2: a NUL character is not allowed" in nul.text
    empty = _upload(client, "/admin/arbetsfloden", "tom.toml", "  \n")
    assert empty.status_code == 400
    assert "tom.toml: the file is empty" in empty.text
    latin = client.post(
        "/admin/arbetsfloden",
        data={"csrf_token": csrf_of(client)},
        files={"fil": ("latin.toml", "å".encode("latin-1"), "application/toml")},
    )
    assert latin.status_code == 400
    assert "latin.toml: not UTF-8 text (byte 0)" in latin.text
    forged = client.post(
        "/admin/arbetsfloden", files={"fil": ("ny.toml", b"x = 1\n", "application/toml")}
    )
    assert forged.status_code == 403  # an upload without the CSRF token is not even read
    assert "CSRF" in forged.text
    nothing = client.post("/admin/arbetsfloden", data={"csrf_token": csrf_of(client)})
    assert nothing.status_code == 400
    assert "fil: choose a file to upload" in nothing.text
    confirm = client.post(
        "/admin/personer/import/bekrafta",
        data={"csrf_token": csrf_of(client), "confirm": "ja", "name": "o.toml", "text": "a\x00"},
    )
    assert confirm.status_code == 400
    assert "NUL" in confirm.text


def test_a_workflow_no_longer_on_disk_shows_its_latest_stored_version(
    workflow_web: FastAPI,
) -> None:
    app = _core(workflow_web)
    with app.db.session() as session:
        session.add(
            WorkflowSource(
                name="old_dialog",
                version=3,
                sha256="0" * 64,
                text=definition_path("team_dialog").read_text(encoding="utf-8"),
                first_used_at=app.clock.now(),
            )
        )
    client = logged_in(workflow_web, ADMIN)
    assert "old_dialog" in client.get("/admin/arbetsfloden").text
    page = client.get("/admin/arbetsfloden/old_dialog")
    assert page.status_code == 200
    assert "Definition, version 3" in page.text
    assert "borttagen" in page.text
