"""Reads and writes of the services-mgmt database. Writes are idempotent."""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    Select,
    Subquery,
    delete,
    func,
    inspect,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from dc_common.db import (
    Database,
    MonthPartitions,
    first_of_month,
    month_shifted,
    upsert,
    upsert_for,
)
from dc_common.migrations import migrate
from dc_services.domain import ListPosition, NaturalKey
from dc_services.models import (
    MIGRATIONS,
    EntryTotal,
    InboxItem,
    MonthTotal,
    OutboxMessage,
    Service,
    ServiceHistory,
    ServiceKey,
    ServiceTotal,
    ServiceView,
    WorkerAnswer,
    WorkerCustomer,
)
from dc_workflows.contracts.common import Actor
from dc_workflows.contracts.lifecycle import ServiceState
from dc_workflows.contracts.payments import ProjectedPayment
from dc_workflows.deadline import BRUSSELS
from dc_workflows.status import ServiceStatus

_KEYS_PER_QUERY = 500

#: The partitions of the services table, by month of the service date (PostgreSQL).
SERVICE_MONTHS = MonthPartitions(Service.__tablename__)
#: Made at start-up: the months a registration of today falls in most (the sliding window of
#: 13 months back) and the next three; any other month is made before its first row.
MONTHS_BACK, MONTHS_AHEAD = 13, 3


async def prepare(db: Database) -> None:
    """Create what is missing. A key table new to a read model that already holds services is
    filled from it (the oldest registration of each key holds it)."""
    async with db.engine.connect() as connection:
        had_keys, had_totals = await connection.run_sync(
            lambda sync: (
                inspect(sync).has_table(ServiceKey.__tablename__),
                all(
                    inspect(sync).has_table(table.__tablename__)
                    for table in (ServiceTotal, EntryTotal, MonthTotal)
                ),
            )
        )
    await migrate(db.engine, MIGRATIONS)
    today = datetime.now(BRUSSELS).date()
    months = [month_shifted(today, n) for n in range(-MONTHS_BACK, MONTHS_AHEAD + 1)]
    await SERVICE_MONTHS.ensure(db.engine, months)
    if not had_keys:
        async with db.transaction() as session:
            await _backfill_keys(session)
    if not had_totals:
        await _backfill_totals(db)


async def _backfill_keys(session: AsyncSession) -> None:
    columns = ("worker_login", "user_number", "service_date", "activity_type", "hours")
    held = (
        select(*(getattr(Service, c) for c in columns), Service.id, Service.registered_at)
        .where(Service.status != int(ServiceStatus.CANCELLED))
        .order_by(Service.registered_at, Service.id)
    )
    statement = upsert(session, ServiceKey).from_select(
        [*columns, "service_id", "reserved_at"], held
    )
    await session.execute(statement.on_conflict_do_nothing())


# -- the natural keys: one holder each ---------------------------------------------------------


async def reserve_keys(
    session: AsyncSession, keys: Mapping[str, NaturalKey], now: datetime
) -> dict[str, str]:
    """Reserve each service's key where no other service holds it: service id -> the holder
    (itself, or the service it duplicates). Reserving again is harmless."""
    if not keys:
        return {}
    rows = [{**key.columns(), "service_id": sid, "reserved_at": now} for sid, key in keys.items()]
    await session.execute(upsert(session, ServiceKey).values(rows).on_conflict_do_nothing())
    holders = await key_holders(session, keys.values())
    # A service that already holds a key keeps it (a line of an import never changes its key).
    return {service_id: holders.get(key, service_id) for service_id, key in keys.items()}


async def cancelled_among(session: AsyncSession, service_ids: Iterable[str]) -> set[str]:
    rows = await session.scalars(
        select(Service.id).where(
            Service.id.in_(sorted(set(service_ids))),
            Service.status == int(ServiceStatus.CANCELLED),
        )
    )
    return set(rows)


