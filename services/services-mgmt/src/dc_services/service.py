"""What a caller can do with services. Every change goes through the service's lifecycle workflow;
reads come from the projection. The caller's identity is an explicit parameter everywhere.

The duplicate rule is decided here, for every channel: a service is registered only once its
natural key is reserved for it (:func:`claim_keys`), atomically in this service's database.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dc_common.db import Database
from dc_common.problems import Problem, field_error
from dc_services import repository
from dc_services.domain import ListPosition, NaturalKey
from dc_services.identity_client import IdentityClient, IdentityUnavailable
from dc_services.models import (
    InboxItem,
    Service,
    ServiceHistory,
    ServiceView,
    WorkerAnswer,
    WorkerCustomer,
)
from dc_services.schemas import CustomerIn, ModificationIn, ServiceIn, WorkerAnswerIn
from dc_services.settings import ServicesSettings
from dc_workflows.contracts.common import Actor, ActorKind, TaskQueue
from dc_workflows.contracts.lifecycle import (
    DUPLICATE_SERVICE,
    DetailChanges,
    Modification,
    RegisterService,
    ServiceDetails,
    ServiceParties,
    ServiceState,
    Transition,
)
from dc_workflows.ids import service_workflow_id
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.status import ServiceStatus

_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c3c52-7e4b-4a8e-9d0a-2f4d1f3c5b10")
#: A key reserved longer ago than this by a service that has no workflow was left behind by a
#: registration that stopped between reserving and starting: another service may take it.
ORPHANED_AFTER = timedelta(minutes=1)
#: Rows read at a time by an export.
EXPORT_BATCH = 2000


def duplicate_of(holder: str, detail: str | None = None) -> Problem:
    """409: the service would be a duplicate of ``holder`` (its id in ``duplicate_of``)."""
    return Problem(
        409,
        "Duplicate service",
        detail or f"already registered as service {holder}",
        errors=[{"field": "service", "reason": f"duplicate of service {holder}"}],
        extensions={"duplicate_of": holder},
    )


async def claim_keys(
    db: Database, temporal: Client, keys: Mapping[str, NaturalKey]
) -> dict[str, str]:
    """Reserve the natural key of each service about to be registered: service id -> the
    service holding its key (itself, or the one it duplicates). A key left behind by a
    registration that never started its workflow is taken over."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        # A retried batch may name a service registered and cancelled since: its key stays free.
        cancelled = await repository.cancelled_among(session, keys)
        fresh = {sid: key for sid, key in keys.items() if sid not in cancelled}
        holders = await repository.reserve_keys(session, fresh, now)
    holders.update({service_id: service_id for service_id in cancelled})
    for service_id, holder in list(holders.items()):
        if holder != service_id and await _orphaned(db, temporal, keys[service_id], holder, now):
            async with db.transaction() as session:
                taken = await repository.take_over_key(
                    session, keys[service_id], orphan_of=holder, service_id=service_id, now=now
                )
            if taken:
                holders[service_id] = service_id
    return holders


async def _orphaned(
    db: Database, temporal: Client, key: NaturalKey, holder: str, now: datetime
) -> bool:
    async with db.sessions() as session:
        reservation = await repository.reservation_of(session, key)
        projected = await repository.get(session, holder)
    if reservation is None or reservation.service_id != holder or projected is not None:
        return False
    if now - reservation.reserved_at < ORPHANED_AFTER:
        return False  # its workflow may be starting right now
    try:
        await temporal.get_workflow_handle(service_workflow_id(holder)).describe()
    except RPCError as error:
        return error.status == RPCStatusCode.NOT_FOUND
    return False


#: The parties' transitions, by the name the API gives them.
Action = Literal["validate", "confirm", "contest", "cancel"]
_TRANSITIONS = {
    "validate": ServiceLifecycleWorkflow.validate,
    "confirm": ServiceLifecycleWorkflow.confirm,
    "contest": ServiceLifecycleWorkflow.contest,
    "cancel": ServiceLifecycleWorkflow.cancel,
}


@dataclass(frozen=True)
class Registration:
    state: ServiceState
    created: bool


