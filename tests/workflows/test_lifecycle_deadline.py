"""The automatic validation after 5 calendar days (or, by policy, 5 working days), its reminder,
and what removes it for good.

These tests use the real policy (LifecyclePolicy defaults: 5 calendar days, reminder 24 hours
before) and skip the test server's clock forward instead of shortening the window.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dateutil.easter import easter
from temporalio.testing import WorkflowEnvironment

from dc_workflows import deadline
from dc_workflows.contracts.common import SYSTEM
from dc_workflows.contracts.lifecycle import (
    DetailChanges,
    LifecyclePolicy,
    ServiceState,
    WindowUnit,
)
from dc_workflows.deadline import BRUSSELS, add_calendar_days
from dc_workflows.ids import service_workflow_id
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.status import ServiceStatus as S
from tests.workflows.lifecycle_harness import (
    DETAILS,
    PARTIES,
    ServicesMgmtFake,
    StartService,
    WalletFake,
    confirm,
    contest,
    modify,
    now,
    rejection,
    skip_time,
    sleep_until,
    state_of,
    validate,
    without_history,
)

WINDOW_DAYS = LifecyclePolicy().validation_window_days
REMINDER_LEAD = timedelta(hours=LifecyclePolicy().reminder_lead_hours)


def test_the_policy_under_test_is_the_real_one() -> None:
    assert (5, timedelta(hours=24)) == (WINDOW_DAYS, REMINDER_LEAD)


async def test_deadline_is_five_calendar_days_in_brussels(start_service: StartService) -> None:
    state = await state_of(await start_service())

    assert state.validation_deadline == add_calendar_days(state.registered_at, WINDOW_DAYS)
    registered = state.registered_at.astimezone(BRUSSELS)
    deadline = state.validation_deadline.astimezone(BRUSSELS)
    assert deadline.date() - registered.date() == timedelta(days=5)
    assert deadline.time() == registered.time()


async def test_automatic_validation_exactly_at_the_deadline(
    env: WorkflowEnvironment,
    fake: ServicesMgmtFake,
    wallet: WalletFake,
    start_service: StartService,
) -> None:
    service = await start_service()
    deadline = (await state_of(service)).validation_deadline
    assert deadline is not None

    await sleep_until(env, deadline - timedelta(minutes=1))
    waiting = await state_of(service)
    assert waiting.status == S.ENCODED
    assert waiting.auto_validation_possible
    assert fake.projected_statuses(service.id) == [S.ENCODED]

    await sleep_until(env, deadline + timedelta(seconds=1))
    ready = await state_of(service)
    assert ready.status == S.READY_FOR_ALLOCATION
    assert (ready.company_validated, ready.user_confirmed) == (True, True)
    auto = ready.history[-1]
    assert (auto.seq, auto.event, auto.status, auto.actor) == (
        2,
        "auto-validated",
        S.READY_FOR_ALLOCATION,
        SYSTEM,
    )
    assert auto.reason == "no reaction within the validation window"
    assert deadline <= auto.at < deadline + timedelta(seconds=1)
    assert fake.projected_statuses(service.id) == [S.ENCODED, S.READY_FOR_ALLOCATION]
    assert without_history(fake.projected[service.id][-1]) == without_history(ready)
    # Auto-validated services are paid like the others: the wallet was asked once.
    assert [claim.ready_at for claim in wallet.claims[service.id]] == [auto.at]


async def test_one_reminder_a_day_before_the_deadline(
    env: WorkflowEnvironment, fake: ServicesMgmtFake, start_service: StartService
) -> None:
    service = await start_service()
    deadline = (await state_of(service)).validation_deadline
    assert deadline is not None
    reminder_at = deadline - REMINDER_LEAD

    await sleep_until(env, reminder_at - timedelta(minutes=1))
    assert fake.reminders[service.id] == []

    await sleep_until(env, reminder_at + timedelta(seconds=1))
    [reminder] = fake.reminders[service.id]
    assert reminder.version == 1
    assert reminder.validation_deadline == deadline
    assert (reminder.parties, reminder.details) == (PARTIES, DETAILS)

    await sleep_until(env, deadline + timedelta(days=3))
    assert (await state_of(service)).status == S.READY_FOR_ALLOCATION
    assert len(fake.reminders[service.id]) == 1
    assert len(fake.validation_requests[service.id]) == 1


async def test_a_confirmation_alone_keeps_the_automatic_validation(
    env: WorkflowEnvironment, start_service: StartService
) -> None:
    service = await start_service()
    confirmed = await confirm(service)
    assert confirmed.status == S.CONFIRMED
    assert confirmed.validation_deadline is not None

    await sleep_until(env, confirmed.validation_deadline + timedelta(seconds=1))
    state = await state_of(service)
    assert state.status == S.READY_FOR_ALLOCATION
    assert [e.event for e in state.history] == ["registered", "confirmed", "auto-validated"]


async def test_a_modification_removes_the_automatic_validation_for_good(
    env: WorkflowEnvironment, fake: ServicesMgmtFake, start_service: StartService
) -> None:
    service = await start_service()
    modified = await modify(service, DetailChanges(hours=2))
    assert modified.status == S.MODIFIED
    assert (modified.auto_validation_possible, modified.validation_deadline) == (False, None)

    await skip_time(env, timedelta(days=10))
    state = await state_of(service)
    assert state.status == S.MODIFIED
    assert state.version == modified.version
    assert fake.reminders[service.id] == []

    await validate(service)
    assert (await confirm(service)).status == S.READY_FOR_ALLOCATION
    assert fake.projected_statuses(service.id) == [
        S.ENCODED,
        S.MODIFIED,
        S.VALIDATED,
        S.READY_FOR_ALLOCATION,
    ]


async def test_a_contest_goes_back_to_the_company_then_both_agree_by_hand(
    env: WorkflowEnvironment, fake: ServicesMgmtFake, start_service: StartService
) -> None:
    service = await start_service()
    contested = await contest(service, reason="the helper left after two hours")
    assert contested.status == S.CONTESTED
    assert (contested.auto_validation_possible, contested.validation_deadline) == (False, None)

    await skip_time(env, timedelta(days=10))
    assert (await state_of(service)).status == S.CONTESTED
    assert fake.reminders[service.id] == []

    # The company must correct the service before anyone can agree to it.
    assert await rejection(validate(service)) == "the user contested this service: modify it first"
    assert (
        await rejection(confirm(service))
        == "the user contested this service: it waits for the company"
    )

    corrected = await modify(service, DetailChanges(hours=2), reason="2 hours")
    assert corrected.status == S.MODIFIED
    assert (await confirm(service)).status == S.CONFIRMED
    ready = await validate(service)
    assert ready.status == S.READY_FOR_ALLOCATION
    assert ready.details.hours == 2

    assert [(e.event, e.reason) for e in (await state_of(service)).history] == [
        ("registered", None),
        ("contested", "the helper left after two hours"),
        ("modified", "2 hours"),
        ("confirmed", None),
        ("validated", None),
    ]
    assert fake.projected_statuses(service.id) == [
        S.ENCODED,
        S.CONTESTED,
        S.MODIFIED,
        S.CONFIRMED,
        S.READY_FOR_ALLOCATION,
    ]


# -- the window counted in working days (policy) ---------------------------------------------------

WORKING_DAYS = LifecyclePolicy(window_unit=WindowUnit.WORKING)


def _next(weekday: int, after: date, *, before_easter_monday: bool = False) -> date:
    """The first such weekday after ``after`` (the Thursday before Easter Monday, if asked)."""
    day = after + timedelta(days=1)
    while day.weekday() != weekday or (
        before_easter_monday and easter(day.year) + timedelta(days=1) != day + timedelta(days=4)
    ):
        day += timedelta(days=1)
    return day


async def _registered_on(
    env: WorkflowEnvironment, start_service: StartService, day: date
) -> ServiceState:
    # The Belgian calendar is then built inside the workflow's sandbox, not found made already.
    deadline._belgian_holidays.cache_clear()
    await sleep_until(env, datetime.combine(day, time(10, 0), tzinfo=BRUSSELS))
    return await state_of(await start_service(policy=WORKING_DAYS))


async def test_working_days_skip_the_weekend(
    env: WorkflowEnvironment, start_service: StartService
) -> None:
    today = (await now(env)).astimezone(BRUSSELS).date()
    friday = _next(4, today)
    state = await _registered_on(env, start_service, friday)

    registered = state.registered_at.astimezone(BRUSSELS)
    assert state.validation_deadline is not None
    deadline = state.validation_deadline.astimezone(BRUSSELS)
    assert deadline.date() == friday + timedelta(days=7), "Mon to Fri after the weekend"
    assert deadline.time() == registered.time()

    await sleep_until(env, state.validation_deadline - timedelta(minutes=1))
    assert (await state_of_id(env, state)).status == S.ENCODED
    await sleep_until(env, state.validation_deadline + timedelta(seconds=1))
    assert (await state_of_id(env, state)).status == S.READY_FOR_ALLOCATION


async def test_working_days_skip_easter_monday(
    env: WorkflowEnvironment, start_service: StartService
) -> None:
    today = (await now(env)).astimezone(BRUSSELS).date()
    thursday = _next(3, today, before_easter_monday=True)
    state = await _registered_on(env, start_service, thursday)

    assert state.validation_deadline is not None
    deadline = state.validation_deadline.astimezone(BRUSSELS)
    # Fri (1), the weekend, Easter Monday, then Tue, Wed, Thu (4) and Fri (5) a week later.
    assert deadline.date() == thursday + timedelta(days=8)
    assert deadline.time() == state.registered_at.astimezone(BRUSSELS).time()

    await sleep_until(env, state.validation_deadline - timedelta(minutes=1))
    assert (await state_of_id(env, state)).status == S.ENCODED
    await sleep_until(env, state.validation_deadline + timedelta(seconds=1))
    ready = await state_of_id(env, state)
    assert ready.status == S.READY_FOR_ALLOCATION
    assert ready.history[-1].event == "auto-validated"


async def state_of_id(env: WorkflowEnvironment, state: ServiceState) -> ServiceState:
    return await state_of(
        env.client.get_workflow_handle_for(
            ServiceLifecycleWorkflow.run, service_workflow_id(state.service_id)
        )
    )