async def key_holders(session: AsyncSession, keys: Iterable[NaturalKey]) -> dict[NaturalKey, str]:
    """The service holding each of these keys, where one does."""
    wanted = set(keys)
    ordered = sorted(wanted, key=lambda k: (k.worker_login, k.service_date))
    found: dict[NaturalKey, str] = {}
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        part = ordered[start : start + _KEYS_PER_QUERY]
        pairs = sorted({(k.worker_login, k.service_date) for k in part})
        rows = await session.execute(
            select(
                ServiceKey.worker_login,
                ServiceKey.user_number,
                ServiceKey.service_date,
                ServiceKey.activity_type,
                ServiceKey.hours,
                ServiceKey.service_id,
            ).where(tuple_(ServiceKey.worker_login, ServiceKey.service_date).in_(pairs))
        )
        for login, user, day, activity_type, hours, service_id in rows:
            key = NaturalKey(login, user, day, activity_type, hours)
            if key in wanted:
                found[key] = service_id
    return found


async def reservation_of(session: AsyncSession, key: NaturalKey) -> ServiceKey | None:
    return await session.get(
        ServiceKey,
        (key.worker_login, key.user_number, key.service_date, key.activity_type, key.hours),
    )


async def take_over_key(
    session: AsyncSession, key: NaturalKey, *, orphan_of: str, service_id: str, now: datetime
) -> bool:
    """Hand a key reserved by a service that never started to another; False when its holder
    changed meanwhile."""
    result = await session.execute(
        update(ServiceKey)
        .where(*_key_is(key), ServiceKey.service_id == orphan_of)
        .values(service_id=service_id, reserved_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def move_key(session: AsyncSession, service_id: str, key: NaturalKey, now: datetime) -> str:
    """The service's reservation moves to ``key``: the holder of ``key`` afterwards (itself, or
    the service that already held it, when the move is refused and nothing changes)."""
    try:
        async with session.begin_nested():
            moved = await session.execute(
                update(ServiceKey)
                .where(ServiceKey.service_id == service_id)
                .values(**key.columns(), reserved_at=now)
            )
    except IntegrityError:
        holders = await key_holders(session, [key])
        return holders[key]
    if not moved.rowcount:  # type: ignore[attr-defined]
        return (await reserve_keys(session, {service_id: key}, now))[service_id]
    return service_id


async def release_key(session: AsyncSession, service_id: str) -> None:
    await session.execute(delete(ServiceKey).where(ServiceKey.service_id == service_id))


def _key_is(key: NaturalKey) -> list[ColumnElement[bool]]:
    return [
        ServiceKey.worker_login == key.worker_login,
        ServiceKey.user_number == key.user_number,
        ServiceKey.service_date == key.service_date,
        ServiceKey.activity_type == key.activity_type,
        ServiceKey.hours == key.hours,
    ]


# -- the projection ---------------------------------------------------------------------------


async def project(session: AsyncSession, state: ServiceState) -> bool:
    """Write a lifecycle state; an older or repeated version changes nothing. True if written.
    The state carries the history entries not projected before (all of them from workflows
    that began before they were sent once); an entry already here is kept as it is. A cancelled
    service gives its natural key back."""
    row = {
        "id": state.service_id,
        "version": state.version,
        "status": int(state.status),
        "company_id": state.parties.company_id,
        "branch_id": state.parties.branch_id,
        "worker_login": state.parties.worker_login,
        "user_number": state.parties.user_number,
        "service_date": state.details.service_date,
        "hours": state.details.hours,
        "activity_type": state.details.activity_type,
        "registered_at": state.registered_at,
        "updated_at": state.updated_at,
        "validation_deadline": state.validation_deadline,
        "company_validated": state.company_validated,
        "user_confirmed": state.user_confirmed,
        "auto_validation_possible": state.auto_validation_possible,
        "vouchers_allocated": state.vouchers_allocated,
        "vouchers_submitted": state.vouchers_submitted,
        "vouchers_reimbursed": state.vouchers_reimbursed,
        "voucher": state.parties.voucher.value,
    }
    await SERVICE_MONTHS.ensure(_engine_of(session), [state.details.service_date])
    before = await session.scalar(
        select(Service).where(Service.id == state.service_id).with_for_update()
    )
    if before is None:
        statement: Any = upsert(session, Service).values(row).on_conflict_do_nothing()
    else:
        # An update, not an upsert on the key: a new service date may move the row to the
        # partition of another month.
        statement = (
            update(Service)
            .where(Service.id == state.service_id, Service.version < state.version)
            .values(row)
            .execution_options(synchronize_session=False)
        )
    result = await session.execute(statement)
    written: bool = result.rowcount > 0  # type: ignore[attr-defined]
    if written:
        change = TotalsChange()
        if before is not None:
            change.remove(_totals_key_of(before), before.hours)
        key = totals_key(
            state.parties.company_id,
            state.registered_at,
            state.parties.branch_id,
            state.details.service_date,
            int(state.status),
            state.details.activity_type,
        )
        change.add(key, state.details.hours)
        await change.write(session.get_bind().dialect.name, await session.connection())
    history = [
        {
            "service_id": state.service_id,
            "seq": entry.seq,
            "at": entry.at,
            "event": entry.event,
            "status": int(entry.status),
            "actor_kind": entry.actor.kind.value,
            "actor_id": entry.actor.id,
            "actor_person": entry.actor.person,
            "actor_name": entry.actor.name,
            "reason": entry.reason,
            "details": entry.details.model_dump(mode="json") if entry.details else None,
        }
        for entry in state.history
    ]
    if history:
        await session.execute(
            upsert(session, ServiceHistory).values(history).on_conflict_do_nothing()
        )
    if state.status == ServiceStatus.CANCELLED:
        await release_key(session, state.service_id)
    return written


def _engine_of(session: AsyncSession) -> AsyncEngine:
    bind = session.bind
    if isinstance(bind, AsyncEngine):
        return bind
    if bind is None:
        raise RuntimeError("a session bound to no engine")
    return bind.engine


async def get(session: AsyncSession, service_id: str) -> Service | None:
    return await session.scalar(select(Service).where(Service.id == service_id))


async def projected_payments(
    session: AsyncSession, service_ids: Sequence[str]
) -> dict[str, ProjectedPayment]:
    rows = await session.execute(
        select(
            Service.id,
            Service.status,
            Service.vouchers_allocated,
            Service.vouchers_submitted,
            Service.vouchers_reimbursed,
        ).where(Service.id.in_(sorted(set(service_ids))))
    )
    return {
        service_id: ProjectedPayment(
            status=ServiceStatus(status),
            vouchers_allocated=allocated,
            vouchers_submitted=submitted,
            vouchers_reimbursed=reimbursed,
        )
        for service_id, status, allocated, submitted, reimbursed in rows
    }


async def history(session: AsyncSession, service_id: str) -> list[ServiceHistory]:
    result = await session.scalars(
        select(ServiceHistory)
        .where(ServiceHistory.service_id == service_id)
        .order_by(ServiceHistory.seq)
    )
    return list(result)


# -- the totals kept per company, entry day, branch, service date, status and activity ----------

TotalsKey = tuple[str, date, str, date, int, int]
TOTALS_KEY = ("company_id", "entry_day", "branch_id", "service_date", "status", "activity_type")
#: Rows of totals written by one statement: 8 values each, within the 32,767 parameters that
#: PostgreSQL (and SQLite) take at most.
TOTALS_PER_STATEMENT = 2000
ENTRY_TOTALS_KEY = ("company_id", "entry_day", "branch_id", "status", "activity_type")
MONTH_TOTALS_KEY = ("company_id", "service_month", "branch_id", "status", "activity_type")
KeptTotals = type[ServiceTotal] | type[EntryTotal] | type[MonthTotal]
KeptPart = tuple[KeptTotals, list[ColumnElement[bool]]]


def entry_day(registered_at: datetime) -> date:
    """The Brussels day of an entry time (the day the lists filter entry dates by)."""
    return registered_at.astimezone(BRUSSELS).date()


def totals_key(
    company_id: str,
    registered_at: datetime,
    branch_id: str | None,
    service_date: date,
    status: int,
    activity_type: int,
) -> TotalsKey:
    """Where a service counts in the kept totals (no branch is ``""``)."""
    return (
        company_id,
        entry_day(registered_at),
        branch_id or "",
        service_date,
        status,
        activity_type,
    )


def _totals_key_of(service: Service) -> TotalsKey:
    return totals_key(
        service.company_id,
        service.registered_at,
        service.branch_id,
        service.service_date,
        service.status,
        service.activity_type,
    )


@dataclass
class TotalsChange:
    """Services and hours to add to (or take from) the totals, by key."""

    by_key: dict[TotalsKey, list[int]] = field(default_factory=dict)

    def add(self, key: TotalsKey, hours: int, services: int = 1) -> None:
        counted = self.by_key.setdefault(key, [0, 0])
        counted[0] += services
        counted[1] += hours

    def remove(self, key: TotalsKey, hours: int) -> None:
        self.add(key, -hours, services=-1)

    async def write(self, dialect: str, connection: AsyncConnection) -> None:
        """Into the three tables of totals: by entry day and service date, by entry day, and by
        month of the service date."""
        by_entry: dict[tuple[object, ...], list[int]] = {}
        by_month: dict[tuple[object, ...], list[int]] = {}
        for (company, day, branch, served, status, activity), (n, h) in self.by_key.items():
            month = first_of_month(served)
            rollups: tuple[tuple[dict[tuple[object, ...], list[int]], tuple[object, ...]], ...]
            rollups = (
                (by_entry, (company, day, branch, status, activity)),
                (by_month, (company, month, branch, status, activity)),
            )
            for rollup, rolled_up in rollups:
                counted = rollup.setdefault(rolled_up, [0, 0])
                counted[0] += n
                counted[1] += h
        tables: tuple[tuple[KeptTotals, tuple[str, ...], Mapping[Any, list[int]]], ...] = (
            (ServiceTotal, TOTALS_KEY, self.by_key),
            (EntryTotal, ENTRY_TOTALS_KEY, by_entry),
            (MonthTotal, MONTH_TOTALS_KEY, by_month),
        )
        for table, key, changes in tables:
            rows = [
                {**dict(zip(key, values, strict=True)), "services": n, "hours": h}
                for values, (n, h) in sorted(changes.items())
                if n or h
            ]
            await _add_totals(dialect, connection, table, key, rows)


async def _add_totals(
    dialect: str,
    connection: AsyncConnection,
    table: KeptTotals,
    key: tuple[str, ...],
    rows: list[dict[str, object]],
) -> None:
    for start in range(0, len(rows), TOTALS_PER_STATEMENT):
        insert = upsert_for(dialect, table)
        statement = insert.values(rows[start : start + TOTALS_PER_STATEMENT])
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=list(key),
                set_={
                    "services": table.services + insert.excluded.services,
                    "hours": table.hours + insert.excluded.hours,
                },
            )
        )


