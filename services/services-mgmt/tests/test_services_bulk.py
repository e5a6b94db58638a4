"""services-mgmt's bulk activities for imports, on SQLite with a fake identity and a fake Temporal
client: known services by natural key; parties checked once per batch; lifecycles started with
ids from the import and the line, a bounded number at a time, never twice."""

import asyncio
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.testing import ActivityEnvironment

from dc_common.db import Database, create_schema
from dc_services.bulk import BulkActivities, imported_service_id
from dc_services.identity_client import IdentityClient
from dc_services.models import Base, Service
from dc_workflows.contracts.common import Actor, ActorKind
from dc_workflows.contracts.imports import (
    ImportedService,
    KnownServicesQuery,
    RowFate,
    ServiceBatch,
)
from dc_workflows.contracts.lifecycle import LifecyclePolicy, RegisterService

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
    """Records the lifecycles started; one id is already started, as after a crash."""

    def __init__(self, already: set[str]) -> None:
        self.already = already
        self.started: list[RegisterService] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def start_workflow(
        self, _workflow: Any, request: RegisterService, **options: Any
    ) -> None:
        assert options["id"] == f"service-{request.service_id}"
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        if request.service_id in self.already:
            raise WorkflowAlreadyStartedError(options["id"], "ServiceLifecycle")
        self.started.append(request)


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'services.db'}")
    await create_schema(database.engine, Base.metadata)
    yield database
    await database.dispose()


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


async def test_known_services_by_natural_key(db: Database) -> None:
    now = datetime.now(UTC)
    rows = [
        ("s-1", COMPANY, 1, "980100000001", "100000000001", date(2024, 3, 5), 4),
        ("s-2", COMPANY, 5, "980100000001", "100000000002", date(2024, 3, 5), 4),  # cancelled
        ("s-3", "0823456754", 1, "980100000001", "100000000001", date(2024, 3, 6), 4),
        ("s-4", COMPANY, 2, "980100000003", "100000000001", date(2024, 3, 6), 3),
    ]
    async with db.transaction() as session:
        for service_id, company, status, login, user, day, hours in rows:
            session.add(
                Service(
                    id=service_id,
                    version=1,
                    status=status,
                    company_id=company,
                    branch_id=None,
                    worker_login=login,
                    user_number=user,
                    service_date=day,
                    hours=hours,
                    activity_type=1,
                    registered_at=now,
                    updated_at=now,
                    validation_deadline=None,
                    company_validated=False,
                    user_confirmed=False,
                    auto_validation_possible=True,
                )
            )
    bulk = BulkActivities(db, identity(Counter()), LifecyclePolicy())
    keys = (
        "980100000001:100000000001:2024-03-05:1:4",
        "980100000001:100000000002:2024-03-05:1:4",
        "980100000001:100000000001:2024-03-06:1:4",
        "980100000003:100000000001:2024-03-06:1:3",
        "980100000003:100000000001:2024-03-06:1:2",
    )

    known = await bulk.find_known_services(
        KnownServicesQuery(company_id=COMPANY, natural_keys=keys)
    )

    assert known.known == {keys[0]: "s-1", keys[3]: "s-4"}


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
    temporal = FakeTemporal(already=set())
    bulk = BulkActivities(db, identity(Counter()), LifecyclePolicy())

    outcome = await ActivityEnvironment(client=temporal).run(bulk.register_batch, batch)  # type: ignore[arg-type]

    assert [(row.line, row.fate) for row in outcome.rows] == [
        (2, RowFate.REGISTERED),
        (3, RowFate.REGISTERED),
        (4, RowFate.REJECTED),
    ]
    assert outcome.rows[2].errors[0].reason == f"not the branch of this import ({GENT})"
    assert {r.parties.branch_id for r in temporal.started} == {GENT}
