"""Reads and writes of the services-mgmt database. Writes are idempotent."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import upsert
from dc_services.models import InboxItem, OutboxMessage, Service, ServiceHistory
from dc_workflows.contracts.lifecycle import ServiceState
from dc_workflows.contracts.payments import ProjectedPayment
from dc_workflows.status import ServiceStatus


async def project(session: AsyncSession, state: ServiceState) -> bool:
    """Write a lifecycle state; an older or repeated version changes nothing. True if written."""
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
    }
    insert = upsert(session, Service).values(row)
    statement = insert.on_conflict_do_update(
        index_elements=[Service.id],
        set_={key: insert.excluded[key] for key in row if key != "id"},
        where=Service.version < insert.excluded.version,
    )
    result = await session.execute(statement)
    written: bool = result.rowcount > 0  # type: ignore[attr-defined]
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
            "reason": entry.reason,
            "details": entry.details.model_dump(mode="json") if entry.details else None,
        }
        for entry in state.history
    ]
    await session.execute(upsert(session, ServiceHistory).values(history).on_conflict_do_nothing())
    return written


async def get(session: AsyncSession, service_id: str) -> Service | None:
    return await session.get(Service, service_id)


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


@dataclass(frozen=True)
class ServiceFilter:
    company_id: str | None = None
    branch_ids: tuple[str, ...] = ()
    status: int | None = None
    worker_login: str | None = None
    user_number: str | None = None
    service_date_from: date | None = None
    service_date_to: date | None = None

    def conditions(self) -> list[object]:
        columns = {
            "company_id": Service.company_id,
            "status": Service.status,
            "worker_login": Service.worker_login,
            "user_number": Service.user_number,
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
        return conditions


@dataclass(frozen=True)
class Page:
    items: list[Service]
    total_services: int
    total_hours: int


async def list_newest_first(
    session: AsyncSession, selection: ServiceFilter, *, offset: int, limit: int
) -> Page:
    conditions = selection.conditions()
    rows = await session.scalars(
        select(Service)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(Service.registered_at.desc(), Service.id.desc())
        .offset(offset)
        .limit(limit)
    )
    totals = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Service.hours), 0)).where(*conditions)  # type: ignore[arg-type]
        )
    ).one()
    return Page(items=list(rows), total_services=totals[0], total_hours=totals[1])


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


async def record_mail(
    session: AsyncSession, *, key: str, recipient: str, subject: str, body: str, now: datetime
) -> None:
    await session.execute(
        upsert(session, OutboxMessage)
        .values(key=key, recipient=recipient, subject=subject, body=body, created_at=now)
        .on_conflict_do_nothing()
    )


async def unsent_mail(session: AsyncSession, key: str) -> OutboxMessage | None:
    return await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.key == key, OutboxMessage.sent_at.is_(None))
        .with_for_update(skip_locked=True)
    )


async def mark_sent(session: AsyncSession, message_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .values(sent_at=now)
    )
