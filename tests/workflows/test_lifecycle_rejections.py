"""Transitions the status does not allow are refused with a clear reason and leave no trace:
no change of state, no projection, and no update event in the workflow history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from temporalio.client import WorkflowUpdateStage
from temporalio.service import RPCError, RPCStatusCode

from dc_workflows.contracts.common import Actor, ActorKind, TaskQueue
from dc_workflows.contracts.lifecycle import DetailChanges, ServiceState, Transition
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.status import ServiceStatus as S
from tests.workflows.lifecycle_harness import (
    COMPANY,
    DETAILS,
    OTHER_COMPANY,
    USER,
    WORKER,
    Handle,
    ServicesMgmtFake,
    StartService,
    cancel,
    confirm,
    contest,
    modify,
    rejection,
    state_of,
    update_events,
    validate,
    without_history,
)

Step = Callable[[Handle], Awaitable[ServiceState]]
OTHER_USER = Actor(kind=ActorKind.USER, id="100000000099")
TWO_HOURS = DetailChanges(hours=2)

REJECTED = [
    pytest.param(
        [validate],
        lambda s: validate(s),
        "the company already validated this service",
        id="validating-twice",
    ),
    pytest.param(
        [validate, confirm],
        lambda s: modify(s, TWO_HOURS),
        "cannot modify a service that is ready for voucher allocation",
        id="modifying-when-ready-for-allocation",
    ),
    pytest.param(
        [],
        lambda s: validate(s, actor=USER),
        "only the company of this service may validate it",
        id="user-validating",
    ),
    pytest.param(
        [],
        lambda s: validate(s, actor=OTHER_COMPANY),
        "only the company of this service may validate it",
        id="other-company-validating",
    ),
    pytest.param(
        [],
        lambda s: modify(s, DetailChanges(hours=DETAILS.hours)),
        "the modification changes nothing",
        id="modification-changing-nothing",
    ),
    pytest.param(
        [],
        lambda s: contest(s, reason=None),
        "a contest needs a reason for the company",
        id="contest-without-reason",
    ),
    pytest.param(
        [],
        lambda s: contest(s, reason=""),
        "a contest needs a reason for the company",
        id="contest-with-empty-reason",
    ),
    pytest.param(
        [confirm],
        lambda s: confirm(s),
        "the user already confirmed this service",
        id="confirming-twice",
    ),
    pytest.param(
        [confirm],
        lambda s: contest(s, reason="changed my mind"),
        "the user already confirmed this service",
        id="contest-after-confirming",
    ),
    pytest.param(
        [],
        lambda s: confirm(s, actor=OTHER_USER),
        "only the user of this service may confirm it",
        id="other-user-confirming",
    ),
    pytest.param(
        [],
        lambda s: cancel(s, actor=WORKER),
        "only the company of this service may cancel it",
        id="worker-cancelling",
    ),
]


@pytest.mark.parametrize(("accepted", "refused", "reason"), REJECTED)
async def test_a_refused_transition_leaves_no_trace(
    fake: ServicesMgmtFake,
    start_service: StartService,
    accepted: list[Step],
    refused: Step,
    reason: str,
) -> None:
    service = await start_service()
    for step in accepted:
        await step(service)
    before = await state_of(service)

    assert await rejection(refused(service)) == reason

    assert await state_of(service) == before
    assert fake.projected_versions(service.id) == list(range(1, before.version + 1))
    # Only the accepted updates are in the history; the refused one is neither accepted there
    # nor recorded as rejected.
    assert await update_events(service) == [
        ("accepted", name) for name in ["registered", *(step.__name__ for step in accepted)]
    ]


async def test_confirming_while_the_cancellation_is_recorded_is_refused(
    fake: ServicesMgmtFake, start_service: StartService
) -> None:
    # On the queue of ordinary activities, where the workflow hears the confirmation while the
    # cancellation's projection runs (a local projection holds the workflow task until it ends).
    service = await start_service(task_queue=TaskQueue.LIFECYCLE)
    release = fake.hold_projection(service.id, version=2)
    cancelling = await service.start_update(
        ServiceLifecycleWorkflow.cancel,
        Transition(actor=COMPANY, reason="registered twice"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    assert (await state_of(service)).status == S.CANCELLED

    assert await rejection(confirm(service)) == "cannot confirm a service that is cancelled"

    release.set()
    cancelled = await cancelling.result()
    assert cancelled.status == S.CANCELLED
    assert await service.result() == cancelled
    assert await update_events(service) == [("accepted", "registered"), ("accepted", "cancel")]


async def test_a_cancelled_service_is_closed_and_refuses_confirmation(
    fake: ServicesMgmtFake, start_service: StartService
) -> None:
    service = await start_service()
    cancelled = await cancel(service, reason="registered twice")
    assert cancelled.status == S.CANCELLED
    assert (await state_of(service)).history[-1].reason == "registered twice"
    # Cancelling ends the workflow: there is nothing left to confirm.
    assert await service.result() == cancelled

    with pytest.raises(RPCError) as refused:
        await confirm(service)
    assert refused.value.status == RPCStatusCode.NOT_FOUND

    assert without_history(await state_of(service)) == cancelled
    assert fake.projected_statuses(service.id) == [S.ENCODED, S.CANCELLED]
    assert await update_events(service) == [("accepted", "registered"), ("accepted", "cancel")]
