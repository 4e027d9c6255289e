"""The words of the chain of command (styrkedja), defined once for every layer.

Unit kinds, school forms (skolformer) and roles are checked by the organisation import,
by workflow definitions and by the database's CHECK constraints; all of them read these
tuples, so adding a role is a change in one place (plus a migration for the constraint).
"""

from __future__ import annotations

UNIT_KINDS = ("council", "board", "administration", "group", "area", "department", "unit", "team")

SCHOOL_FORMS = (
    "förskola",
    "grundskola",
    "gymnasieskola",
    "anpassad grundskola",
    "anpassad gymnasieskola",
    "fritidshem",
    "international",
)

ROLES = (
    "council_chair",
    "board_chair",
    "board_member",
    "director",
    "area_head",
    "department_head",
    "rektor",
    "secretary",
    "controller",
    "team_leader",
    "member",
)
"""Roles a person can hold in a unit, with validity dates."""

SYSTEM = "system"
"""The actor and role of Styrhjul itself (planning, the daemon); held by no person."""

HEAD_ROLE = {
    "council": "council_chair",
    "board": "board_chair",
    "administration": "director",
    "area": "area_head",
    "department": "department_head",
    "unit": "rektor",
    "team": "team_leader",
}
"""The role that leads a unit of each kind; a group (SG, LG) has no head of its own."""

PARENT_KINDS: dict[str, frozenset[str]] = {
    "council": frozenset(),
    "board": frozenset({"council"}),
    "administration": frozenset({"board"}),
    "group": frozenset({"administration"}),
    "area": frozenset({"administration"}),
    "department": frozenset({"administration"}),
    "unit": frozenset({"area"}),
    "team": frozenset({"unit"}),
}
"""Which kind of unit each kind may sit under."""

INSTANCE_KINDS = ("process", "dialog", "assignment", "meeting")
"""What a workflow instance is: a plain process (budget cycle, VP, quality report), a
performance dialog, a plan assignment (VP-uppdrag) or a meeting of a group (LG, SG)."""

AGENDA_KINDS = ("information", "dialog", "decision")
"""Kinds of agenda item at a meeting: information (with a presenter), dialog, decision."""

COMPARATORS = ("at_least", "at_most")
"""How a scorecard measure's target reads: "minst 97 %" is at_least, "högst 2 %" at_most."""

ASSIGNMENT_MEMBER_ROLES = ("steering_group", "support")
"""How a person takes part in a plan assignment: in its steering group, or as support
(a department head shaping the support)."""
