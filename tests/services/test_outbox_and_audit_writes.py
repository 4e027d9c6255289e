"""How an enqueue and an audit row are written: one statement each, the same rows as before.

An enqueue is one ``INSERT ... ON CONFLICT (key) DO NOTHING`` (no look-up first); an audit
row is one plain ``INSERT`` sent at once, unless rows added as objects are waiting for the
flush, when it joins them so the trail keeps the order the changes were made in.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlcount import statements
from support import dialog_id_of

from styrhjul.db.models import AuditEvent, Dialog, OutboxMessage
from styrhjul.notifications.stored import to_stored
from styrhjul.services.audit import audit_instance, history
from styrhjul.services.context import App
from styrhjul.services.outbox import enqueue


def _message(key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "styrhjul@example.se"
    message["To"] = "mottagare@example.se"
    message["Subject"] = "Ämne " + "x" * 400
    message["Message-ID"] = f"<{key}@example.se>"
    message.set_content("Hej")
    return message


def test_an_enqueue_is_one_statement_and_writes_the_whole_row(app: App) -> None:
    now = app.clock.now()
    message = _message("k1")
    with app.db.session() as session:
        with statements(app) as first:
            assert enqueue(session, now, key="k1", kind="invite", message=message) is True
        with statements(app) as again:
            assert enqueue(session, now, key="k1", kind="reminder", message=_message("k2")) is False
    assert (len(first), len(again)) == (1, 1)
    assert "ON CONFLICT" in first[0].upper()
    with app.db.session() as session:
        [row] = session.scalars(select(OutboxMessage))
        got = (row.key, row.kind, row.recipient, row.subject, row.message_id, row.payload)
        assert got == (
            "k1",
            "invite",
            "mottagare@example.se",
            str(message["Subject"])[:300],
            "<k1@example.se>",
            to_stored(message),
        )
        assert (row.status, row.attempts, row.created_at, row.next_attempt_at) == (
            "pending",
            0,
            now,
            now,
        )


def test_audit_rows_are_plain_inserts_in_the_order_of_the_changes(planned_app: App) -> None:
    app = planned_app
    at = app.clock.now()
    with app.db.session() as session:
        dialog = session.get_one(Dialog, dialog_id_of(app))
        with statements(app) as seen:
            audit_instance(session, dialog, at=at, actor="a", trigger="t1", from_state="x")
            dialog.state = "preparing"
            audit_instance(
                session, dialog, at=at, actor="b", trigger="t2", from_state="y", reason="r"
            )
        assert [s.split(" (")[0] for s in seen] == ["INSERT INTO audit_event"] * 2, seen
        assert all("RETURNING" not in s.upper() for s in seen)
        assert not [o for o in session.new if isinstance(o, AuditEvent)]
    with app.db.session() as session:
        dialog = session.get_one(Dialog, dialog_id_of(app))
        rows = [
            (e.entity, e.entity_id, e.at, e.actor, e.trigger, e.from_state, e.to_state, e.reason)
            for e in history(session, dialog)[-2:]
        ]
        assert dialog.updated_at == at
    assert rows == [
        ("dialog", dialog.id, at, "a", "t1", "x", "planned", ""),
        ("dialog", dialog.id, at, "b", "t2", "y", "preparing", "r"),
    ]


def test_an_audit_row_after_one_added_as_an_object_comes_after_it(planned_app: App) -> None:
    app = planned_app
    at = app.clock.now()
    later = at + timedelta(minutes=1)
    with app.db.session() as session:
        dialog = session.get_one(Dialog, dialog_id_of(app))
        audit_instance(session, dialog, at=at, actor="first", trigger="t", from_state=None)
        session.add(
            AuditEvent(
                entity="dialog",
                entity_id=dialog.id,
                at=at,
                actor="second",
                trigger="t",
                from_state=None,
                to_state=None,
                reason="",
            )
        )
        audit_instance(session, dialog, at=later, actor="third", trigger="t", from_state=None)
    with app.db.session() as session:
        dialog = session.get_one(Dialog, dialog_id_of(app))
        actors = [e.actor for e in history(session, dialog)[-3:]]
    assert actors == ["first", "second", "third"]
