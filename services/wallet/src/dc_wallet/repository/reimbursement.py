"""Reimbursement requests: reserving, submitting and paying out the vouchers of services."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.actors import Actor
from dc_wallet.domain import (
    Event,
    VoucherState,
    WalletPolicy,
    sorted_users,
    status_after_payout,
    status_after_submission,
)
from dc_wallet.models import Claim, ReimbursementRequest, Voucher
from dc_wallet.repository.allocation import changed
from dc_workflows.contracts.payments import PaymentUpdate
from dc_workflows.status import ServiceStatus as S


async def claims_by_ids(session: AsyncSession, service_ids: Iterable[str]) -> dict[str, Claim]:
    ids = sorted(set(service_ids))
    if not ids:
        return {}
    rows = await session.scalars(select(Claim).where(Claim.service_id.in_(ids)))
    return {claim.service_id: claim for claim in rows}


async def payable_counts(session: AsyncSession, service_ids: Iterable[str]) -> dict[str, int]:
    """Per service, the vouchers allocated to it and in no reimbursement request yet."""
    ids = sorted(set(service_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Voucher.service_id, func.count())
        .where(
            Voucher.service_id.in_(ids),
            Voucher.state == VoucherState.ALLOCATED.value,
            Voucher.reimbursement_request_id.is_(None),
        )
        .group_by(Voucher.service_id)
    )
    return {str(service_id): int(count) for service_id, count in rows.all()}


async def create_request(
    session: AsyncSession,
    *,
    request_id: str,
    company_id: str,
    reference: str,
    service_ids: Sequence[str],
    policy: WalletPolicy,
    now: datetime,
    requested_by: Actor | None = None,
) -> ReimbursementRequest:
    """Record the request and reserve for it every allocated, unreserved voucher of these
    services (still ``allocated``: :func:`submit_request` marks them ``submitted``). The caller
    holds the locks of the services' wallets."""
    request = ReimbursementRequest(
        id=request_id,
        company_id=company_id,
        reference=reference,
        created_at=now,
        submitted_at=None,
        paid_at=None,
        vouchers=0,
        voucher_value_cents=policy.reimbursement_value_cents,
        amount_cents=0,
        requested_by=None if requested_by is None else requested_by.model_dump(mode="json"),
    )
    session.add(request)
    await session.flush()  # a concurrent request under the same reference fails here
    result = await session.execute(
        update(Voucher)
        .where(
            Voucher.service_id.in_(sorted(set(service_ids))),
            Voucher.state == VoucherState.ALLOCATED.value,
            Voucher.reimbursement_request_id.is_(None),
        )
        .values(reimbursement_request_id=request_id, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    request.vouchers = count
    request.amount_cents = count * policy.reimbursement_value_cents
    return request


async def request_services(session: AsyncSession, request_id: str) -> list[str]:
    rows = await session.scalars(
        select(Voucher.service_id)
        .where(Voucher.reimbursement_request_id == request_id)
        .distinct()
        .order_by(Voucher.service_id)
    )
    return [str(service_id) for service_id in rows]


async def request_users(session: AsyncSession, request_id: str) -> list[str]:
    rows = await session.scalars(
        select(Voucher.user_number).where(Voucher.reimbursement_request_id == request_id).distinct()
    )
    return sorted_users(rows)


async def _move_request_vouchers(
    session: AsyncSession,
    request_id: str,
    source: VoucherState,
    target: VoucherState,
    now: datetime,
) -> dict[str, int]:
    rows = await session.execute(
        select(Voucher.service_id, func.count())
        .where(Voucher.reimbursement_request_id == request_id, Voucher.state == source.value)
        .group_by(Voucher.service_id)
    )
    counts = {str(service_id): int(count) for service_id, count in rows.all()}
    await session.execute(
        update(Voucher)
        .where(Voucher.reimbursement_request_id == request_id, Voucher.state == source.value)
        .values(state=target.value, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    return counts


@dataclass(frozen=True)
class _Step:
    """What one step of a request does to each of its services: the count it adds to, the
    status rule, and the event the lifecycle hears."""

    counter: Literal["vouchers_submitted", "vouchers_reimbursed"]
    status_after: Callable[[S, int, int, int], S]
    event: Event


async def _advance_request(
    session: AsyncSession,
    request: ReimbursementRequest,
    source: VoucherState,
    target: VoucherState,
    now: datetime,
    *,
    step: _Step,
    wording: tuple[str, str],
) -> list[PaymentUpdate]:
    """Move the request's vouchers from ``source`` to ``target`` and update each service: its
    count, its status by the step's rule, one update for its lifecycle (none at 20: closed)."""
    counts = await _move_request_vouchers(session, request.id, source, target, now)
    claims = await claims_by_ids(session, counts)
    updates: list[PaymentUpdate] = []
    where, done = wording
    for service_id in sorted(counts):
        claim = claims[service_id]
        total = getattr(claim, step.counter) + counts[service_id]
        setattr(claim, step.counter, total)
        claim.updated_at = now
        if claim.status == S.PAY_OUTSIDE_VOUCHERS:
            continue
        status = step.status_after(S(claim.status), claim.hours, claim.vouchers_allocated, total)
        claim.status = int(status)
        reason = (
            f"{counts[service_id]} voucher(s) {where} {request.reference}: "
            f"{total} of {claim.hours} {done}"
        )
        updates.append(changed(claim, now, step.event, reason))
    return updates


async def submit_request(
    session: AsyncSession, request: ReimbursementRequest, now: datetime
) -> list[PaymentUpdate]:
    """The request's vouchers become ``submitted``; partially paid services 17, fully paid and
    wholly submitted 13. A service at 20 keeps its status and tells no lifecycle (closed)."""
    updates = await _advance_request(
        session,
        request,
        VoucherState.ALLOCATED,
        VoucherState.SUBMITTED,
        now,
        step=_Step("vouchers_submitted", status_after_submission, Event.REIMBURSEMENT_REQUESTED),
        wording=("in reimbursement request", "submitted"),
    )
    if request.submitted_at is None:
        request.submitted_at = now
    return updates


async def pay_out_request(
    session: AsyncSession,
    request: ReimbursementRequest,
    now: datetime,
    paid_by: Actor | None = None,
) -> list[PaymentUpdate]:
    """The request's vouchers become ``reimbursed``; a fully paid service with every voucher
    reimbursed goes to 14, any other keeps its status (a partially paid one stays 17)."""
    updates = await _advance_request(
        session,
        request,
        VoucherState.SUBMITTED,
        VoucherState.REIMBURSED,
        now,
        step=_Step("vouchers_reimbursed", status_after_payout, Event.REIMBURSED),
        wording=("paid out in request", "reimbursed"),
    )
    request.paid_at = now
    request.paid_by = None if paid_by is None else paid_by.model_dump(mode="json")
    return updates
