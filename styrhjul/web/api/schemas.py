"""The JSON API's request and response bodies, typed so that OpenAPI describes every one.

Responses mirror the services' read models (``from_attributes``: a dataclass of
:mod:`styrhjul.services.views` and its kin validates as the model of the same shape).
Requests refuse unknown keys (a misspelt field is a 422 naming it, never silently
ignored), and every text is bounded and free of NUL characters, which PostgreSQL cannot
store; ids are bounded to the databases' 32-bit integer columns, so that a huge number is
a 422, not a database error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field

from styrhjul.web.params import MAX_ID

"""The largest id a 32-bit integer column holds (PostgreSQL ``integer``)."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=0, le=MAX_ID)]
NO_NUL = r"^[^\x00]*$"
Line = Annotated[str, Field(max_length=200, pattern=NO_NUL)]
Text = Annotated[str, Field(max_length=20_000, pattern=NO_NUL)]
Email = Annotated[str, Field(max_length=320, pattern=NO_NUL)]
TRAIL = AliasChoices("timeline", "history")
"""The services call the audit trail ``history``; the API calls it ``timeline``."""


class Out(BaseModel):
    """A response body, read from a service's dataclass by attribute."""

    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """A request body: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class ApiError(BaseModel):
    """Every error of the API: what is wrong (naming the field or thing) and the status."""

    error: str
    status: int


# --- the session ---------------------------------------------------------------------------


class LoginIn(In):
    """An account's e-mail and password."""

    email: Email
    password: Annotated[str, Field(max_length=1000, pattern=NO_NUL)]


class SessionOut(Out):
    """A new session: its token, shown this once."""

    token: str = Field(description="Send as `Authorization: Bearer TOKEN`.")
    expires_at: datetime
    csrf_token: str = Field(
        description="Only for scripts in a browser that use the session cookie instead of"
        " the bearer token: send it as `X-CSRF-Token` with every unsafe request."
    )


class RoleOut(Out):
    """A role held today in a unit."""

    role: str
    unit: str


class MeOut(Out):
    """The logged-in person and what they read."""

    email: str
    title: str
    admin: bool
    roles: list[RoleOut] = Field(description="The roles held today, with the unit of each.")
    reads_all: bool = Field(description="Whether they read the whole chain (director, controller).")
    units: list[str] = Field(description="Codes of the units whose dialogs and meetings they read.")


# --- reads ---------------------------------------------------------------------------------


class StepOut(Out):
    """A checklist step of an instance."""

    id: int
    key: str
    title: str
    assignee: str | None
    required: bool
    due_at: datetime
    remind_at: datetime | None
    escalate_at: datetime | None
    done_at: datetime | None
    done_by: str | None


class AgreementOut(Out):
    """An agreed action of an instance."""

    id: int
    text: str
    owner: str
    due_on: date
    done_at: datetime | None


class DialogAgreementOut(AgreementOut):
    """An agreement of a dialog, with what may still be done to it."""

    carried_to: int | None = Field(description="The dialog it was carried on to, if it was.")
    open: bool = Field(description="May still be marked done or carried on.")


class AuditOut(Out):
    """One row of an instance's audit trail."""

    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str | None
    reason: str


class ObservationOut(Out):
    """Observations compiled from the round below, per school form."""

    school_form: str | None
    text: str
    author: str
    recorded_at: datetime


class AgendaStepOut(Out):
    """A preparation step of a coming dialog or meeting."""

    id: int
    title: str
    assignee: str | None
    assignee_role: str
    required: bool
    due_at: datetime
    done_at: datetime | None
    mine: bool
    overdue: bool


class AgendaEntryOut(Out):
    """A coming dialog or meeting of the caller, with its checklist."""

    id: int
    kind: str
    title: str
    unit: str
    unit_name: str
    state: str
    state_title: str
    starts_at: datetime
    ends_at: datetime
    location: str
    has_invite: bool
    open_mine: int = Field(description="Steps assigned to the caller and not done.")
    steps: list[AgendaStepOut]


