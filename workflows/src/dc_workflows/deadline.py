"""Deadlines in Belgian local time: calendar days, or working days.

Five calendar days after a registration at 14:00 is 14:00 local time five days later, which is
119 or 121 hours when a DST change falls in between, not 120. Five working days skip Saturdays,
Sundays and Belgian public holidays (the ``holidays`` package's calendar for Belgium).
"""

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from holidays.countries.belgium import Belgium
from temporalio import workflow

BRUSSELS = ZoneInfo("Europe/Brussels")


def add_calendar_days(instant: datetime, days: int, tz: ZoneInfo = BRUSSELS) -> datetime:
    """The UTC instant ``days`` calendar days after ``instant``, on the same local wall-clock time.

    A wall-clock time that does not exist on the target day (inside the spring-forward gap) is
    read with the offset in force before the gap, so it lands one hour later on the clock; an
    ambiguous one (the autumn repeat) is read as its first occurrence.
    """
    local = _local(instant, tz)
    return _at_wall_clock(local, local.date() + timedelta(days=days), tz)


def add_working_days(instant: datetime, days: int, tz: ZoneInfo = BRUSSELS) -> datetime:
    """The UTC instant on the ``days``-th Belgian working day after the day of ``instant``, on
    the same local wall-clock time (a registration on a Saturday counts from Monday)."""
    local = _local(instant, tz)
    day = local.date()
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return _at_wall_clock(local, day, tz)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _belgian_holidays(day.year)


@cache
def _belgian_holidays(year: int) -> frozenset[date]:
    # The calendar reads the locale (for the holidays' names) as it is built: allowed in a
    # workflow, since the dates it gives do not depend on it.
    with workflow.unsafe.sandbox_unrestricted():
        return frozenset(Belgium(years=year))  # type: ignore[no-untyped-call]


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(tz)


def _at_wall_clock(local: datetime, day: date, tz: ZoneInfo) -> datetime:
    target = datetime.combine(day, local.time().replace(tzinfo=None)).replace(tzinfo=tz, fold=0)
    return target.astimezone(UTC)