async def _backfill_totals(db: Database) -> None:
    """Totals for a read model that held services before it kept them (every table anew)."""
    async with db.transaction() as session:
        for table in (ServiceTotal, EntryTotal, MonthTotal):
            await session.execute(delete(table))
        change = TotalsChange()
        rows = await session.stream(
            select(
                Service.hours,
                Service.company_id,
                Service.registered_at,
                Service.branch_id,
                Service.service_date,
                Service.status,
                Service.activity_type,
            )
        )
        async for hours, company, registered_at, branch, service_date, status, activity in rows:
            change.add(
                totals_key(company, registered_at, branch, service_date, status, activity), hours
            )
        await change.write(session.get_bind().dialect.name, await session.connection())


@dataclass(frozen=True)
class ServiceFilter:
    company_id: str | None = None
    branch_ids: tuple[str, ...] = ()
    status: int | None = None
    worker_login: str | None = None
    user_number: str | None = None
    service_date_from: date | None = None
    service_date_to: date | None = None
    activity_type: int | None = None
    registered_from: date | None = None
    """Entry dates are days in Brussels, from this one ..."""
    registered_to: date | None = None
    """... up to and including this one."""
    payable: bool = False
    """Only services with allocated vouchers that no reimbursement request holds yet."""

    def conditions(self) -> list[object]:
        columns = {
            "company_id": Service.company_id,
            "status": Service.status,
            "worker_login": Service.worker_login,
            "user_number": Service.user_number,
            "activity_type": Service.activity_type,
        }
        conditions: list[object] = [
            column == getattr(self, name)
            for name, column in columns.items()
            if getattr(self, name) is not None
        ]
        if self.branch_ids:
            conditions.append(Service.branch_id.in_(self.branch_ids))
        if self.service_date_from:
            conditions.append(Service.service_date >= self.service_date_from)
        if self.service_date_to:
            conditions.append(Service.service_date <= self.service_date_to)
        if self.registered_from:
            conditions.append(Service.registered_at >= start_of_day(self.registered_from))
        if self.registered_to:
            next_day = self.registered_to + timedelta(days=1)
            conditions.append(Service.registered_at < start_of_day(next_day))
        if self.payable:
            conditions.append(Service.vouchers_allocated > Service.vouchers_submitted)
        return conditions

    def kept_totals(self) -> list[KeptPart] | None:
        """The kept totals that answer the selection: parts, each a table and the conditions
        on it, whose sums add up to the selection's; None for a selection they cannot answer
        (one worker, one user, what is payable), which is counted from its index. Without a
        service-date window the totals by entry day answer; a service-date window without entry
        dates is summed by month for its whole months and by day for its edge days; with both
        windows, the totals by entry day and service date answer."""
        if self.worker_login or self.user_number or self.payable:
            return None
        if not (self.service_date_from or self.service_date_to):
            return [(EntryTotal, [*self._kept(EntryTotal), *self._entry_days(EntryTotal)])]
        if self.registered_from or self.registered_to:
            days = self._service_days(self.service_date_from, self.service_date_to)
            entry_days = self._entry_days(ServiceTotal)
            return [(ServiceTotal, [*self._kept(ServiceTotal), *entry_days, *days])]
        return self._by_month_and_edge_days()

    def _by_month_and_edge_days(self) -> list[KeptPart]:
        first, last = self.service_date_from, self.service_date_to
        whole_from = first if first is None or first.day == 1 else month_shifted(first, 1)
        whole_until = None if last is None else month_shifted(last + timedelta(days=1), 0)
        if whole_from is not None and whole_until is not None and whole_from >= whole_until:
            return [(ServiceTotal, [*self._kept(ServiceTotal), *self._service_days(first, last)])]
        months = [*self._kept(MonthTotal)]
        if whole_from is not None:
            months.append(MonthTotal.service_month >= whole_from)
        if whole_until is not None:
            months.append(MonthTotal.service_month < whole_until)
        parts: list[KeptPart] = [(MonthTotal, months)]
        if first is not None and whole_from is not None and first < whole_from:
            edge = self._service_days(first, whole_from - timedelta(days=1))
            parts.append((ServiceTotal, [*self._kept(ServiceTotal), *edge]))
        if last is not None and whole_until is not None and whole_until <= last:
            edge = self._service_days(whole_until, last)
            parts.append((ServiceTotal, [*self._kept(ServiceTotal), *edge]))
        return parts

    def _kept(self, table: KeptTotals) -> list[ColumnElement[bool]]:
        """The conditions every table of totals answers: company, status, activity, branches."""
        conditions: list[ColumnElement[bool]] = [
            getattr(table, name) == getattr(self, name)
            for name in ("company_id", "status", "activity_type")
            if getattr(self, name) is not None
        ]
        if self.branch_ids:
            conditions.append(table.branch_id.in_(self.branch_ids))
        return conditions

    def _entry_days(
        self, table: type[ServiceTotal] | type[EntryTotal]
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.registered_from:
            conditions.append(table.entry_day >= self.registered_from)
        if self.registered_to:
            conditions.append(table.entry_day <= self.registered_to)
        return conditions

    @staticmethod
    def _service_days(first: date | None, last: date | None) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if first:
            conditions.append(ServiceTotal.service_date >= first)
        if last:
            conditions.append(ServiceTotal.service_date <= last)
        return conditions


def start_of_day(day: date) -> datetime:
    """Midnight of a Brussels day, in UTC (as entry dates are stored)."""
    return datetime.combine(day, time(0), tzinfo=BRUSSELS).astimezone(UTC)


@dataclass(frozen=True)
class Page:
    items: list[Service]
    total_services: int
    total_hours: int
    has_previous: bool = False
    """Rows come before the first of this page (in the list's order)."""
    has_next: bool = False
    """Rows come after the last of this page."""


async def export_batches(
    session: AsyncSession, selection: ServiceFilter, *, oldest_first: bool, batch: int
) -> AsyncIterator[list[Service]]:
    """The whole selection in the list's order, a batch at a time, each batch read after the
    last row of the one before (keyset): flat memory and the same cost for every batch."""
    conditions = selection.conditions()
    key = tuple_(Service.registered_at, Service.id)
    order = (
        (Service.registered_at.asc(), Service.id.asc())
        if oldest_first
        else (Service.registered_at.desc(), Service.id.desc())
    )
    after: tuple[datetime, str] | None = None
    while True:
        query = select(Service).where(*conditions)  # type: ignore[arg-type]
        if after is not None:
            query = query.where(key > after if oldest_first else key < after)
        rows = list(await session.scalars(query.order_by(*order).limit(batch)))
        if not rows:
            return
        yield rows
        after = (rows[-1].registered_at, rows[-1].id)


@dataclass(frozen=True)
class Totals:
    key: int | str
    """The status, or the worker's login."""
    services: int
    hours: int


async def list_services(
    session: AsyncSession,
    selection: ServiceFilter,
    *,
    limit: int,
    offset: int = 0,
    oldest_first: bool = False,
    after: ListPosition | None = None,
    before: ListPosition | None = None,
) -> Page:
    """A page of the selection by entry date, newest first (or oldest first), with the totals
    of the whole selection. The page is the one ``offset`` rows in, or the one right after the
    position ``after`` (right before ``before``): a position costs what the first page does,
    however deep it is (keyset), where an offset reads every row before it."""
    forward = before is None
    skipped = offset if after is None and before is None else 0
    query = page_query(
        selection,
        limit=limit + 1,
        offset=skipped,
        oldest_first=oldest_first,
        after=after,
        before=before,
    )
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit] if forward else rows[:limit][::-1]
    services, hours = await selection_totals(session, selection)
    return Page(
        items=rows,
        total_services=services,
        total_hours=hours,
        has_previous=(skipped > 0 or after is not None) if forward else more,
        has_next=more if forward else True,
    )


