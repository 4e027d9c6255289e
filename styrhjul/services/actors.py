"""Who acts on an instance: the person an e-mail names and the roles they hold over it.

Roles are inherited down the chain of command (see :mod:`styrhjul.services.org`), so what
an actor may do with an instance depends on every unit from the instance's up to the
root. :mod:`~styrhjul.services.org` walks that chain one unit per query, which planning
amortises over a session; a transition is a session of its own and asks once, so here the
chain is a recursive query and the answer one statement.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import BindParameter, Date, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from styrhjul.db.models import Instance, OrgUnit, Person, RoleAssignment
from styrhjul.errors import NotFound
from styrhjul.services.org import ancestors, ids_above


def person_and_roles(
    session: Session, instance: Instance, actor: str, on: date
) -> tuple[int, set[str]]:
    """The id of the person ``actor`` names and the roles they hold for ``instance`` on ``on``.

    What :func:`~styrhjul.services.org.person_by_email` and
    :func:`~styrhjul.services.org.roles_of` answer together (NotFound for an unknown
    address, the roles held in the instance's unit or above it), in one query.
    """
    rows = session.execute(
        _roles_query(), {"unit_id": unit_id_of(instance), "email": actor.strip().lower(), "on": on}
    ).all()
    if not rows:
        raise NotFound("person", repr(actor))
    return rows[0][0], {role for _, role in rows if role is not None}


@cache
def _roles_query() -> Select[int, str]:
    """The query of :func:`person_and_roles`, built once: building it costs more than running it.

    A person row, and the roles it holds on the day over the unit chain (none: one row with
    no role). The validity test is :func:`~styrhjul.services.org.valid_on`'s, on a parameter.
    """
    on = bindparam("on", type_=Date)
    holds = and_(
        RoleAssignment.person_id == Person.id,
        RoleAssignment.unit_id.in_(chain_ids(bindparam("unit_id"))),
        RoleAssignment.valid_from <= on,
        or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= on),
    )
    return (
        select(Person.id, RoleAssignment.role)
        .outerjoin(RoleAssignment, holds)
        .where(Person.email == bindparam("email"))
    )


def unit_chain(session: Session, instance: Instance) -> list[OrgUnit]:
    """The instance's unit and every unit above it, nearest first, read in one query.

    :func:`~styrhjul.services.org.ancestors` reads one unit per query; once the chain is in
    the session it reads none, and remembers it for the rest of the session.
    """
    read = list(session.scalars(_units_query(), {"unit_id": unit_id_of(instance)}))
    chain = ancestors(session, instance.unit)
    del read  # held until ancestors() found them: the session keeps only what is referred to
    return chain


@cache
def _units_query() -> Select[OrgUnit]:
    return select(OrgUnit).where(OrgUnit.id.in_(chain_ids(bindparam("unit_id"))))


def unit_id_of(instance: Instance) -> int:
    """The instance's unit id; a new instance may name its unit only as an object yet."""
    return instance.unit_id if instance.unit_id is not None else instance.unit.id


def chain_ids(unit_id: int | BindParameter[int]) -> Select[int]:
    """A query for the ids of ``unit_id`` and every unit above it (a recursive CTE)."""
    return ids_above(OrgUnit.id == unit_id, "unit_chain")
