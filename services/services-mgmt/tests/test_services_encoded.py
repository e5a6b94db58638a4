"""What the company encoded for a worker waits for the worker's answer, the latest encoded
first: with more waiting than a page holds, the newest are the ones shown."""

from datetime import UTC, date, datetime, timedelta

from dc_common.db import Database
from dc_services import repository
from dc_workflows.contracts.common import Actor, ActorKind
from dc_workflows.contracts.lifecycle import (
    HistoryEntry,
    ServiceDetails,
    ServiceParties,
    ServiceState,
)
from dc_workflows.status import ServiceStatus as S

COMPANY, WORKER = "0712345630", "980100000003"
OFFICE = Actor(kind=ActorKind.COMPANY, id=COMPANY, name="the office")


def encoded(n: int, at: datetime, by: Actor = OFFICE) -> ServiceState:
    return ServiceState(
        service_id=f"00000000-0000-0000-0000-{n:012d}",
        version=1,
        status=S.ENCODED,
        parties=ServiceParties(company_id=COMPANY, worker_login=WORKER, user_number="100000000001"),
        details=ServiceDetails(
            service_date=date(2026, 1, 1) + timedelta(days=n), hours=2, activity_type=1
        ),
        registered_at=at,
        updated_at=at,
        validation_deadline=None,
        company_validated=False,
        user_confirmed=False,
        auto_validation_possible=True,
        history=(HistoryEntry(seq=1, at=at, event="registered", status=S.ENCODED, actor=by),),
    )


async def test_the_latest_encoded_come_first_and_the_worker_s_own_not_at_all(db: Database) -> None:
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    worker = Actor(kind=ActorKind.WORKER, id=WORKER, name="Marie")
    # Encoded in the order 1, 2, 3 but for service dates 3, 1, 2 days into January.
    states = [
        encoded(3, start),
        encoded(1, start + timedelta(hours=1)),
        encoded(2, start + timedelta(hours=2)),
        encoded(4, start + timedelta(hours=3), by=worker),
    ]
    for state in states:
        async with db.transaction() as session:
            await repository.project(session, state)
    async with db.sessions() as session:
        shown = await repository.encoded_for_worker(session, COMPANY, WORKER, limit=2)
    assert [service.id for service, _ in shown] == [states[2].service_id, states[1].service_id]
