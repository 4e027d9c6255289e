"""The JSON API's admin routes: accounts, people and workflows, for administrators only.

The same services as the administrators' pages (:mod:`styrhjul.web.pages.admin`), so the
same rules: an administrator neither disables their own account nor removes their own
admin flag (403), every change writes an audit row naming the caller. Anyone but an
administrator gets 403 on every route. A client that sends the request has decided:
there is no confirmation step.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from styrhjul.errors import PermissionDenied
from styrhjul.services.accounts import (
    account_email,
    create_account,
    set_admin,
    set_disabled,
    unlock,
)
from styrhjul.services.administration import AccountView, account_views, list_people
from styrhjul.services.context import App
from styrhjul.services.definitions import list_workflows
from styrhjul.web.api.deps import Core, Me
from styrhjul.web.api.schemas import NO_NUL
from styrhjul.web.params import MAX_ID
from styrhjul.web.security import Caller


def _admin(request: Request, me: Me) -> Caller:
    """The caller, if an administrator; 403 for anyone else."""
    if not me.viewer.admin:
        raise PermissionDenied(
            f"{me.email} is not an administrator and may not use {request.url.path}"
        )
    return me


Admin = Annotated[Caller, Depends(_admin)]
router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(_admin)])
AccountId = Annotated[int, Path(ge=1, le=MAX_ID, description="The account's id.")]


class _Out(BaseModel):
    """A response body, read from a service's dataclass by attribute."""

    model_config = ConfigDict(from_attributes=True)


class AccountOut(_Out):
    """An account: whose, its state now, its last login and lockout."""

    id: int
    person_id: int
    email: str
    title: str
    admin: bool
    state: str = Field(description="`active`, `locked`, `disabled` or `no_password`.")
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = Field(description="Set while the account is locked.")
    disabled_at: datetime | None


class AccountIn(BaseModel):
    """A new account for a person of the organisation."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(min_length=3, max_length=254, pattern=NO_NUL)]
    password: Annotated[str, Field(max_length=1000, pattern=NO_NUL)] | None = Field(
        default=None, description="At least 12 characters; null: the account waits for one."
    )
    admin: bool = False


class HeldRoleOut(_Out):
    """A role held today, in which unit."""

    role: str
    unit_code: str
    unit_name: str


class PersonOut(_Out):
    """A person, the roles they hold today and their account's state (null: no account)."""

    id: int
    email: str
    title: str
    locale: str
    roles: list[HeldRoleOut]
    account: str | None


class PeopleOut(_Out):
    """The people found (at most 500) and how many matched."""

    people: list[PersonOut]
    total: int


class VersionUseOut(_Out):
    """One version of a workflow and how many instances run on it (or have finished)."""

    version: int
    first_used_at: datetime | None
    running: int
    finished: int


class WorkflowOut(_Out):
    """A workflow: the version on disk (null: removed) and the versions instances run on."""

    name: str
    version: int | None
    kind: str
    title: str
    versions: list[VersionUseOut]


def _account(app: App, account_id: int) -> AccountOut:
    found: list[AccountView] = [a for a in account_views(app) if a.id == account_id]
    return AccountOut.model_validate(found[0])


@router.get("/accounts", response_model=list[AccountOut])
def accounts(app: Core, me: Admin) -> list[AccountOut]:
    """Every account, by e-mail address."""
    return [AccountOut.model_validate(a) for a in account_views(app)]


@router.post("/accounts", response_model=AccountOut, status_code=201)
def new_account(app: Core, me: Admin, body: AccountIn) -> AccountOut:
    """Let a person of the organisation log in (404 if there is no such person)."""
    account_id = create_account(
        app, body.email, password=body.password, admin=body.admin, actor=me.email
    )
    return _account(app, account_id)


@router.post("/accounts/{account_id}/disable", response_model=AccountOut)
def disable(app: Core, me: Admin, account_id: AccountId) -> AccountOut:
    """Stop the account from logging in; its sessions end. Not one's own (403)."""
    set_disabled(app, account_email(app, account_id), disabled=True, actor=me.email)
    return _account(app, account_id)


@router.post("/accounts/{account_id}/enable", response_model=AccountOut)
def enable(app: Core, me: Admin, account_id: AccountId) -> AccountOut:
    """Let a disabled account log in again."""
    set_disabled(app, account_email(app, account_id), disabled=False, actor=me.email)
    return _account(app, account_id)


@router.post("/accounts/{account_id}/unlock", response_model=AccountOut)
def unlock_account(app: Core, me: Admin, account_id: AccountId) -> AccountOut:
    """End the lockout after too many wrong passwords (400 if it is not locked)."""
    unlock(app, account_email(app, account_id), actor=me.email)
    return _account(app, account_id)


@router.put("/accounts/{account_id}/admin", response_model=AccountOut)
def grant_admin(app: Core, me: Admin, account_id: AccountId) -> AccountOut:
    """Make the account an administrator."""
    set_admin(app, account_email(app, account_id), admin=True, actor=me.email)
    return _account(app, account_id)


@router.delete("/accounts/{account_id}/admin", response_model=AccountOut)
def revoke_admin(app: Core, me: Admin, account_id: AccountId) -> AccountOut:
    """Take the admin flag away; not one's own (403)."""
    set_admin(app, account_email(app, account_id), admin=False, actor=me.email)
    return _account(app, account_id)


@router.get("/people", response_model=PeopleOut)
def people(
    app: Core,
    me: Admin,
    q: Annotated[
        str,
        Query(max_length=200, pattern=NO_NUL, description="Part of e-mail, title, role or unit."),
    ] = "",
    on: Annotated[date | None, Query(description="Roles held on this day (default today).")] = None,
) -> PeopleOut:
    """The people of the organisation with the roles they hold, searchable."""
    return PeopleOut.model_validate(list_people(app, q, on=on))


@router.get("/workflows", response_model=list[WorkflowOut])
def workflows(app: Core, me: Admin) -> list[WorkflowOut]:
    """Every workflow with its version on disk and how many instances run on each version."""
    return [WorkflowOut.model_validate(w) for w in list_workflows(app)]