class DialogOut(Out):
    """A dialog: its state, checklist, agreements and timeline."""

    id: int
    school_year: str
    round_no: int
    unit: str
    unit_name: str
    area: str
    state: str
    state_title: str
    starts_at: datetime
    ends_at: datetime
    prepare_at: datetime
    location: str
    organizer: str
    participant: str
    version: int = Field(description="Send as `expected_version` to refuse a stale change.")
    minutes: str | None
    allowed: list[str] = Field(description="Triggers the workflow allows in this state.")
    may_run: bool = Field(description="Whether the caller holds a role that runs it.")
    checklist: list[StepOut]
    agreements: list[DialogAgreementOut]
    timeline: list[AuditOut]
    observations: list[ObservationOut]


class AgendaItemOut(Out):
    """An agenda item of a meeting, its record, and where it came from or went."""

    id: int
    position: int
    kind: str
    kind_title: str
    title: str
    presenter: str | None
    notes: str | None
    decision: str | None
    take_up_again: bool
    carried_from_item: int | None
    carried_from_meeting: int | None
    carried_to_item: int | None
    carried_to_meeting: int | None


class AttendeeOut(Out):
    """Someone called to a meeting; ``present`` is null until it is recorded."""

    email: str
    title: str
    present: bool | None


class ActionOut(Out):
    """An action agreed at a meeting (or carried to it)."""

    id: int
    meeting_id: int
    text: str
    owner: str
    due_on: date
    done_at: datetime | None
    done_by: str | None
    carried_to_meeting: int | None
    carried_from_meeting: int | None
    is_open: bool


class MeetingOut(Out):
    """A meeting of LG or SG: agenda, attendance, actions, checklist, timeline."""

    id: int
    group: str
    group_name: str
    title: str
    state: str
    state_title: str
    starts_at: datetime
    ends_at: datetime
    location: str
    chair: str | None
    secretary: str | None
    version: int
    minutes: str | None
    allowed: list[str]
    may_run: bool
    agenda: list[AgendaItemOut]
    attendance: list[AttendeeOut]
    actions: list[ActionOut]
    earlier_open_actions: list[ActionOut]
    checklist: list[StepOut]
    timeline: list[AuditOut]


class InstanceOut(Out):
    """Any workflow instance: state, checklist, agreements and timeline."""

    id: int
    kind: str
    workflow: str
    workflow_version: int
    title: str
    unit: str
    unit_name: str
    period: str | None
    state: str
    state_title: str
    final: bool
    starts_at: datetime | None
    version: int
    allowed: list[str]
    checklist: list[StepOut]
    agreements: list[AgreementOut]
    timeline: list[AuditOut] = Field(
        description="The audit trail, oldest first.", validation_alias=TRAIL
    )
    observations: list[ObservationOut]


class KeptOut(Out):
    """A dialog or meeting on a secretary's desk."""

    kind: str
    id: int
    title: str
    unit: str
    unit_name: str
    starts_at: datetime | None
    state: str
    state_title: str


class DeskOut(Out):
    """What a secretary keeps, by what is left to do."""

    to_hold: list[KeptOut]
    to_close: list[KeptOut]
    closed: list[KeptOut] = Field(description="Closed in the last 60 days.")


class EventOut(Out):
    """One event of the year: an årshjul date, a dialog or a meeting."""

    kind: str
    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    ring: str
    unit: str
    status: str
    uid: str | None
    sequence: int
    moved_because: str | None


class AssignmentOut(Out):
    """A VP-uppdrag, its state and next step."""

    id: int
    title: str
    school_year: str
    state: str
    state_title: str
    area: str
    area_name: str
    responsible: str
    units: int
    steps_open: int
    next_due_at: datetime | None
    next_step: str | None
    version: int


class OutcomeOut(Out):
    """One outcome of a measure, and whether it meets the target."""

    period: str
    value: float
    value_text: str
    met: bool
    recorded_at: datetime


class MeasureOut(Out):
    """A measure of a unit's scorecard, its target and outcomes."""

    unit: str
    unit_name: str
    code: str
    title: str
    comparator: str
    target: float
    unit_label: str
    target_text: str
    outcomes: list[OutcomeOut]