def page_query(
    selection: ServiceFilter,
    *,
    limit: int,
    offset: int = 0,
    oldest_first: bool = False,
    after: ListPosition | None = None,
    before: ListPosition | None = None,
) -> Select[Service]:
    """The rows of a page of the list, in the order they are read (reversed for the page
    before a position)."""
    key = tuple_(Service.registered_at, Service.id)
    ascending = oldest_first == (before is None)
    query = select(Service).where(*selection.conditions())  # type: ignore[arg-type]
    if after is not None:
        position = (after.registered_at, after.service_id)
        query = query.where(key > position if oldest_first else key < position)
    if before is not None:
        position = (before.registered_at, before.service_id)
        query = query.where(key < position if oldest_first else key > position)
    order = (
        (Service.registered_at.asc(), Service.id.asc())
        if ascending
        else (Service.registered_at.desc(), Service.id.desc())
    )
    return query.order_by(*order).offset(offset).limit(limit)


async def selection_totals(session: AsyncSession, selection: ServiceFilter) -> tuple[int, int]:
    """How many services, and hours, the whole selection holds: summed from the kept totals,
    or counted where the selection is narrow (one worker, one user)."""
    kept = selection.kept_totals()
    if kept is None:
        query = select(func.count(), func.coalesce(func.sum(Service.hours), 0)).where(
            *selection.conditions()  # type: ignore[arg-type]
        )
    else:
        rows = _kept_rows(kept)
        query = select(
            func.coalesce(func.sum(rows.c.services), 0), func.coalesce(func.sum(rows.c.hours), 0)
        )
    services, hours = (await session.execute(query)).one()
    return int(services), int(hours)


