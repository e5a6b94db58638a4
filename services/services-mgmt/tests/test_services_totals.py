"""The totals of a list's selection come from the totals the read model keeps beside the rows;
after random registrations, transitions, modifications, payments (each a projection of the
lifecycle's state, some repeated or out of order) and history loads (some twice), they equal a
plain count of the rows, for every kind of selection, on SQLite and PostgreSQL."""

import itertools
import random
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from dc_common.db import Database
from dc_services import repository
from dc_services.history_load import HistoryService, load_services
from dc_services.models import Service
from dc_workflows.contracts.common import Actor, ActorKind
from dc_workflows.contracts.lifecycle import (
    HistoryEntry,
    ServiceDetails,
    ServiceParties,
    ServiceState,
)
from dc_workflows.status import ServiceStatus as S

COMPANIES = {"0712345630": ("2234567818", "2234567917", None), "0823456754": ("2345678942",)}
WORKERS = ("980100000001", "980100000002", "980100000003")
USERS = ("100000000001", "100000000002", "100000000003")
STATUSES = (S.ENCODED, S.VALIDATED, S.CONFIRMED, S.MODIFIED, S.CANCELLED, S.READY_FOR_ALLOCATION)
PAID = (S.PARTIALLY_ALLOCATED_FIRST, S.ALLOCATED, S.REIMBURSED)
WORKER = Actor(kind=ActorKind.WORKER, id=WORKERS[0], name="a worker")
START = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # across the change to summer time in Brussels
#: Service dates from the end of February: modifications move some to another month (on
#: PostgreSQL, to another partition).
FIRST_DAY = date(2026, 2, 24)


def a_state(rng: random.Random, n: int) -> ServiceState:
    company = rng.choice(list(COMPANIES))
    registered_at = START + timedelta(hours=rng.randrange(0, 96))
    details = ServiceDetails(
        service_date=FIRST_DAY + timedelta(days=rng.randrange(0, 10)),
        hours=rng.randrange(1, 10),
        activity_type=rng.randrange(1, 5),
    )
    return ServiceState(
        service_id=str(uuid.UUID(int=n)),
        version=1,
        status=S.ENCODED,
        parties=ServiceParties(
            company_id=company,
            branch_id=rng.choice(COMPANIES[company]),
            worker_login=rng.choice(WORKERS),
            user_number=rng.choice(USERS),
        ),
        details=details,
        registered_at=registered_at,
        updated_at=registered_at,
        validation_deadline=None,
        company_validated=False,
        user_confirmed=False,
        auto_validation_possible=True,
        history=(
            HistoryEntry(
                seq=1, at=registered_at, event="registered", status=S.ENCODED, actor=WORKER
            ),
        ),
    )


def a_change(rng: random.Random, state: ServiceState) -> ServiceState:
    """The next version: a transition, a modification of the details, or a payment."""
    changes: dict[str, object] = {"version": state.version + 1}
    roll = rng.random()
    if roll < 0.4:
        changes["status"] = rng.choice(STATUSES)
    elif roll < 0.7:
        changes["status"] = S.MODIFIED
        changes["details"] = state.details.model_copy(
            update={
                "hours": rng.randrange(1, 10),
                "service_date": state.details.service_date - timedelta(days=rng.randrange(0, 3)),
                "activity_type": rng.randrange(1, 5),
            }
        )
    else:
        changes["status"] = rng.choice(PAID)
        changes["vouchers_allocated"] = state.details.hours
    entry = HistoryEntry(
        seq=state.version + 1,
        at=state.updated_at + timedelta(minutes=5),
        event="changed",
        status=changes["status"],
        actor=WORKER,
    )
    return state.model_copy(update={**changes, "history": (*state.history, entry)})


def a_settled_service(rng: random.Random) -> HistoryService:
    company = rng.choice(list(COMPANIES))
    return HistoryService(
        company_id=company,
        branch_id=rng.choice(COMPANIES[company]),
        worker_login=rng.choice(WORKERS),
        user_number=rng.choice(USERS),
        service_date=FIRST_DAY + timedelta(days=rng.randrange(0, 10)),
        hours=rng.randrange(1, 10),
        activity_type=rng.randrange(1, 5),
        status=rng.choice((S.REIMBURSED, S.CANCELLED)),
    )


