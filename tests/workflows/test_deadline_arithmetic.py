"""Five calendar days in Brussels local time: 119 or 121 hours across a DST change, not 120;
or five working days, which skip weekends and Belgian public holidays.

In 2026 Belgium springs forward on Sunday 29 March (02:00 CET -> 03:00 CEST) and falls back on
Sunday 25 October (03:00 CEST -> 02:00 CET).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dc_workflows.contracts.lifecycle import LifecyclePolicy, WindowUnit
from dc_workflows.deadline import BRUSSELS, add_calendar_days, add_working_days, is_working_day
from dc_workflows.rules import validation_deadline


def brussels(year: int, month: int, day: int, hour: int, minute: int, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


@pytest.mark.parametrize(
    ("registered", "deadline", "window_hours"),
    [
        pytest.param(
            brussels(2026, 6, 10, 10, 0), brussels(2026, 6, 15, 10, 0), 120, id="ordinary-week"
        ),
        pytest.param(
            brussels(2026, 3, 26, 10, 0), brussels(2026, 3, 31, 10, 0), 119, id="spring-forward"
        ),
        pytest.param(
            brussels(2026, 10, 22, 10, 0), brussels(2026, 10, 27, 10, 0), 121, id="fall-back"
        ),
        pytest.param(
            brussels(2026, 3, 24, 10, 0), brussels(2026, 3, 29, 10, 0), 119, id="ends-on-spring-day"
        ),
        pytest.param(
            brussels(2026, 10, 25, 10, 0),
            brussels(2026, 10, 30, 10, 0),
            120,
            id="starts-after-fall",
        ),
        # Late in the evening the local date is ahead of UTC's: the days are counted locally.
        pytest.param(
            brussels(2026, 3, 26, 23, 30), brussels(2026, 3, 31, 23, 30), 119, id="local-midnight"
        ),
        # Just before / just after the spring jump, on the day itself.
        pytest.param(
            brussels(2026, 3, 29, 1, 59), brussels(2026, 4, 3, 1, 59), 119, id="minute-before-gap"
        ),
        pytest.param(
            brussels(2026, 3, 29, 3, 0),
            brussels(2026, 4, 3, 3, 0),
            120,
            id="first-minute-after-gap",
        ),
        # The repeated hour on the autumn day: once in summer time, once in winter time.
        pytest.param(
            brussels(2026, 10, 25, 2, 30, fold=0),
            brussels(2026, 10, 30, 2, 30),
            121,
            id="repeated-hour-first-time",
        ),
        pytest.param(
            brussels(2026, 10, 25, 2, 30, fold=1),
            brussels(2026, 10, 30, 2, 30),
            120,
            id="repeated-hour-second-time",
        ),
    ],
)
def test_deadline_is_same_wall_clock_time_five_days_later(
    registered: datetime, deadline: datetime, window_hours: int
) -> None:
    result = add_calendar_days(registered, 5)
    assert result == deadline
    assert result.tzinfo is UTC
    assert hours(result - registered) == window_hours


def test_deadline_on_a_time_the_spring_day_skips_lands_an_hour_later_on_the_clock() -> None:
    # 02:30 does not exist on 29 March 2026: read with the winter offset it is 03:30 summer time.
    registered = brussels(2026, 3, 24, 2, 30)
    result = add_calendar_days(registered, 5)
    assert result == utc(2026, 3, 29, 1, 30)
    assert result.astimezone(BRUSSELS).strftime("%H:%M %Z") == "03:30 CEST"
    assert hours(result - registered) == 120


def test_deadline_on_the_gap_edges() -> None:
    # 02:00 (first skipped minute) and 03:00 (first real minute after) are the same instant.
    assert add_calendar_days(brussels(2026, 3, 24, 2, 0), 5) == utc(2026, 3, 29, 1, 0)
    assert add_calendar_days(brussels(2026, 3, 24, 3, 0), 5) == utc(2026, 3, 29, 1, 0)
    assert add_calendar_days(brussels(2026, 3, 24, 1, 59), 5) == utc(2026, 3, 29, 0, 59)


def test_deadline_on_the_repeated_autumn_hour_is_its_first_occurrence() -> None:
    registered = brussels(2026, 10, 20, 2, 30)
    result = add_calendar_days(registered, 5)
    assert result == utc(2026, 10, 25, 0, 30)
    assert result.astimezone(BRUSSELS).strftime("%H:%M %Z") == "02:30 CEST"
    assert hours(result - registered) == 120
    # The edges of the repeated hour.
    assert add_calendar_days(brussels(2026, 10, 20, 1, 59), 5) == utc(2026, 10, 24, 23, 59)
    assert add_calendar_days(brussels(2026, 10, 20, 3, 0), 5) == utc(2026, 10, 25, 2, 0)


def test_every_hour_of_a_year_gets_a_window_of_119_120_or_121_hours() -> None:
    start = utc(2026, 1, 1)
    windows: dict[float, int] = {}
    for hour in range(365 * 24):
        registered = start + timedelta(hours=hour)
        window = hours(add_calendar_days(registered, 5) - registered)
        windows[window] = windows.get(window, 0) + 1
        local = registered.astimezone(BRUSSELS)
        deadline = add_calendar_days(registered, 5).astimezone(BRUSSELS)
        assert deadline.date() - local.date() == timedelta(days=5)
    # The 5 x 24 registrations in the 5 days before each change see it; the one at 02:00 on
    # 24 March gets a deadline inside the skipped hour, moved to 03:00 summer time: 120 hours.
    assert windows == {119.0: 5 * 24 - 1, 121.0: 5 * 24, 120.0: 365 * 24 - 10 * 24 + 1}


def test_instants_in_any_zone_give_the_same_deadline() -> None:
    in_utc = utc(2026, 3, 26, 9, 0)
    in_brussels = in_utc.astimezone(BRUSSELS)
    assert add_calendar_days(in_utc, 5) == add_calendar_days(in_brussels, 5)
    assert add_calendar_days(in_utc, 5) == utc(2026, 3, 31, 8, 0)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_calendar_days(datetime(2026, 3, 26, 10, 0), 5)


# -- working days: Monday to Friday, not on a Belgian public holiday ------------------------------


@pytest.mark.parametrize(
    ("registered", "deadline"),
    [
        pytest.param(
            brussels(2026, 12, 1, 9, 30), brussels(2026, 12, 8, 9, 30), id="tuesday-over-a-weekend"
        ),
        pytest.param(
            brussels(2026, 12, 4, 14, 0), brussels(2026, 12, 11, 14, 0), id="friday-to-friday"
        ),
        pytest.param(
            brussels(2026, 12, 5, 14, 0), brussels(2026, 12, 11, 14, 0), id="saturday-from-monday"
        ),
        pytest.param(
            # Easter Monday 2027 is 29 March (and the clocks spring forward on the 28th).
            brussels(2027, 3, 25, 10, 0),
            brussels(2027, 4, 2, 10, 0),
            id="across-easter-monday",
        ),
        pytest.param(
            # Christmas (Fri 25 Dec 2026) and New Year's Day (Fri 1 Jan 2027).
            brussels(2026, 12, 24, 16, 0),
            brussels(2027, 1, 4, 16, 0),
            id="christmas-new-year",
        ),
        pytest.param(
            # Ascension (Thu 14 May 2026) and Whit Monday (25 May): only one in this window.
            brussels(2026, 5, 13, 8, 0),
            brussels(2026, 5, 21, 8, 0),
            id="ascension-thursday",
        ),
    ],
)
def test_five_working_days_skip_weekends_and_belgian_public_holidays(
    registered: datetime, deadline: datetime
) -> None:
    assert add_working_days(registered, 5) == deadline.astimezone(UTC)


def test_working_days_in_the_calendar_of_the_policy() -> None:
    registered = brussels(2027, 3, 25, 10, 0)
    calendar = LifecyclePolicy(validation_window_days=5)
    working = LifecyclePolicy(validation_window_days=5, window_unit=WindowUnit.WORKING)
    assert validation_deadline(registered, calendar) == brussels(2027, 3, 30, 10, 0)
    assert validation_deadline(registered, working) == brussels(2027, 4, 2, 10, 0)


def test_public_holidays_are_not_working_days() -> None:
    assert not is_working_day(datetime(2027, 3, 29).date())  # Easter Monday
    assert not is_working_day(datetime(2026, 7, 21).date())  # National Day
    assert not is_working_day(datetime(2026, 11, 11).date())  # Armistice
    assert not is_working_day(datetime(2026, 7, 11).date())  # a Saturday
    assert is_working_day(datetime(2026, 4, 3).date())  # Good Friday is no public holiday here