def _kept_rows(parts: list[KeptPart]) -> Subquery:
    """The rows of kept totals of every part: status, services, hours."""
    selects = [
        select(table.status, table.services, table.hours).where(*conditions)
        for table, conditions in parts
    ]
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery()


TOTALS_BY = {"status": Service.status, "worker_login": Service.worker_login}


async def totals_by(
    session: AsyncSession, selection: ServiceFilter, by: Literal["status", "worker_login"]
) -> list[Totals]:
    """How many services, and hours, of the selection there are per status or per worker."""
    kept = selection.kept_totals()
    query: Select[*tuple[Any, ...]]
    if by == "status" and kept is not None:
        kept_rows = _kept_rows(kept)
        query = (
            select(kept_rows.c.status, func.sum(kept_rows.c.services), func.sum(kept_rows.c.hours))
            .group_by(kept_rows.c.status)
            .having(func.sum(kept_rows.c.services) != 0)
            .order_by(kept_rows.c.status)
        )
    else:
        column = TOTALS_BY[by]
        query = (
            select(column, func.count(), func.coalesce(func.sum(Service.hours), 0))
            .where(*selection.conditions())  # type: ignore[arg-type]
            .group_by(column)
            .order_by(column)
        )
    rows = await session.execute(query)
    return [
        Totals(key=cast(int | str, row[0]), services=int(row[1]), hours=int(row[2])) for row in rows
    ]


