"""Bulk activities of services-mgmt for imports, on its task queue (TaskQueue.SERVICES_MGMT).

- ``services.find_known_services``: which natural keys (worker, user, date, activity, hours) a
  service already holds, so an import reports them as duplicates instead of registering them
  again;
- ``services.register_batch``: checks the parties of a chunk's services in bulk (each company,
  worker and user asked of identity once per batch), reserves their natural keys (a row whose key
  another service took meanwhile, through the API or another file, is a duplicate of it) and
  starts a ServiceLifecycleWorkflow for each valid one, a bounded number at a time, with a service
  id derived from the import and the line: started again after a crash, a service is found
  already started, never started twice. It does not wait for the projection: the lifecycle
  writes the read model itself.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.common import Priority, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from dc_common.db import Database
from dc_services import repository
from dc_services.domain import NaturalKey
from dc_services.identity_client import (
    CompanyRecord,
    IdentityClient,
    IdentityUnavailable,
    UserRecord,
    WorkerRecord,
)
from dc_services.service import claim_keys
from dc_services.settings import ServicesSettings
from dc_workflows.contracts.common import FieldProblem, TaskQueue
from dc_workflows.contracts.imports import (
    BatchOutcome,
    ImportActivity,
    ImportedService,
    KnownServices,
    KnownServicesQuery,
    RowFate,
    RowOutcome,
    ServiceBatch,
)
from dc_workflows.contracts.lifecycle import (
    LifecyclePolicy,
    RegisterService,
    ServiceDetails,
    ServiceParties,
)
from dc_workflows.heartbeat import heartbeating
from dc_workflows.ids import service_workflow_id
from dc_workflows.lifecycle import ServiceLifecycleWorkflow

log = structlog.get_logger(__name__)

IMPORT_NAMESPACE = uuid.UUID("0c8f6f0e-3c57-4b1e-9a43-6d2f51a7e9b4")
#: Lifecycles started by an import (and their activities) yield to those registered one by one
#: by people, where the server orders tasks by priority (1 first, 3 by default).
IMPORTED_PRIORITY = Priority(priority_key=4)
_LOOKUPS_AT_ONCE = 32


def imported_service_id(import_id: str, line: int) -> str:
    """The id of the service registered from one line of one import: the same every time."""
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{import_id}:{line}"))


class _Directory:
    """Identity lookups for one batch: each company, worker and user asked once."""

    def __init__(self, identity: IdentityClient) -> None:
        self._identity = identity
        self._limit = asyncio.Semaphore(_LOOKUPS_AT_ONCE)
        self.workers: dict[str, WorkerRecord | None] = {}
        self.users: dict[str, UserRecord | None] = {}

    async def load(self, logins: Iterable[str], users: Iterable[str]) -> None:
        async def worker(login: str) -> None:
            async with self._limit:
                self.workers[login] = await self._identity.worker(login)

        async def user(number: str) -> None:
            async with self._limit:
                self.users[number] = await self._identity.user(number)

        await asyncio.gather(
            *(worker(login) for login in set(logins)), *(user(n) for n in set(users))
        )

    async def company(self, company_id: str) -> CompanyRecord | None:
        return await self._identity.company(company_id)


class BulkActivities:
    def __init__(self, db: Database, identity: IdentityClient, policy: LifecyclePolicy) -> None:
        self._db = db
        self._identity = identity
        self._policy = policy

    @activity.defn(name=ImportActivity.FIND_KNOWN_SERVICES)
    async def find_known_services(self, query: KnownServicesQuery) -> KnownServices:
        """The services holding these natural keys (a cancelled one holds none)."""
        wanted = [NaturalKey.parse(key) for key in query.natural_keys]
        async with heartbeating(), self._db.sessions() as session:
            holders = await repository.key_holders(session, wanted)
        return KnownServices(known={key.text(): holder for key, holder in holders.items()})

    @activity.defn(name=ImportActivity.REGISTER_BATCH)
    async def register_batch(self, batch: ServiceBatch) -> BatchOutcome:
        """Check the parties of each service and start the lifecycle of the valid ones."""
        client = activity.client()
        began = time.perf_counter()
        async with heartbeating():
            directory = _Directory(self._identity)
            try:
                company = await directory.company(batch.company_id)
                await directory.load(
                    (s.worker_login for s in batch.services),
                    (s.user_number for s in batch.services),
                )
            except IdentityUnavailable as error:
                raise ApplicationError(str(error), type="IdentityUnavailable") from error
            outcomes: dict[int, RowOutcome] = {}
            to_start: list[RegisterService] = []
            for service in batch.services:
                checked = _check(batch, service, company, directory)
                if isinstance(checked, RowOutcome):
                    outcomes[service.line] = checked
                    continue
                to_start.append(
                    RegisterService(
                        service_id=imported_service_id(batch.import_id, service.line),
                        parties=checked,
                        details=ServiceDetails(
                            service_date=service.service_date,
                            hours=service.hours,
                            activity_type=service.activity_type,
                        ),
                        registered_by=batch.registered_by,
                        policy=self._policy,
                        local_activities=True,
                    )
                )
            lines = {imported_service_id(batch.import_id, s.line): s.line for s in batch.services}
            holders = await claim_keys(
                self._db,
                client,
                {r.service_id: NaturalKey.of(r.parties, r.details) for r in to_start},
            )
            for request in to_start:
                holder = holders[request.service_id]
                if holder != request.service_id:
                    outcomes[lines[request.service_id]] = _duplicate(
                        lines[request.service_id], holder
                    )
            to_start = [r for r in to_start if holders[r.service_id] == r.service_id]
            checked_at = time.perf_counter()
            started = await _start_all(client, to_start, batch.concurrency)
            for request, _newly in started:
                outcomes[lines[request.service_id]] = RowOutcome(
                    line=lines[request.service_id],
                    fate=RowFate.REGISTERED,
                    service_id=request.service_id,
                )
        log.info(
            "import batch registered",
            import_id=batch.import_id,
            services=len(batch.services),
            started=sum(1 for _, newly in started if newly),
            already_started=sum(1 for _, newly in started if not newly),
            not_started=len(batch.services) - len(started),
            check_seconds=round(checked_at - began, 3),
            start_seconds=round(time.perf_counter() - checked_at, 3),
        )
        return BatchOutcome(rows=tuple(outcomes[line] for line in sorted(outcomes)))

    @property
    def all(self) -> list[Callable[..., Awaitable[object]]]:
        return [self.find_known_services, self.register_batch]


def _duplicate(line: int, holder: str) -> RowOutcome:
    return RowOutcome(
        line=line,
        fate=RowFate.DUPLICATE,
        service_id=holder,
        errors=(FieldProblem(field="row", reason=f"already registered as service {holder}"),),
    )


def _check(
    batch: ServiceBatch,
    service: ImportedService,
    company: CompanyRecord | None,
    directory: _Directory,
) -> ServiceParties | RowOutcome:
    """The parties of one service, or every reason they cannot be (as the API checks them)."""
    problems: list[FieldProblem] = []
    if company is None:
        problems.append(FieldProblem(field="company_id", reason="unknown company"))
    worker = directory.workers.get(service.worker_login)
    employment = worker.employment_at(batch.company_id) if worker else None
    if worker is None:
        problems.append(FieldProblem(field="worker_login", reason="unknown worker"))
    elif employment is None:
        problems.append(
            FieldProblem(field="worker_login", reason=f"not a worker of company {batch.company_id}")
        )
    worker_branch = employment.branch_id if employment else None
    branch_id = service.branch_id or batch.branch_id or worker_branch
    branches = {b.establishment_unit_number for b in company.branches} if company else set()
    if company is not None and branch_id is not None and branch_id not in branches:
        problems.append(
            FieldProblem(field="branch_id", reason=f"not a branch of company {batch.company_id}")
        )
    elif batch.branch_id is not None and branch_id != batch.branch_id:
        problems.append(
            FieldProblem(
                field="branch_id", reason=f"not the branch of this import ({batch.branch_id})"
            )
        )
    if directory.users.get(service.user_number) is None:
        problems.append(FieldProblem(field="user_number", reason="unknown user"))
    if problems:
        return RowOutcome(line=service.line, fate=RowFate.REJECTED, errors=tuple(problems))
    return ServiceParties(
        company_id=batch.company_id,
        branch_id=branch_id,
        worker_login=service.worker_login,
        user_number=service.user_number,
    )


async def _start_all(
    client: Client, requests: list[RegisterService], concurrency: int
) -> list[tuple[RegisterService, bool]]:
    """Start every lifecycle, ``concurrency`` at a time: (request, newly started)."""
    limit = asyncio.Semaphore(concurrency)

    async def start(request: RegisterService) -> tuple[RegisterService, bool]:
        async with limit:
            try:
                await client.start_workflow(
                    ServiceLifecycleWorkflow.run,
                    request,
                    id=service_workflow_id(request.service_id),
                    task_queue=TaskQueue.SERVICE_LIFECYCLE,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    priority=IMPORTED_PRIORITY,
                )
            except WorkflowAlreadyStartedError:
                return request, False
            return request, True

    return list(await asyncio.gather(*(start(request) for request in requests)))


@asynccontextmanager
async def bulk_activities(settings: ServicesSettings) -> AsyncIterator[BulkActivities]:
    """The bulk activities with their own database engine and identity client."""
    db = Database(settings.database_url)
    await repository.prepare(db)
    identity = IdentityClient(settings.identity_url, token=settings.internal_token)
    try:
        yield BulkActivities(
            db,
            identity,
            settings.lifecycle_policy(),
        )
    finally:
        await identity.aclose()
        await db.dispose()
