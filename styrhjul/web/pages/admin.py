"""The administrators' pages: accounts, people and the organisation file, workflows.

Every route, GET included, needs an administrator (``WebAccount.admin``): anyone else
gets the 403 page, logged like every refusal. Each form calls the service the CLI uses
(:mod:`styrhjul.services.accounts`, :mod:`styrhjul.services.administration`,
:mod:`styrhjul.services.workflow_install`), which also decides the rules (no
administrator disables themselves or removes their own admin flag) and writes the audit
rows. What cannot be undone needs its confirmation box ticked (400 without, nothing
changed). An upload is checked and compared first and shown; the confirmation form
carries the checked text back, and is checked again when applied (a workflow's form also
carries the text's SHA-256, which the install compares).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from styrhjul.errors import InputError, PermissionDenied
from styrhjul.services.accounts import (
    account_email,
    account_history,
    create_account,
    set_admin,
    set_disabled,
    set_password,
    unlock,
)
from styrhjul.services.administration import (
    account_view,
    account_views,
    apply_organisation,
    check_organisation,
    checked_text,
    list_people,
    people_without_account,
    upload_name,
    upload_text,
)
from styrhjul.services.definitions import list_workflows
from styrhjul.services.workflow_install import (
    check_definition,
    definition_text,
    install_definition,
)
from styrhjul.web.render import page
from styrhjul.web.security import CSRF_FIELD, Caller, caller, check_csrf, core, form_of


def admin_caller(request: Request, me: Annotated[Caller, Depends(caller)]) -> Caller:
    """The caller, if an administrator; PermissionDenied (403, logged) for anyone else."""
    if not me.viewer.admin:
        raise PermissionDenied(
            f"{me.email} is not an administrator and may not use {request.url.path}"
        )
    return me


Admin = Annotated[Caller, Depends(admin_caller)]
router = APIRouter(prefix="/admin", dependencies=[Depends(admin_caller)])

STATE_NAMES = {
    "active": "Aktivt",
    "locked": "Låst",
    "disabled": "Inaktiverat",
    "no_password": "Inget lösenord",
}
TRIGGER_NAMES = {
    "create": "Kontot skapades",
    "disable": "Inaktiverades",
    "enable": "Aktiverades",
    "set_password": "Nytt lösenord",
    "unlock": "Låstes upp",
    "grant_admin": "Blev administratör",
    "revoke_admin": "Administratörsrätten togs bort",
}
KIND_NAMES = {
    "dialog": "dialog",
    "process": "process",
    "meeting": "möte",
    "assignment": "VP-uppdrag",
}
SECTION_NAMES = {
    "workflow": "Arbetsflöde",
    "state": "Tillstånd",
    "transition": "Övergång",
    "timing": "Tidsgränser",
    "step": "Steg",
    "schedule": "Schema",
    "round": "Omgång",
    "recurring": "Återkommande",
}
"""The Swedish name of each part of a definition file, as the diff names it."""
CHANGE_WHAT = {"unit": "Enhet", "cycle": "Dialogcykel", "person": "Person", "role": "Roll"}
CHANGE_ACTION = {"add": "Läggs till", "update": "Ändras"}
MAX_ID = 2**31 - 1
"""The largest id of a 32-bit integer column: a larger one is a 422, not a database error."""
AccountId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _back(path: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?klart={quote(message)}", status_code=303)


def _confirmed(fields: dict[str, str], what: str) -> None:
    if fields.get("confirm") != "ja":
        raise InputError(f"{what}: tick the box to confirm; nothing was changed", key="confirm")


async def _upload(request: Request, me: Caller, default: str) -> tuple[str, str]:
    """The CSRF-checked uploaded file ``fil`` of a multipart form: (name, text)."""
    async with request.form(max_files=1) as form:  # closes the spooled upload
        sent = form.get(CSRF_FIELD)
        check_csrf(me, sent if isinstance(sent, str) else None)
        upload = form.get("fil")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InputError("choose a file to upload", key="fil")
        name = upload_name(upload.filename, default)
        return name, upload_text(name, await upload.read())


def _reviewed(fields: dict[str, str]) -> tuple[str, str, str]:
    """(name, text, digest) that a confirmation form carries back from the check page."""
    if not fields.get("text"):
        raise InputError("the checked file is missing; upload it again", key="text")
    name = upload_name(fields.get("name"), "fil.toml")
    return name, checked_text(name, fields["text"]), fields.get("digest", "")


# --- start page ------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def admin_home(request: Request, me: Admin) -> HTMLResponse:
    app = core(request)
    accounts = account_views(app)
    return page(
        request,
        "admin/index.html",
        accounts=accounts,
        by_state={s: sum(1 for a in accounts if a.state == s) for s in STATE_NAMES},
        admins=sum(1 for a in accounts if a.admin),
        people=list_people(app).total,
        workflows=list_workflows(app),
        state_names=STATE_NAMES,
    )


# --- accounts --------------------------------------------------------------------------------


@router.get("/konton", response_class=HTMLResponse, include_in_schema=False)
def accounts_page(request: Request, me: Admin) -> HTMLResponse:
    app = core(request)
    return page(
        request,
        "admin/accounts.html",
        accounts=account_views(app),
        candidates=people_without_account(app),
        state_names=STATE_NAMES,
    )


@router.post("/konton", include_in_schema=False)
async def account_create(request: Request, me: Admin) -> RedirectResponse:
    fields = await form_of(request)
    email = fields.get("email", "").strip()
    if not email:
        raise InputError("choose the person the account is for", key="email")
    password = fields.get("password", "")
    if password != fields.get("password2", ""):
        raise InputError("the two passwords differ; nothing was changed", key="password2")
    admin = fields.get("admin") == "ja"
    account_id = create_account(
        core(request), email, password=password or None, admin=admin, actor=me.email
    )
    message = f"Konto skapat för {email}" + (" (administratör)." if admin else ".")
    if not password:
        message += " Det får ett lösenord när du anger ett nedan."
    return _back(f"/admin/konton/{account_id}", message)


@router.get("/konton/{account_id}", response_class=HTMLResponse, include_in_schema=False)
def account_page(request: Request, account_id: AccountId, me: Admin) -> HTMLResponse:
    app = core(request)
    account = account_view(app, account_id)
    return page(
        request,
        "admin/account.html",
        account=account,
        history=account_history(app, account.email),
        is_self=account.email == me.email,
        state_names=STATE_NAMES,
        trigger_names=TRIGGER_NAMES,
    )


@router.post("/konton/{account_id}/{action}", include_in_schema=False)
async def account_action(
    request: Request, account_id: AccountId, action: str, me: Admin
) -> RedirectResponse:
    fields = await form_of(request)
    app = core(request)
    email = account_email(app, account_id)
    if action == "inaktivera":
        _confirmed(fields, f"account {email}: disable")
        set_disabled(app, email, disabled=True, actor=me.email)
        message = f"Kontot för {email} är inaktiverat; dess inloggningar har avslutats."
    elif action == "aktivera":
        set_disabled(app, email, disabled=False, actor=me.email)
        message = f"Kontot för {email} är aktiverat igen."
    elif action == "las-upp":
        unlock(app, email, actor=me.email)
        message = f"Kontot för {email} är upplåst."
    elif action == "losenord":
        _confirmed(fields, f"account {email}: set a new password")
        password = fields.get("password", "")
        if password != fields.get("password2", ""):
            raise InputError("the two passwords differ; nothing was changed", key="password2")
        set_password(app, email, password, actor=me.email)
        message = f"Nytt lösenord för {email}; kontots inloggningar har avslutats."
    elif action in ("gor-admin", "ta-bort-admin"):
        grant = action == "gor-admin"
        _confirmed(fields, f"account {email}: {'grant' if grant else 'revoke'} admin")
        set_admin(app, email, admin=grant, actor=me.email)
        message = f"{email} är {'nu' if grant else 'inte längre'} administratör."
    else:
        raise InputError(f"unknown account action {action!r}", key="action")
    return _back(f"/admin/konton/{account_id}", message)


# --- people and the organisation file --------------------------------------------------------


@router.get("/personer", response_class=HTMLResponse, include_in_schema=False)
def people_page(
    request: Request, me: Admin, q: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    return page(
        request,
        "admin/people.html",
        listing=list_people(core(request), q),
        q=q.strip(),
        state_names=STATE_NAMES,
    )


@router.post("/personer/import", response_class=HTMLResponse, include_in_schema=False)
async def people_import_check(request: Request, me: Admin) -> HTMLResponse:
    name, text = await _upload(request, me, "organisation.toml")
    check = check_organisation(core(request), name, text)
    return page(
        request,
        "admin/org_check.html",
        status_code=200 if check.ok else 400,
        check=check,
        text=text,
        change_what=CHANGE_WHAT,
        change_action=CHANGE_ACTION,
    )


@router.post("/personer/import/bekrafta", include_in_schema=False)
async def people_import_apply(request: Request, me: Admin) -> RedirectResponse:
    fields = await form_of(request)
    _confirmed(fields, "organisation import")
    name, text, _ = _reviewed(fields)
    s = apply_organisation(core(request), name, text, actor=me.email)
    return _back(
        "/admin/personer",
        f"{name} är importerad: {s.units_added} enheter tillagda, {s.units_updated} ändrade;"
        f" {s.people_added} personer tillagda, {s.people_updated} ändrade;"
        f" {s.roles_added} roller tillagda.",
    )


# --- workflows -------------------------------------------------------------------------------


@router.get("/arbetsfloden", response_class=HTMLResponse, include_in_schema=False)
def workflows_page(request: Request, me: Admin) -> HTMLResponse:
    return page(
        request,
        "admin/workflows.html",
        workflows=list_workflows(core(request)),
        kind_names=KIND_NAMES,
    )


@router.get("/arbetsfloden/{name}", response_class=HTMLResponse, include_in_schema=False)
def workflow_page(
    request: Request,
    name: Annotated[str, Path(max_length=64)],
    me: Admin,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    app = core(request)
    shown, text = definition_text(app, name, version)
    [listing] = [w for w in list_workflows(app) if w.name == name]
    return page(
        request,
        "admin/workflow.html",
        listing=listing,
        shown=shown,
        text=text,
        kind_names=KIND_NAMES,
    )


@router.post("/arbetsfloden", response_class=HTMLResponse, include_in_schema=False)
async def workflow_check(request: Request, me: Admin) -> HTMLResponse:
    name, text = await _upload(request, me, "arbetsflode.toml")
    check = check_definition(core(request), name, text)
    return page(
        request,
        "admin/workflow_check.html",
        status_code=200 if check.ok else 400,
        check=check,
        text=text,
        section_names=SECTION_NAMES,
    )


@router.post("/arbetsfloden/installera", include_in_schema=False)
async def workflow_install(request: Request, me: Admin) -> RedirectResponse:
    fields = await form_of(request)
    _confirmed(fields, "workflow install")
    name, text, digest = _reviewed(fields)
    done = install_definition(core(request), name, text, actor=me.email, digest=digest)
    return _back(
        f"/admin/arbetsfloden/{done.name}",
        f"Version {done.version} av {done.name} är installerad ({done.changes} ändringar)."
        " Nya ärenden startar på den; pågående behåller sin version. Starta om daemonen"
        " (systemctl restart styrhjul) så att den också använder den nya versionen.",
    )
