"""services-mgmt's bulk activities for imports, on SQLite with a fake identity and a fake Temporal
client: known services by natural key; parties checked once per batch; lifecycles started with
ids from the import and the line, a bounded number at a time, never twice; a row whose natural
key another service holds is a duplicate of it."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment

from dc_common.db import Database
from dc_services import repository
from dc_services.bulk import BulkActivities, imported_service_id
from dc_services.domain import NaturalKey
from dc_services.identity_client import IdentityClient
from dc_services.service import claim_keys
from dc_workflows.contracts.common import Actor, ActorKind
from dc_workflows.contracts.imports import (
    ImportedService,
    KnownServicesQuery,
    RowFate,
    ServiceBatch,
)
from dc_workflows.contracts.lifecycle import LifecyclePolicy, RegisterService, Transition
from dc_workflows.rules import Lifecycle

COMPANY = "0712345630"
GENT, ANTWERPEN, ELSEWHERE = "2234567818", "2234567917", "2345678942"
WORKERS = {
    "980100000001": {"company_id": COMPANY, "branch_id": GENT},
    "980100000003": {"company_id": COMPANY, "branch_id": ANTWERPEN},
    "980200000001": {"company_id": "0823456754", "branch_id": ELSEWHERE},
}
USERS = {"100000000001", "100000000002"}
ACTOR = Actor(kind=ActorKind.COMPANY, id=COMPANY, person="91041205668")


class FakeTemporal:
    """Starts each workflow id once, as Temporal does with a reject-duplicate policy: a second
    start of an id (``already`` ones were started before, as after a crash) is refused."""

    def __init__(self, already: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.workflow_ids = {f"service-{service_id}" for service_id in already}
        self.started: list[RegisterService] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def start_workflow(
        self, _workflow: Any, request: RegisterService, **options: Any
    ) -> None:
        assert options["id"] == f"service-{request.service_id}"
        assert options["id_reuse_policy"] is WorkflowIDReusePolicy.REJECT_DUPLICATE
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0)  # let the others of the batch start meanwhile
        self.in_flight -= 1
        if options["id"] in self.workflow_ids:
            raise WorkflowAlreadyStartedError(options["id"], "ServiceLifecycle")
        self.workflow_ids.add(options["id"])
        self.started.append(request)

    def get_workflow_handle(self, workflow_id: str) -> "FakeHandle":
        return FakeHandle(workflow_id in self.workflow_ids)


class FakeHandle:
    def __init__(self, exists: bool) -> None:
        self._exists = exists

    async def describe(self) -> None:
        if not self._exists:
            raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


def identity(calls: Counter[str]) -> IdentityClient:
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        calls[path] += 1
        kind, key = path.split("/")[2:4]
        if kind == "companies" and key == COMPANY:
            branches = [{"establishment_unit_number": b, "name": b} for b in (GENT, ANTWERPEN)]
            return httpx.Response(
                200, json={"enterprise_number": COMPANY, "name": "Schelde", "branches": branches}
            )
        if kind == "workers" and key in WORKERS:
            worker = {"login": key, "first_name": "W", "last_name": "K", **WORKERS[key]}
            worker |= {"contract_start": "2016-01-01", "contract_end": None}
            return httpx.Response(200, json=worker)
        if kind == "users" and key in USERS:
            user = {"user_number": key, "name": "U", "email": "u@example.org", "language": "nl"}
            return httpx.Response(200, json=user)
        return httpx.Response(404, json={"title": "Not found"})

    return IdentityClient(
        "http://identity", token=SecretStr("test"), transport=httpx.MockTransport(answer)
    )


def service(line: int, **values: Any) -> ImportedService:
    fields: dict[str, Any] = {
        "worker_login": "980100000001",
        "user_number": "100000000001",
        "service_date": date(2024, 3, line % 28 + 1),
        "hours": 2,
        "activity_type": 1,
    }
    fields |= values
    key = (
        f"{fields['worker_login']}:{fields['user_number']}:{fields['service_date'].isoformat()}"
        f":{fields['activity_type']}:{fields['hours']}"
    )
    return ImportedService(line=line, natural_key=key, **fields)


async def test_known_services_are_the_holders_of_their_keys(db: Database) -> None:
    temporal = FakeTemporal()
    bulk = BulkActivities(db, identity(Counter()), LifecyclePolicy())
    batch = ServiceBatch(
        import_id="import-k",
        company_id=COMPANY,
        registered_by=ACTOR,
        services=(service(2, hours=4), service(3, hours=3, user_number="100000000002")),
    )
    await ActivityEnvironment(client=temporal).run(bulk.register_batch, batch)  # type: ignore[arg-type]
    first, second = (s.natural_key for s in batch.services)
    unknown = service(4, hours=1).natural_key

    known = await bulk.find_known_services(
        KnownServicesQuery(company_id=COMPANY, natural_keys=(first, second, unknown))
    )

    assert known.known == {
        first: imported_service_id("import-k", 2),
        second: imported_service_id("import-k", 3),
    }
    # Cancelled, the first gives its key back: a new service may take it.
    await _project_cancellation(db, temporal.started[0])
    after = await bulk.find_known_services(
        KnownServicesQuery(company_id=COMPANY, natural_keys=(first, second))
    )
    assert after.known == {second: imported_service_id("import-k", 3)}


async def test_a_row_whose_key_another_service_holds_is_a_duplicate_of_it(db: Database) -> None:
    temporal = FakeTemporal()
    row = service(2)
    # Registered meanwhile through the API (which the import's earlier look did not see).
    key = NaturalKey.parse(row.natural_key)
    assert await claim_keys(db, temporal, {"registered-by-api": key}) == {  # type: ignore[arg-type]
        "registered-by-api": "registered-by-api"
    }
    temporal.workflow_ids.add("service-registered-by-api")
    batch = ServiceBatch(
        import_id="import-d", company_id=COMPANY, registered_by=ACTOR, services=(row, service(3))
    )
    bulk = BulkActivities(db, identity(Counter()), LifecyclePolicy())

    outcome = await ActivityEnvironment(client=temporal).run(bulk.register_batch, batch)  # type: ignore[arg-type]

    duplicate, registered = outcome.rows
    assert (duplicate.line, duplicate.fate, duplicate.service_id) == (
        2,
        RowFate.DUPLICATE,
        "registered-by-api",
    )
    assert duplicate.errors[0].reason == "already registered as service registered-by-api"
    assert (registered.line, registered.fate) == (3, RowFate.REGISTERED)
    assert [r.service_id for r in temporal.started] == [imported_service_id("import-d", 3)]


async def test_a_key_left_by_a_registration_that_never_started_is_taken_over(
    db: Database,
) -> None:
    temporal = FakeTemporal()
    key = NaturalKey.parse(service(2).natural_key)
    async with db.transaction() as session:  # reserved two minutes ago, then the process died
        await repository.reserve_keys(
            session, {"never-started": key}, datetime.now(UTC) - timedelta(minutes=2)
        )

    holders = await claim_keys(db, temporal, {"the-next-one": key})  # type: ignore[arg-type]

    assert holders == {"the-next-one": "the-next-one"}
    fresh = NaturalKey.parse(service(3).natural_key)
    await claim_keys(db, temporal, {"just-reserved": fresh})  # type: ignore[arg-type]
    assert await claim_keys(db, temporal, {"too-early": fresh}) == {  # type: ignore[arg-type]
        "too-early": "just-reserved"
    }, "a reservation this young may be starting its workflow right now"


async def _project_cancellation(db: Database, request: RegisterService) -> None:
    now = datetime.now(UTC)
    life = Lifecycle.register(request, now)
    async with db.transaction() as session:
        await repository.project(session, life.state)
        life.cancel(Transition(actor=Actor(kind=ActorKind.COMPANY, id=COMPANY)), now)
        await repository.project(session, life.state)


async def test_a_batch_checks_parties_once_and_starts_each_service_once(db: Database) -> None:
    calls: Counter[str] = Counter()
    batch = ServiceBatch(
        import_id="import-1",
        company_id=COMPANY,
        registered_by=ACTOR,
        concurrency=4,
        services=(
            *(service(line) for line in range(2, 22)),
            service(22, worker_login="980100000003", branch_id=ANTWERPEN),
            service(23, worker_login="980100000099"),
            service(24, worker_login="980200000001"),
            service(25, user_number="100000000099"),
            service(26, branch_id=ELSEWHERE),
        ),
    )
    temporal = FakeTemporal(already={imported_service_id("import-1", 5)})
    bulk = BulkActivities(db, identity(calls), LifecyclePolicy(validation_window_days=7))

    outcome = await ActivityEnvironment(client=temporal).run(bulk.register_batch, batch)  # type: ignore[arg-type]

    fates = {row.line: row.fate for row in outcome.rows}
    assert [line for line, fate in fates.items() if fate is RowFate.REGISTERED] == list(
        range(2, 23)
    )
    reasons = {row.line: [(e.field, e.reason) for e in row.errors] for row in outcome.rows}
    assert reasons[23] == [("worker_login", "unknown worker")]
    assert reasons[24] == [("worker_login", f"not a worker of company {COMPANY}")]
    assert reasons[25] == [("user_number", "unknown user")]
    assert reasons[26] == [("branch_id", f"not a branch of company {COMPANY}")]
    registered = {row.line: row.service_id for row in outcome.rows if row.service_id}
    assert registered[5] == imported_service_id("import-1", 5), "already started: registered"
    assert len(temporal.started) == 20 and temporal.most_in_flight <= 4
    first = next(r for r in temporal.started if r.service_id == registered[2])
    assert (first.parties.branch_id, first.policy.validation_window_days) == (GENT, 7)
    assert first.registered_by == ACTOR
    assert max(calls.values()) == 1, "each company, worker and user asked once per batch"
    assert calls["/v1/workers/980100000001"] == 1

    again = await ActivityEnvironment(client=temporal).run(bulk.register_batch, batch)  # type: ignore[arg-type]
    assert again == outcome
    assert len(temporal.started) == 20, "a batch run again starts nothing twice"


async def test_an_import_for_a_branch_keeps_its_rows_in_that_branch(db: Database) -> None:
    batch = ServiceBatch(
        import_id="import-2",
        company_id=COMPANY,
        branch_id=GENT,
        registered_by=ACTOR,
        services=(
            service(2),
            service(3, worker_login="980100000003"),
            service(4, worker_login="980100000003", branch_id=ANTWERPEN),
        ),
    )
    temporal = FakeTemporal()
    bulk = BulkActivities(db, identity(Counter()), LifecyclePolicy())

    outcome = await ActivityEnvironment(client=temporal).run(bulk.register_batch, batch)  # type: ignore[arg-type]

    assert [(row.line, row.fate) for row in outcome.rows] == [
        (2, RowFate.REGISTERED),
        (3, RowFate.REGISTERED),
        (4, RowFate.REJECTED),
    ]
    assert outcome.rows[2].errors[0].reason == f"not the branch of this import ({GENT})"
    assert {r.parties.branch_id for r in temporal.started} == {GENT}
