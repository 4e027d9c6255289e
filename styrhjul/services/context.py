"""What a service needs from the outside world, handed in by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from styrhjul.calendar import WorkingCalendar
from styrhjul.clock import Clock
from styrhjul.config import Settings
from styrhjul.db.database import Database
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import NotFound
from styrhjul.notifications.messages import Sender
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import Transport

Stop = Callable[[], bool]
"""Asked between units of work by loops that may run long: True means return now."""


def never() -> bool:
    """The :data:`Stop` of a pass that runs to its end."""
    return False


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

    older: Callable[[App, str, int], WorkflowMachine] | None = None
    """Builds the machine of an older definition version (see ``services.definitions``)."""

    def machine(self, name: str, version: int | None = None) -> WorkflowMachine:
        """The machine of workflow ``name``: the current version, or the one asked for.

        A running instance keeps the definition version it started with; an older
        version's machine is built from the text stored when it was first used.
        """
        try:
            current = self.machines[name]
        except KeyError:
            known = ", ".join(sorted(self.machines))
            raise NotFound("workflow", f"{name!r} (known: {known})") from None
        if version is None or version == current.definition.version:
            return current
        key = f"{name}@{version}"
        if key not in self.machines:
            if self.older is None:
                raise NotFound("workflow version", f"{name} {version}")
            self.machines[key] = self.older(self, name, version)
        return self.machines[key]

    def close(self) -> None:
        self.transport.close()
        self.db.dispose()
