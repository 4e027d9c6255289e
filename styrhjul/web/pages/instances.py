"""The instance page: any dialog, assignment, meeting or process the caller may read.

It shows what the CLI's ``styrhjul history`` shows (title, state, unit, the audit trail,
oldest first) with the checklist, and draws the workflow's state machine with the current
state marked (:mod:`styrhjul.web.diagram`), so anyone can see where the matter stands and
what may come next. Reading is checked by ``access.require_instance`` (403 otherwise).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from styrhjul.services.access import require_instance
from styrhjul.services.views import instance_detail
from styrhjul.web.diagram import edges_of, state_diagram
from styrhjul.web.params import RowId
from styrhjul.web.render import page
from styrhjul.web.security import Caller, caller, core

router = APIRouter()

KIND_NAMES = {"dialog": "Dialog", "meeting": "Möte", "assignment": "Uppdrag", "process": "Process"}


@router.get("/arenden/{instance_id}", response_class=HTMLResponse, include_in_schema=False)
def instance_page(
    request: Request, instance_id: RowId, me: Annotated[Caller, Depends(caller)]
) -> HTMLResponse:
    app = core(request)
    require_instance(app, me.viewer, instance_id)
    detail = instance_detail(app, instance_id)
    definition = app.machine(detail.workflow, detail.workflow_version).definition
    visited = frozenset(
        state for entry in detail.history for state in (entry.from_state, entry.to_state) if state
    )
    svg = state_diagram(definition, detail.state, visited)
    transitions = [
        (e, definition.state_title(e.source), definition.state_title(e.dest))
        for e in edges_of(definition)
    ]
    return page(
        request,
        "instance/detail.html",
        detail=detail,
        kind_name=KIND_NAMES.get(detail.kind, detail.kind),
        workflow_title=definition.spec.workflow.title,
        diagram=Markup(svg),  # noqa: S704 - built by diagram.py, every text in it escaped
        transitions=transitions,
        now=app.clock.now(),
        me=me.email,
        state_title=definition.state_title,
    )