class ServiceDesk:
    def __init__(
        self,
        *,
        temporal: Client,
        db: Database,
        identity: IdentityClient,
        settings: ServicesSettings,
    ) -> None:
        self._temporal = temporal
        self._db = db
        self._identity = identity
        self._policy = settings.lifecycle_policy()

    # -- commands ---------------------------------------------------------------------------

    async def register(
        self, caller: Actor, service: ServiceIn, *, idempotency_key: str | None = None
    ) -> Registration:
        """Register once: the same idempotency key answers the first registration, whatever
        its status now; a duplicate of a service that is not cancelled is a 409 naming it."""
        parties = await self._check_parties(service)
        if idempotency_key is None:
            service_id = str(uuid.uuid4())
        else:
            service_id = str(
                uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{service.company_id}:{idempotency_key}")
            )
            if existing := await self._registered_before(service_id):
                return Registration(state=existing, created=False)
        details = ServiceDetails(
            service_date=service.service_date,
            hours=service.hours,
            activity_type=service.activity_type,
        )
        holder = (
            await claim_keys(
                self._db, self._temporal, {service_id: NaturalKey.of(parties, details)}
            )
        )[service_id]
        if holder != service_id:
            raise duplicate_of(holder)
        request = RegisterService(
            service_id=service_id,
            parties=parties,
            details=details,
            registered_by=caller,
            policy=self._policy,
            local_activities=True,
        )
        # One call starts the lifecycle and waits for its first projection (read-your-writes).
        start = WithStartWorkflowOperation(
            ServiceLifecycleWorkflow.run,
            request,
            id=service_workflow_id(service_id),
            task_queue=TaskQueue.SERVICE_LIFECYCLE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
        try:
            state = await self._temporal.execute_update_with_start_workflow(
                ServiceLifecycleWorkflow.registered, start_workflow_operation=start
            )
        except WorkflowAlreadyStartedError:
            # The same idempotency key at the same moment: the other call started it.
            existing = await self._handle(service_id).query(ServiceLifecycleWorkflow.state)
            return Registration(state=existing, created=False)
        except BaseException:
            await self._release_unless_started(service_id)
            raise
        return Registration(state=state, created=True)

    async def _release_unless_started(self, service_id: str) -> None:
        """The start failed: give the key back if the workflow surely does not exist (when
        Temporal cannot tell, the key stays until it counts as orphaned)."""
        try:
            await self._handle(service_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                async with self._db.transaction() as session:
                    await repository.release_key(session, service_id)
        except Exception:
            return

    async def _registered_before(self, service_id: str) -> ServiceState | None:
        try:
            return await self._handle(service_id).query(ServiceLifecycleWorkflow.state)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    async def transition(
        self, action: Action, caller: Actor, service_id: str, reason: str | None
    ) -> ServiceState:
        """A party validates, confirms, contests or cancels the service."""
        return await self._update(
            service_id, _TRANSITIONS[action], Transition(actor=caller, reason=reason)
        )

    async def modify(self, caller: Actor, service_id: str, change: ModificationIn) -> ServiceState:
        """Only the fields named change; the workflow applies them to its own state, so two
        modifications at once both count."""
        fields = change.model_dump(exclude_unset=True, exclude={"reason"}, exclude_none=True)
        if not fields:
            raise field_error("body", "name at least one of service_date, hours, activity_type")
        return await self._update(
            service_id,
            ServiceLifecycleWorkflow.modify,
            Modification(actor=caller, reason=change.reason, changes=DetailChanges(**fields)),
        )

    # -- queries ----------------------------------------------------------------------------

    async def get(self, service_id: str) -> Service:
        async with self._db.sessions() as session:
            service = await repository.get(session, service_id)
        if service is None:
            raise Problem(404, "Service not found", f"no service {service_id}")
        return service

    async def get_with_history(self, service_id: str) -> tuple[Service, list[ServiceHistory]]:
        async with self._db.sessions() as session:
            service = await repository.get(session, service_id)
            if service is None:
                raise Problem(404, "Service not found", f"no service {service_id}")
            return service, await repository.history(session, service_id)

    async def history(self, service_id: str) -> list[ServiceHistory]:
        async with self._db.sessions() as session:
            return await repository.history(session, service_id)

    async def search(
        self,
        selection: repository.ServiceFilter,
        *,
        page: int,
        page_size: int,
        oldest_first: bool = False,
        after: ListPosition | None = None,
        before: ListPosition | None = None,
    ) -> repository.Page:
        """A page by number, or after (before) a position; not both positions."""
        if after is not None and before is not None:
            raise field_error("before", "ask with after or with before, not both")
        async with self._db.sessions() as session:
            return await repository.list_services(
                session,
                selection,
                offset=(page - 1) * page_size,
                limit=page_size,
                oldest_first=oldest_first,
                after=after,
                before=before,
            )

    async def export(
        self, selection: repository.ServiceFilter, *, oldest_first: bool
    ) -> AsyncIterator[list[Service]]:
        """The whole selection, in batches, for a streamed export."""
        async with self._db.sessions() as session:
            batches = repository.export_batches(
                session, selection, oldest_first=oldest_first, batch=EXPORT_BATCH
            )
            async for rows in batches:
                yield rows

    async def totals_by(
        self, selection: repository.ServiceFilter, by: Literal["status", "worker_login"]
    ) -> list[repository.Totals]:
        async with self._db.sessions() as session:
            return await repository.totals_by(session, selection, by)

    async def inbox(
        self, company_id: str, *, branch_ids: tuple[str, ...] = (), limit: int
    ) -> list[InboxItem]:
        async with self._db.sessions() as session:
            return await repository.inbox(session, company_id, branch_ids=branch_ids, limit=limit)

    # -- who looked at a household's services ---------------------------------------------------

    async def record_view(self, viewer: Actor, service_id: str) -> None:
        """``viewer`` (not the household) was shown the service."""
        async with self._db.transaction() as session:
            service = await repository.get(session, service_id)
            if service is None:
                raise Problem(404, "Service not found", f"no service {service_id}")
            await repository.record_view(session, service, viewer, datetime.now(UTC))

    async def views_of_user(
        self, user_number: str, *, limit: int, before_id: int | None
    ) -> list[ServiceView]:
        async with self._db.sessions() as session:
            return await repository.views_of_user(
                session, user_number, limit=limit, before_id=before_id
            )

    # -- the worker's side (the Jobtracker app) -------------------------------------------------

    async def customers(self, company_id: str, login: str) -> list[WorkerCustomer]:
        async with self._db.sessions() as session:
            return await repository.customers_of(session, company_id, login)

    async def save_customer(
        self, company_id: str, login: str, user_number: str, customer: CustomerIn
    ) -> WorkerCustomer:
        """Keep a customer of the worker for the company: a user the platform knows."""
        try:
            user = await self._identity.user(user_number)
        except IdentityUnavailable as error:
            raise Problem(503, "Identity service unavailable", str(error)) from error
        if user is None:
            raise field_error("user_number", "unknown user")
        row = {
            "company_id": company_id,
            "worker_login": login,
            "user_number": user_number,
            **customer.model_dump(),
            "updated_at": datetime.now(UTC),
        }
        async with self._db.transaction() as session:
            await repository.save_customer(session, row)
        return WorkerCustomer(**row)

    async def encoded_for(
        self, company_id: str, login: str, *, limit: int
    ) -> list[tuple[Service, WorkerAnswer | None]]:
        async with self._db.sessions() as session:
            return await repository.encoded_for_worker(session, company_id, login, limit=limit)

    async def worker_answer(self, service_id: str) -> WorkerAnswer | None:
        async with self._db.sessions() as session:
            return await repository.answer_of(session, service_id)

    async def answer_as_worker(
        self, caller: Actor, service_id: str, answer: WorkerAnswerIn
    ) -> WorkerAnswer:
        """The worker confirms a service the company encoded for them, or asks to correct it
        (with the reason the company reads)."""
        if answer.answer == "correction" and not (answer.reason or "").strip():
            raise field_error("reason", "say what to correct")
        service = await self.get(service_id)
        if caller.kind is not ActorKind.WORKER or service.worker_login != caller.id:
            raise Problem(404, "Service not found", f"no service {service_id} of yours")
        async with self._db.transaction() as session:
            if not await repository.was_encoded_by_others(session, service_id):
                raise Problem(409, "Nothing to answer", "you registered this service yourself")
            if service.status not in repository.AWAITING_AGREEMENT:
                status = ServiceStatus(service.status)
                raise Problem(409, "Nothing to answer", f"the service is {status.label}")
            row = {
                "service_id": service_id,
                "worker_login": caller.id,
                "answer": answer.answer,
                "reason": answer.reason if answer.answer == "correction" else None,
                "at": datetime.now(UTC),
            }
            await repository.save_answer(session, row)
        return WorkerAnswer(**row)

    # -- helpers ----------------------------------------------------------------------------

    async def _check_parties(self, service: ServiceIn) -> ServiceParties:
        try:
            company, worker, user = await asyncio.gather(
                self._identity.company(service.company_id),
                self._identity.worker(service.worker_login),
                self._identity.user(service.user_number),
            )
        except IdentityUnavailable as error:
            raise Problem(503, "Identity service unavailable", str(error)) from error
        if company is None:
            raise field_error("company_id", "unknown company")
        if worker is None:
            raise field_error("worker_login", "unknown worker")
        employment = worker.employment_at(service.company_id)
        if employment is None:
            raise field_error("worker_login", f"not a worker of company {service.company_id}")
        branch_id = service.branch_id or employment.branch_id
        branches = {branch.establishment_unit_number for branch in company.branches}
        if branch_id is not None and branch_id not in branches:
            raise field_error("branch_id", f"not a branch of company {service.company_id}")
        if user is None:
            raise field_error("user_number", "unknown user")
        return ServiceParties(
            company_id=service.company_id,
            branch_id=branch_id,
            worker_login=service.worker_login,
            user_number=service.user_number,
            voucher=service.voucher,
        )

    def _handle(self, service_id: str) -> WorkflowHandle[ServiceLifecycleWorkflow, ServiceState]:
        return self._temporal.get_workflow_handle_for(
            ServiceLifecycleWorkflow.run, service_workflow_id(service_id)
        )

    async def _update(self, service_id: str, update: object, argument: Transition) -> ServiceState:
        service = await self.get(service_id)
        try:
            return await self._handle(service_id).execute_update(update, argument)  # type: ignore[call-overload,no-any-return]
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == "TransitionRejected":
                raise Problem(409, "Transition rejected", cause.message) from error
            if isinstance(cause, ApplicationError) and cause.type == DUPLICATE_SERVICE:
                raise duplicate_of(str(cause.details[0]), cause.message) from error
            raise
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise Problem(
                    409, "Transition rejected", f"the service is closed (status {service.status})"
                ) from error
            raise
