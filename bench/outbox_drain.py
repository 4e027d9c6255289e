"""Workload 6: a burst of queued messages drains from the outbox to an SMTP server.

Usage: ``python bench/outbox_drain.py [--messages 300] [--runs 5] [--quick] [--out FILE]``.

Invites are composed once per recipient through the real composer (text, HTML, the
calendar part and the attachment; about 9 KB each). Each run enqueues them into a fresh
SQLite database (in batches of 500 per transaction, as a yearly plan does) and drains them
with the real :func:`~styrhjul.services.outbox.dispatch` through :class:`SmtpTransport` to
an aiosmtpd server on loopback, in a thread of this process, that counts what it receives.
The floor is the same bytes sent with smtplib in a loop over one connection: what is left
between the two is the outbox's own cost (claim and mark sent: one commit a message,
overlapped with the next message's send, whose DATA waits for it).
The enqueueing (untimed in the ratio) and the composing are kept as notes.
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
import socket
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer  # noqa: N811 - beside smtplib.SMTP
from aiosmtpd.smtp import Envelope, Session
from harness import Figures, Result, main
from scratch import migrated, open_app
from sqlalchemy import func, select

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import OutboxMessage
from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.messages import ChecklistLine, MeetingInvite, Party, Sender
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import SmtpTransport
from styrhjul.services.outbox import dispatch, enqueue

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)
FULL = 300
"""Messages a run: the drain managed 80 to 200 a second here, and the workload has a minute."""
QUICK = 20
BATCH = 500
SENDER = Sender("styrhjul@skola.example.se")
DIRECTOR = Party("ud@skola.example.se", "Utbildningsdirektör", "CHAIR")


class Counter:
    """An aiosmtpd handler that counts accepted messages and their bytes, keeping nothing."""

    def __init__(self) -> None:
        self.messages = 0
        self.size = 0

    async def handle_DATA(  # noqa: N802 - aiosmtpd finds hooks by this name
        self, server: SMTPServer, session: Session, envelope: Envelope
    ) -> str:
        self.messages += 1
        self.size += len(envelope.original_content or b"")
        return "250 OK"


class SocketController(Controller):
    """A Controller serving on a socket bound here: aiosmtpd cannot bind port 0 itself."""

    def __init__(self, handler: Counter, sock: socket.socket, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)
        self._sock = sock

    def _create_server(self) -> Any:  # aiosmtpd 1.4's hook; the public API takes no socket
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


def start_server() -> tuple[SocketController, Counter]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    handler = Counter()
    # the default message size limit (32 MiB) is ample; a fresh loop per server
    controller = SocketController(handler, sock, ready_timeout=5.0, loop=asyncio.new_event_loop())
    controller.start()
    return controller, handler


def invites(count: int) -> list[tuple[str, EmailMessage]]:
    """One invite per recipient, each to its own dialog, composed by the real composer."""
    renderer = Renderer()
    composed = []
    start = NOW + timedelta(days=35)
    for number in range(count):
        recipient = Party(f"rektor.{number}@skola.example.se", f"Rektor, Skola {number}")
        checklist = (
            ChecklistLine("Läs verksamhetsplanen", DIRECTOR.title, date(2026, 10, 5), True, False),
            ChecklistLine(
                "Skicka kvalitetsrapporten", recipient.title, date(2026, 9, 28), True, True
            ),
            ChecklistLine("Förbered frågor", recipient.title, date(2026, 10, 2), False, True),
        )
        invite = MeetingInvite(
            uid=f"dialog-{number}@styrhjul.skola.example.se",
            sequence=0,
            method="REQUEST",
            summary=f"Dialog om kvalitet, Skola {number}",
            description="Genomgång av kvalitetsrapporten och läget i åtgärderna.",
            location="Stadshuset, rum 412",
            start=start + timedelta(minutes=90 * (number % 5)),
            end=start + timedelta(minutes=90 * (number % 5) + 75),
            organizer=Party(DIRECTOR.email, DIRECTOR.title),
            attendees=(DIRECTOR, recipient),
            checklist=checklist,
            reference=f"dialog {number}",
        )
        key = f"invite:dialog-{number}:0:{recipient.email}"
        message = compose_invite(
            invite, recipient, sender=SENDER, key=key, stamp=NOW, renderer=renderer
        )
        composed.append((key, message))
    return composed


def one_run(composed: list[tuple[str, EmailMessage]], folder: Path) -> dict[str, float]:
    """Enqueue and drain ``composed`` into a fresh database, then send the floor's copy."""
    database = migrated(folder / "bench.db")
    controller, handler = start_server()
    transport = SmtpTransport(
        "127.0.0.1",
        controller.port,
        security="none",
        username=None,
        password=None,
        timeout=30.0,
        local_hostname="styrhjul.bench",
    )
    app = open_app(database, FixedClock(NOW), transport=transport)
    try:
        began = time.perf_counter()
        for offset in range(0, len(composed), BATCH):
            with app.db.session() as session:
                for key, message in composed[offset : offset + BATCH]:
                    enqueue(session, NOW, key=key, kind="invite", message=message)
        enqueued = time.perf_counter() - began
        began = time.perf_counter()
        report = dispatch(app, limit=len(composed) + 1)
        drained = time.perf_counter() - began
        transport.close()
        with app.db.session() as session:
            payloads = list(session.scalars(select(OutboxMessage.payload)))
            sent = session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
        if not report.sent == sent == handler.messages == len(composed):
            raise RuntimeError(f"drained {report} ({sent} marked sent) of {len(composed)}")
        received = handler.size

        # The floor: the same bytes over one connection, smtplib in a loop.
        recipients = [str(message["To"].addresses[0].addr_spec) for _, message in composed]
        before = handler.messages
        began = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", controller.port, "styrhjul.bench", timeout=30) as smtp:
            for payload, recipient in zip(payloads, recipients, strict=True):
                smtp.sendmail(SENDER.address, [recipient], payload)
        floor = time.perf_counter() - began
        if handler.messages - before != len(composed):
            raise RuntimeError(f"the floor delivered {handler.messages - before}")
    finally:
        app.close()
        controller.stop()
    return {
        "enqueue": enqueued,
        "drain": drained,
        "floor": floor,
        "mean_bytes": received / len(composed),
    }


def measure(args: argparse.Namespace) -> list[Result]:
    count = QUICK if args.quick else args.messages
    runs = 1 if args.quick else args.runs
    began = time.perf_counter()
    composed = invites(count)
    composing = time.perf_counter() - began
    samples = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as folder:
            samples.append(one_run(composed, Path(folder)))
    enqueue_s = statistics.median_high(s["enqueue"] for s in samples)
    return [
        Result(
            workload="outbox_drain",
            title="Outbox drain to a local SMTP server (aiosmtpd)",
            size=f"{count:,} messages",
            figures=[
                Figures(
                    "styrhjul",
                    "dispatch() through SmtpTransport",
                    tuple(s["drain"] for s in samples),
                    count,
                    "messages",
                ),
                Figures(
                    "floor",
                    "the same bytes, smtplib over one connection",
                    tuple(s["floor"] for s in samples),
                    count,
                    "messages",
                ),
            ],
            notes={
                "mean_message_bytes": round(samples[0]["mean_bytes"]),
                "compose_rate_per_s": round(count / composing, 1),
                "enqueue_rate_per_s": round(count / enqueue_s, 1),
                "target": "within 2x of a bare smtplib loop over one connection",
            },
        )
    ]


def options(found: argparse.ArgumentParser) -> None:
    found.add_argument(
        "--messages", type=int, default=FULL, help=f"messages a run (default {FULL})"
    )


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=options))
