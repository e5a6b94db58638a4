"""The reconciliation's reads and writes: its runs (window and counts), and the claims whose
payment changed in a window, each with the latest update its lifecycle was told."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import upsert
from dc_wallet.models import Claim, Reconciliation
from dc_wallet.repository.allocation import claim_update
from dc_workflows.contracts.payments import (
    ChangedPaymentsPage,
    PageCursor,
    PaymentUpdate,
    ReconciliationReport,
    ReconciliationStart,
    ReconciliationWindow,
    WalletPayments,
)

#: The event of an update rebuilt from a claim written before claims kept their latest update.
REBUILT_EVENT = "reconciled"


async def begin_run(
    session: AsyncSession,
    start: ReconciliationStart,
    *,
    settle: timedelta,
    first_window: timedelta,
    now: datetime,
) -> ReconciliationWindow:
    """The window of run ``start.key``, recorded on its first call (a retry, or the run's
    continuation, gets the same): up to ``start.at - settle`` (changes still being told to
    their lifecycles are left to the next run), from where the last finished run ended, or
    ``first_window`` before; or the window the run was given."""
    known = await session.get(Reconciliation, start.key)
    if known is None:
        until = start.until or start.at - settle
        since = start.since
        if since is None:
            previous = await session.scalar(
                select(Reconciliation.until)
                .where(Reconciliation.finished_at.is_not(None), Reconciliation.until <= until)
                .order_by(Reconciliation.until.desc())
                .limit(1)
            )
            since = previous or until - first_window
        await session.execute(
            upsert(session, Reconciliation)
            .values(
                key=start.key,
                since=since,
                until=until,
                started_at=now,
                finished_at=None,
                checked=0,
                mismatched=0,
                repaired=0,
                unrepaired=[],
            )
            .on_conflict_do_nothing()
        )
        known = await session.get(Reconciliation, start.key)
        assert known is not None
    return ReconciliationWindow(key=known.key, since=known.since, until=known.until)


async def changed_payments(session: AsyncSession, page: ChangedPaymentsPage) -> WalletPayments:
    """The claims with a payment (version 1 or more) changed in the page's window, oldest change
    first, after its cursor, at most ``page.limit``; each with its latest update."""
    query = select(Claim).where(
        Claim.payment_version > 0,
        Claim.updated_at >= page.since,
        Claim.updated_at < page.until,
    )
    if page.after is not None:
        query = query.where(
            or_(
                Claim.updated_at > page.after.changed_at,
                and_(
                    Claim.updated_at == page.after.changed_at,
                    Claim.service_id > page.after.service_id,
                ),
            )
        )
    claims = list(
        await session.scalars(
            query.order_by(Claim.updated_at, Claim.service_id).limit(page.limit + 1)
        )
    )
    more = len(claims) > page.limit
    claims = claims[: page.limit]
    last = claims[-1] if claims and more else None
    return WalletPayments(
        updates=tuple(latest_update(claim) for claim in claims),
        next=None
        if last is None
        else PageCursor(changed_at=last.updated_at, service_id=last.service_id),
    )


def latest_update(claim: Claim) -> PaymentUpdate:
    """The update of the claim's payment version, as its lifecycle was told; rebuilt from the
    claim for one written before claims kept it."""
    if claim.last_update is not None:
        return PaymentUpdate.model_validate(claim.last_update)
    return claim_update(
        claim, REBUILT_EVENT, "the wallet's payment, sent again by the reconciliation"
    )


async def finish_run(session: AsyncSession, report: ReconciliationReport, now: datetime) -> None:
    """Record what the run found (the same again on a retry)."""
    run = await session.get(Reconciliation, report.key)
    if run is None:
        raise LookupError(f"no reconciliation run {report.key}")
    run.checked = report.counts.checked
    run.mismatched = report.counts.mismatched
    run.repaired = report.counts.repaired
    run.unrepaired = list(report.unrepaired)
    if run.finished_at is None:
        run.finished_at = now


async def latest_run(session: AsyncSession) -> Reconciliation | None:
    """The finished run that checked up to the latest instant."""
    latest: Reconciliation | None = await session.scalar(
        select(Reconciliation)
        .where(Reconciliation.finished_at.is_not(None))
        .order_by(Reconciliation.until.desc(), Reconciliation.finished_at.desc())
        .limit(1)
    )
    return latest