async def add_to_inbox(
    session: AsyncSession, *, key: str, company_id: str, service_id: str, kind: str, now: datetime
) -> None:
    await session.execute(
        upsert(session, InboxItem)
        .values(key=key, company_id=company_id, service_id=service_id, kind=kind, created_at=now)
        .on_conflict_do_nothing()
    )


async def inbox(
    session: AsyncSession, company_id: str, *, branch_ids: tuple[str, ...] = (), limit: int
) -> list[InboxItem]:
    query = select(InboxItem).where(InboxItem.company_id == company_id)
    if branch_ids:
        query = query.join(Service, Service.id == InboxItem.service_id).where(
            Service.branch_id.in_(branch_ids)
        )
    rows = await session.scalars(
        query.order_by(InboxItem.created_at.desc(), InboxItem.id.desc()).limit(limit)
    )
    return list(rows)


# -- who looked at a household's services -------------------------------------------------------


async def record_view(session: AsyncSession, service: Service, viewer: Actor, at: datetime) -> None:
    session.add(
        ServiceView(
            at=at,
            user_number=service.user_number,
            service_id=service.id,
            service_date=service.service_date,
            company_id=service.company_id,
            viewer_kind=viewer.kind.value,
            viewer_id=viewer.id,
            viewer_person=viewer.person,
            viewer_name=viewer.name,
        )
    )


