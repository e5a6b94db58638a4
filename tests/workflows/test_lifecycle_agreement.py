"""Company and user agree on a service by hand, in either order (simultaneous validation)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.lifecycle import (
    DUPLICATE_SERVICE,
    DetailChanges,
    HistoryEntry,
    VoucherKind,
)
from dc_workflows.status import ServiceStatus as S
from tests.support.waiting import eventually
from tests.workflows.lifecycle_harness import (
    COMPANY,
    DETAILS,
    PARTIES,
    USER,
    WORKER,
    ServicesMgmtFake,
    StartService,
    WalletFake,
    cancel,
    confirm,
    modify,
    natural_key,
    now,
    state_of,
    update_events,
    validate,
    without_history,
)


def entry(
    history: tuple[HistoryEntry, ...], seq: int
) -> tuple[int, str, int, str, str, str | None]:
    """The parts of a history entry a reader checks: seq, event, status, who, what id, why."""
    e = history[seq - 1]
    return (e.seq, e.event, e.status, e.actor.kind, e.actor.id, e.reason)


async def test_company_validates_then_user_confirms(
    env: WorkflowEnvironment,
    fake: ServicesMgmtFake,
    wallet: WalletFake,
    start_service: StartService,
) -> None:
    service = await start_service()
    assert (await state_of(service)).status == S.ENCODED

    before_validation = await now(env)
    validated = await validate(service, reason="matches the worker's schedule")
    after_validation = await now(env)
    assert validated.status == S.VALIDATED
    assert (validated.company_validated, validated.user_confirmed) == (True, False)

    confirmed = await confirm(service, reason="the helper came on Friday")
    assert confirmed.status == S.READY_FOR_ALLOCATION
    assert (confirmed.company_validated, confirmed.user_confirmed) == (True, True)
    assert without_history(await state_of(service)) == confirmed
    # Agreed by hand: the automatic path is gone (the read model shows no pending deadline).
    assert validated.validation_deadline is not None
    assert (confirmed.auto_validation_possible, confirmed.validation_deadline) == (False, None)

    history = (await state_of(service)).history
    assert [entry(history, seq) for seq in (1, 2, 3)] == [
        (1, "registered", S.ENCODED, "worker", WORKER.id, None),
        (
            2,
            "validated",
            S.VALIDATED,
            "company",
            COMPANY.id,
            "matches the worker's schedule",
        ),
        (3, "confirmed", S.READY_FOR_ALLOCATION, "user", USER.id, "the helper came on Friday"),
    ]
    assert before_validation <= history[1].at <= after_validation
    assert history[0].at == confirmed.registered_at
    assert history[0].at <= history[1].at <= history[2].at == confirmed.updated_at
    assert history[0].details == DETAILS

    assert fake.projected_versions(service.id) == [1, 2, 3]
    assert fake.projected_statuses(service.id) == [S.ENCODED, S.VALIDATED, S.READY_FOR_ALLOCATION]
    assert without_history(fake.projected[service.id][-1]) == confirmed
    assert [request.version for request in fake.validation_requests[service.id]] == [1]

    # Ready for voucher allocation: the user's wallet is asked once to pay it.
    async def claimed() -> bool:
        return bool(wallet.claims[service.id])

    await eventually(claimed, within=5)
    [claim] = wallet.claims[service.id]
    assert (claim.user_number, claim.company_id, claim.hours) == (USER.id, COMPANY.id, 3)
    assert claim.ready_at == confirmed.updated_at
    assert await update_events(service) == [
        ("accepted", "registered"),
        ("accepted", "validate"),
        ("accepted", "confirm"),
    ]


async def test_a_service_paid_with_paper_vouchers_is_not_claimed_from_the_wallet(
    wallet: WalletFake, start_service: StartService
) -> None:
    """Agreed on, a paper-voucher service stays ready (11): the company hands the paper in
    itself, so the wallet is never asked, and the company may still cancel it there."""
    service = await start_service(parties=PARTIES.model_copy(update={"voucher": VoucherKind.PAPER}))
    await validate(service)
    assert (await confirm(service)).status == S.READY_FOR_ALLOCATION
    assert (await cancel(service, reason="the paper was not handed in")).status == S.CANCELLED
    await service.result()
    assert wallet.claims[service.id] == []


async def test_user_confirms_then_company_validates(
    env: WorkflowEnvironment, fake: ServicesMgmtFake, start_service: StartService
) -> None:
    service = await start_service()

    confirmed = await confirm(service)
    assert confirmed.status == S.CONFIRMED
    assert (confirmed.company_validated, confirmed.user_confirmed) == (False, True)

    before_validation = await now(env)
    validated = await validate(service, reason="matches the timesheet")
    assert validated.status == S.READY_FOR_ALLOCATION

    history = (await state_of(service)).history
    assert [entry(history, seq) for seq in (1, 2, 3)] == [
        (1, "registered", S.ENCODED, "worker", WORKER.id, None),
        (2, "confirmed", S.CONFIRMED, "user", USER.id, None),
        (
            3,
            "validated",
            S.READY_FOR_ALLOCATION,
            "company",
            COMPANY.id,
            "matches the timesheet",
        ),
    ]
    assert before_validation <= history[2].at <= await now(env)

    assert fake.projected_statuses(service.id) == [S.ENCODED, S.CONFIRMED, S.READY_FOR_ALLOCATION]
    assert fake.projected_versions(service.id) == [1, 2, 3]
    # Each projection carries the entries not projected before: each entry once.
    assert [state.history for state in fake.projected[service.id]] == [
        history[0:1],
        history[1:2],
        history[2:3],
    ]


async def test_a_modification_asks_the_user_to_confirm_again(
    fake: ServicesMgmtFake, start_service: StartService
) -> None:
    service = await start_service()
    assert (await confirm(service)).status == S.CONFIRMED

    corrected = DETAILS.model_copy(update={"hours": 4})
    modified = await modify(
        service, DetailChanges(hours=4), reason="the helper stayed one more hour"
    )
    assert modified.status == S.MODIFIED
    assert modified.details == corrected
    assert (modified.company_validated, modified.user_confirmed) == (False, False)
    assert modified.auto_validation_possible is False
    assert modified.validation_deadline is None
    assert (await state_of(service)).history[-1].details == corrected
    asked = fake.validation_requests[service.id]

    async def asked_again() -> bool:
        return len(asked) == 2

    await eventually(asked_again)
    assert [(r.version, r.details, r.modified) for r in asked] == [
        (1, DETAILS, False),
        (3, corrected, True),
    ], "asked again about the corrected service"

    # The earlier confirmation no longer counts: validating waits for the user again.
    validated = await validate(service)
    assert validated.status == S.VALIDATED

    ready = await confirm(service, reason="yes, four hours")
    assert ready.status == S.READY_FOR_ALLOCATION
    assert ready.details == corrected

    assert [e.event for e in (await state_of(service)).history] == [
        "registered",
        "confirmed",
        "modified",
        "validated",
        "confirmed",
    ]
    assert [e.actor for e in (await state_of(service)).history] == [
        WORKER,
        USER,
        COMPANY,
        COMPANY,
        USER,
    ]
    assert fake.projected_statuses(service.id) == [
        S.ENCODED,
        S.CONFIRMED,
        S.MODIFIED,
        S.VALIDATED,
        S.READY_FOR_ALLOCATION,
    ]
    assert fake.projected_versions(service.id) == [1, 2, 3, 4, 5]
    # The read model learns the corrected hours with the modification, not before.
    assert [state.details.hours for state in fake.projected[service.id]] == [3, 3, 4, 4, 4]


async def test_modifications_at_the_same_time_each_change_their_own_field(
    fake: ServicesMgmtFake, start_service: StartService
) -> None:
    # The first modification waits in its projection while the second arrives: on the queue
    # of ordinary activities, where the workflow hears the second while the first's runs.
    service = await start_service(task_queue=TaskQueue.LIFECYCLE)
    release = fake.hold_projection(service.id, version=2)
    first = asyncio.create_task(modify(service, DetailChanges(hours=5)))
    second = asyncio.create_task(modify(service, DetailChanges(activity_type=3)))
    await asyncio.sleep(0)  # let both reach the workflow
    release.set()
    await asyncio.gather(first, second)

    state = await state_of(service)
    assert (state.details.hours, state.details.activity_type) == (5, 3)
    assert state.details.service_date == DETAILS.service_date
    assert [e.event for e in state.history] == ["registered", "modified", "modified"]


async def test_a_modification_that_makes_a_duplicate_is_refused_and_changes_nothing(
    fake: ServicesMgmtFake, start_service: StartService
) -> None:
    details = DETAILS.model_copy(update={"service_date": date(2017, 1, 2)})  # this test's own
    service = await start_service(details=details)
    other = "the-service-already-registered-for-two-hours"
    fake.keys_taken[natural_key(PARTIES, details.model_copy(update={"hours": 2}))] = other

    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await modify(service, DetailChanges(hours=2))

    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.details) == (DUPLICATE_SERVICE, (other,))
    assert other in cause.message
    state = await state_of(service)
    assert (state.status, state.details, state.version) == (S.ENCODED, details, 1)
    assert fake.projected_versions(service.id) == [1]
    [move] = fake.key_moves[service.id]
    assert move.details.hours == 2
