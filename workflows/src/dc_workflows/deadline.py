"""Calendar-day deadlines in Belgian local time.

Five calendar days after a registration at 14:00 is 14:00 local time five days later, which is
119 or 121 hours when a DST change falls in between, not 120.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def add_calendar_days(instant: datetime, days: int, tz: ZoneInfo = BRUSSELS) -> datetime:
    """The UTC instant ``days`` calendar days after ``instant``, on the same local wall-clock time.

    A wall-clock time that does not exist on the target day (inside the spring-forward gap) is
    read with the offset in force before the gap, so it lands one hour later on the clock; an
    ambiguous one (the autumn repeat) is read as its first occurrence.
    """
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    local = instant.astimezone(tz)
    target = (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=tz, fold=0)
    return target.astimezone(UTC)