async def views_of_user(
    session: AsyncSession, user_number: str, *, limit: int, before_id: int | None = None
) -> list[ServiceView]:
    """The household's service views, newest first, from before ``before_id`` on."""
    query = select(ServiceView).where(ServiceView.user_number == user_number)
    if before_id is not None:
        query = query.where(ServiceView.id < before_id)
    rows = await session.scalars(query.order_by(ServiceView.id.desc()).limit(limit))
    return list(rows)


# -- the worker's side (the Jobtracker app) -----------------------------------------------------

#: The statuses in which a worker's answer to a service the company encoded still matters.
AWAITING_AGREEMENT = tuple(
    int(s)
    for s in (
        ServiceStatus.ENCODED,
        ServiceStatus.VALIDATED,
        ServiceStatus.CONTESTED,
        ServiceStatus.MODIFIED,
        ServiceStatus.CONFIRMED,
    )
)


async def customers_of(session: AsyncSession, company_id: str, login: str) -> list[WorkerCustomer]:
    rows = await session.scalars(
        select(WorkerCustomer)
        .where(WorkerCustomer.company_id == company_id, WorkerCustomer.worker_login == login)
        .order_by(WorkerCustomer.name, WorkerCustomer.user_number)
    )
    return list(rows)


async def save_customer(session: AsyncSession, customer: Mapping[str, object]) -> None:
    """Add the customer, or change its name, phone and note."""
    insert = upsert(session, WorkerCustomer).values(customer)
    changed = ("name", "phone", "note", "updated_at")
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[
                WorkerCustomer.company_id,
                WorkerCustomer.worker_login,
                WorkerCustomer.user_number,
            ],
            set_={column: insert.excluded[column] for column in changed},
        )
    )


