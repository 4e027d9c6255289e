"""What a service needs from the outside world, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from styrhjul.calendar import WorkingCalendar
from styrhjul.clock import Clock
from styrhjul.config import Settings
from styrhjul.db.database import Database
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.notifications.messages import Sender
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import Transport


@dataclass
class App:
    """The application object: built once by :func:`styrhjul.wiring.build`."""

    settings: Settings
    clock: Clock
    db: Database
    transport: Transport
    calendar: WorkingCalendar
    renderer: Renderer
    sender: Sender
    machines: dict[str, WorkflowMachine] = field(default_factory=dict)

    def machine(self, name: str) -> WorkflowMachine:
        return self.machines[name]

    def close(self) -> None:
        self.transport.close()
        self.db.dispose()
