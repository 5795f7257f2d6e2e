"""The app's notion of now, injectable so tests can travel in time.

Timestamps are stored in UTC and shown in Asia/Shanghai (the station's wall clock).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

STATION_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where it is put; tests move it with advance()."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def local_date(moment: datetime) -> date:
    """The station's calendar date of a moment."""
    return moment.astimezone(STATION_TZ).date()


def local_text(moment: datetime) -> str:
    return moment.astimezone(STATION_TZ).strftime("%Y-%m-%d %H:%M")