def _encoded_by_others() -> ColumnElement[bool]:
    """The service was registered by someone else than its worker (the company, an import)."""
    return (
        select(ServiceHistory.service_id)
        .where(
            ServiceHistory.service_id == Service.id,
            ServiceHistory.event == "registered",
            ServiceHistory.actor_kind != "worker",
        )
        .exists()
    )


async def encoded_for_worker(
    session: AsyncSession, company_id: str, login: str, *, limit: int
) -> list[tuple[Service, WorkerAnswer | None]]:
    """The company's services for this worker that wait for the worker's answer: none yet, or
    one older than the service's last change. The latest encoded first: with many waiting,
    what the office just encoded is not left beyond the limit."""
    rows = await session.execute(
        select(Service, WorkerAnswer)
        .outerjoin(WorkerAnswer, WorkerAnswer.service_id == Service.id)
        .where(
            Service.worker_login == login,
            Service.company_id == company_id,
            Service.status.in_(AWAITING_AGREEMENT),
            or_(WorkerAnswer.service_id.is_(None), WorkerAnswer.at < Service.updated_at),
            _encoded_by_others(),
        )
        .order_by(Service.registered_at.desc(), Service.id.desc())
        .limit(limit)
    )
    return [(service, answer) for service, answer in rows]


async def was_encoded_by_others(session: AsyncSession, service_id: str) -> bool:
    found = await session.scalar(
        select(func.count())
        .select_from(Service)
        .where(Service.id == service_id, _encoded_by_others())
    )
    return bool(found)


async def answer_of(session: AsyncSession, service_id: str) -> WorkerAnswer | None:
    return await session.get(WorkerAnswer, service_id)


async def save_answer(session: AsyncSession, answer: Mapping[str, object]) -> None:
    """The worker's answer; a later one replaces it."""
    insert = upsert(session, WorkerAnswer).values(answer)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[WorkerAnswer.service_id],
            set_={column: insert.excluded[column] for column in ("answer", "reason", "at")},
        )
    )


async def record_mail(
    session: AsyncSession, *, key: str, recipient: str, subject: str, body: str, now: datetime
) -> None:
    await session.execute(
        upsert(session, OutboxMessage)
        .values(key=key, recipient=recipient, subject=subject, body=body, created_at=now)
        .on_conflict_do_nothing()
    )


async def lease_due_mail(
    session: AsyncSession, *, now: datetime, until: datetime, limit: int
) -> list[OutboxMessage]:
    """Take up to ``limit`` messages due for delivery for this relay until ``until``: another
    relay skips them meanwhile, and takes them again once the lease ends (should this one stop).
    The row lock lasts only this short transaction, never a delivery."""
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    leased = await session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=until, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return sorted(leased, key=lambda message: message.id)


async def mark_sent(session: AsyncSession, message_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .values(sent_at=now, next_attempt_at=None, failure=None)
    )


async def mark_not_sent(
    session: AsyncSession,
    message_id: int,
    *,
    reason: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """A delivery failed: again at ``retry_at``, or never (``None``: refused for good)."""
    values: dict[str, object] = {"failure": reason[:2000], "next_attempt_at": retry_at}
    if retry_at is None:
        values["failed_at"] = now
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .values(**values)
    )