def selections() -> list[repository.ServiceFilter]:
    """Every kind of selection the lists make: kept totals and counted ones alike."""
    found = [
        repository.ServiceFilter(),
        # service-date windows: whole months and edge days, open at either end
        repository.ServiceFilter(service_date_from=date(2026, 2, 10)),
        repository.ServiceFilter(service_date_to=date(2026, 2, 28)),
    ]
    for company, branches in COMPANIES.items():
        found += [
            repository.ServiceFilter(company_id=company),
            repository.ServiceFilter(
                company_id=company, branch_ids=tuple(b for b in branches if b)
            ),
            repository.ServiceFilter(company_id=company, status=int(S.MODIFIED)),
            repository.ServiceFilter(company_id=company, activity_type=2),
            repository.ServiceFilter(company_id=company, worker_login=WORKERS[1]),
            repository.ServiceFilter(company_id=company, user_number=USERS[2]),
            repository.ServiceFilter(
                company_id=company,
                registered_from=date(2026, 3, 29),
                registered_to=date(2026, 3, 30),
            ),
            repository.ServiceFilter(
                company_id=company,
                service_date_from=date(2026, 2, 27),
                service_date_to=date(2026, 3, 2),
                status=int(S.ENCODED),
            ),
            repository.ServiceFilter(company_id=company, service_date_from=date(2026, 2, 1)),
            repository.ServiceFilter(
                company_id=company,
                service_date_from=date(2026, 2, 26),
                service_date_to=date(2026, 3, 31),
            ),
            repository.ServiceFilter(
                company_id=company,
                branch_ids=branches[:1],
                service_date_from=date(2026, 1, 20),
                service_date_to=date(2026, 3, 3),
            ),
            repository.ServiceFilter(
                company_id=company,
                service_date_from=date(2026, 2, 25),
                registered_to=date(2026, 3, 30),
            ),
        ]
    return found


async def counted(db: Database, selection: repository.ServiceFilter) -> tuple[int, int]:
    async with db.sessions() as session:
        query = select(func.count(), func.coalesce(func.sum(Service.hours), 0))
        return tuple((await session.execute(query.where(*selection.conditions()))).one())  # type: ignore[arg-type, return-value]


async def test_kept_totals_equal_a_plain_count(db: Database) -> None:
    rng = random.Random(20261203)
    states = [a_state(rng, n) for n in range(60)]
    serial = itertools.count()
    for _ in range(4):
        projections: list[ServiceState] = []
        for i, state in enumerate(states):
            projections.append(state)
            if rng.random() < 0.7:
                states[i] = a_change(rng, state)
                projections.append(states[i])
        rng.shuffle(projections)  # late and repeated projections change nothing
        for state in projections + projections[: len(projections) // 3]:
            async with db.transaction() as session:
                await repository.project(session, state)
        settled = [a_settled_service(rng) for _ in range(15 + next(serial))]
        await load_services(db, settled + settled[:5], batch_size=7)  # loaded again: no-ops

        for selection in selections():
            async with db.sessions() as session:
                kept = await repository.selection_totals(session, selection)
                by_status = await repository.totals_by(session, selection, "status")
            assert kept == await counted(db, selection), selection
            assert sum(t.services for t in by_status) == kept[0]
            for totals in by_status:
                one_status = repository.ServiceFilter(
                    **{**selection.__dict__, "status": int(totals.key)}
                )
                assert (totals.services, totals.hours) == await counted(db, one_status)


async def test_a_large_history_load_keeps_its_totals_in_more_than_one_statement(
    db: Database,
) -> None:
    """5,000 services that each make their own row of totals: more values than one statement
    may carry."""
    rng = random.Random(5000)
    settled = [
        HistoryService(
            company_id="0712345630",
            worker_login=WORKERS[n % 3],
            user_number=f"1{n:011d}",
            service_date=date(2020, 1, 1) + timedelta(days=n),
            hours=rng.randrange(1, 10),
            activity_type=1,
        )
        for n in range(5000)
    ]
    await load_services(db, settled, batch_size=5000)
    selection = repository.ServiceFilter(company_id="0712345630")
    async with db.sessions() as session:
        kept = await repository.selection_totals(session, selection)
    assert kept == await counted(db, selection) == (5000, sum(s.hours for s in settled))
