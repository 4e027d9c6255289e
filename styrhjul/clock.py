"""The only source of time in Styrhjul.

Domain and service code never calls ``datetime.now``: it asks an injected :class:`Clock`.
Production wires :class:`SystemClock`; tests and ``--now`` use :class:`FixedClock`, which can
be stepped forward so that a whole school year is walked without sleeping. All instants are
timezone-aware; the administration's local zone is carried by the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Clock(Protocol):
    """Tells the time. ``tz`` is the administration's local zone."""

    tz: ZoneInfo

    def now(self) -> datetime:
        """The current instant, timezone-aware, in ``tz``."""
        ...

    def today(self) -> date:
        """The current local date in ``tz``."""
        ...


class SystemClock:
    """The wall clock of the machine."""

    def __init__(self, tz: ZoneInfo = STOCKHOLM) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(UTC).astimezone(self.tz)

    def today(self) -> date:
        return self.now().date()


def _normal(at: datetime, tz: ZoneInfo) -> datetime:
    """``at`` as a real instant in ``tz``, through UTC.

    ``astimezone`` into the zone a datetime already carries changes nothing, so a wall
    time that does not exist (02:30 on the last Sunday of March) would stay as given and
    compare wrongly with other times of the zone; the round trip makes it 03:30.
    """
    return at.astimezone(UTC).astimezone(tz)


class FixedClock:
    """A clock that stands still until told to move: for tests, trials and simulation."""

    def __init__(self, at: datetime, tz: ZoneInfo = STOCKHOLM) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=tz)
        self.tz = tz
        self._now = _normal(at, tz)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (never backward) and return the new instant."""
        if delta < timedelta(0):
            raise ValueError("a clock never goes backward")
        self._now = _normal(self._now + delta, self.tz)
        return self._now

    def set(self, at: datetime) -> None:
        """Jump to ``at``; it must not lie before the current instant."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.tz)
        if at < self._now:
            raise ValueError("a clock never goes backward")
        self._now = _normal(at, self.tz)


class ShiftedClock:
    """The wall clock, moved so that it started at ``at``: time flows from another moment.

    For a daemon run with ``--now``: a trial of the days ahead in real time, where a
    :class:`FixedClock` would stand still and nothing would ever fall due.
    """

    def __init__(self, at: datetime, tz: ZoneInfo = STOCKHOLM) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=tz)
        self.tz = tz
        self._offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        return (datetime.now(UTC) + self._offset).astimezone(self.tz)

    def today(self) -> date:
        return self.now().date()