class TokenOut(Out):
    """A calendar-feed token as listed (never the secret itself)."""

    id: int
    label: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class CreatedTokenOut(Out):
    """A new calendar-feed token and its address."""

    feed: TokenOut
    address: str = Field(description="The feed's address; shown this once, stored nowhere.")


# --- actions -------------------------------------------------------------------------------


class StateOut(Out):
    """Where an instance stands after an action."""

    id: int
    kind: str
    state: str
    state_title: str
    final: bool
    version: int
    allowed: list[str]


class StepDoneOut(Out):
    """A step ticked done, and where its instance stands now."""

    id: int
    key: str
    title: str
    done_at: datetime | None
    done_by: str | None
    instance: StateOut


class AgreementDoneOut(Out):
    """An agreement marked done, and where its instance stands now."""

    id: int
    done_at: datetime | None
    done_by: str | None
    instance: StateOut


class CarriedOut(Out):
    """An agreement carried on, and the one that continues it."""

    kind: str = Field(description="`dialog` or `meeting`: what the agreement belongs to.")
    agreement_id: int
    from_instance: int
    to_instance: int
    new_agreement_id: int = Field(description="The agreement that continues it there.")


class AgreedActionIn(In):
    """An agreed action: what, whose (e-mail), by when."""

    text: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL)]
    owner: Email
    due_on: date


class HoldDialogIn(In):
    """The record of a dialog held."""

    minutes: Text
    agreements: Annotated[list[AgreedActionIn], Field(max_length=100)] = []
    expected_version: Version | None = None


class CloseIn(In):
    """Closing a dialog's follow-up or a meeting."""

    reason: Text = ""
    expected_version: Version | None = None


class CancelIn(In):
    """Cancelling a dialog or a meeting: a reason is required."""

    reason: Text
    expected_version: Version | None = None


class PostponeIn(In):
    """Moving a dialog or meeting: the new start (with its offset) and why."""

    starts_at: AwareDatetime
    reason: Text
    expected_version: Version | None = None


class VersionIn(In):
    """An optional stale-write guard: the version the client read."""

    expected_version: Version | None = None


class CarryIn(In):
    """Carrying an agreement on."""

    due_on: date | None = Field(default=None, description="A new due date; by default the same.")
    to_meeting: Id | None = Field(
        default=None,
        description="A meeting's action only: the later meeting (by default the next).",
    )


class ItemRecordIn(In):
    """What the minutes say about one agenda item (by id)."""

    id: Id
    notes: Text = ""
    decision: Text = ""
    take_up_again: bool = False


class HoldMeetingIn(In):
    """The minutes of a meeting held; everyone called and not absent was present."""

    notes: Text = ""
    absent: Annotated[list[Email], Field(max_length=200)] = []
    guests: Annotated[list[Email], Field(max_length=200)] = []
    items: Annotated[list[ItemRecordIn], Field(max_length=200)] = []
    actions: Annotated[list[AgreedActionIn], Field(max_length=100)] = []
    expected_version: Version | None = None


class MeetingHeldOut(Out):
    """What recording a meeting did."""

    instance: StateOut
    present: int
    absent: int
    actions: list[int]
    resumed_at: int | None = Field(description="The meeting items taken up again went to.")
    take_up_again: list[str]


class AgendaSentOut(Out):
    """An agenda sent."""

    instance: StateOut
    messages: int = Field(description="Invitations queued.")


class TokenIn(In):
    """A new calendar-feed token: an optional label."""

    label: Line = ""


ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ApiError, "description": text}
    for status, text in (
        (400, "Bad input, naming the field (`key: message`)."),
        (401, "Not logged in, or the session has ended."),
        (403, "Not allowed to read or do this, or the CSRF token of a cookie request is missing."),
        (404, "No such thing."),
        (409, "The state forbids it, or `expected_version` is stale."),
        (422, "The request does not match the schema; the message names the field."),
    )
}
"""The error answers of every API route, all :class:`ApiError` (also FastAPI's own 422)."""
