"""What the API does: orders, reimbursement requests and payouts write the wallet's database,
then hand the consequences for the services to a WalletChange workflow; views read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError

from dc_common.db import Database
from dc_common.problems import Problem
from dc_wallet import repository
from dc_wallet.activities import Clock, utc_now
from dc_wallet.domain import OrderRejected, WalletPolicy, brussels_date, check_order
from dc_wallet.models import Order, ReimbursementRequest
from dc_wallet.starter import WorkflowStarter
from dc_workflows.contracts.payments import (
    AllocatePending,
    Payout,
    ReimbursementSubmission,
    WalletChange,
    WalletChangeKind,
)

log = structlog.get_logger(__name__)

_REQUEST_NAMESPACE = uuid.UUID("0d5f4d1e-6a53-4c1e-9d2f-6c7b0f3e8a21")


@dataclass(frozen=True)
class Placed:
    order: Order
    created: bool


@dataclass(frozen=True)
class Requested:
    request: ReimbursementRequest
    created: bool


@dataclass(frozen=True)
class Statement:
    request: ReimbursementRequest
    lines: list[repository.StatementLine]


@dataclass(frozen=True)
class PayoutStarted:
    request: ReimbursementRequest
    started: bool
    """False when the request was already paid out: nothing started."""


def request_id_for(company_id: str, reference: str) -> str:
    """The id of a company's request under its reference: the same on every attempt."""
    return str(uuid.uuid5(_REQUEST_NAMESPACE, f"{company_id}:{reference}"))


class WalletDesk:
    def __init__(
        self,
        *,
        db: Database,
        policy: WalletPolicy,
        starter: WorkflowStarter,
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._policy = policy
        self._starter = starter
        self._clock = clock

    @property
    def policy(self) -> WalletPolicy:
        return self._policy

    # -- orders -----------------------------------------------------------------------------

    async def order(self, user_number: str, reference: str, quantity: int) -> Placed:
        """Record a paid order and issue its vouchers, once per (user, reference), then have
        the wallet pay the services waiting for it."""
        if quantity < self._policy.minimum_order:
            raise _order_refused(f"order too small: at least {self._policy.minimum_order} vouchers")
        now = self._clock()
        async with repository.writing(self._db) as session:
            await repository.lock_wallets(session, [user_number], now)
            existing = await repository.find_order(session, user_number, reference)
            if existing is not None:
                if existing.quantity != quantity:
                    raise Problem(
                        409,
                        "Order reference already used",
                        f"reference: {reference} is the order of {existing.quantity} vouchers",
                        errors=[{"field": "reference", "reason": "already used"}],
                    )
                placed = Placed(existing, created=False)
            else:
                today = brussels_date(now)
                ordered = await repository.ordered_in_year(session, user_number, today.year)
                try:
                    check_order(quantity, ordered, self._policy)
                except OrderRejected as refused:
                    raise _order_refused(refused.reason, conflict=refused.conflict) from None
                order = await repository.place_order(
                    session,
                    user_number=user_number,
                    reference=reference,
                    quantity=quantity,
                    issue_date=today,
                    policy=self._policy,
                    now=now,
                )
                placed = Placed(order, created=True)
        log.info(
            "voucher order",
            user_number=user_number,
            reference=reference,
            quantity=quantity,
            created=placed.created,
        )
        await self._start(
            WalletChange(
                kind=WalletChangeKind.ALLOCATE_PENDING,
                key=f"{user_number}-{reference}",
                allocate=AllocatePending(user_number=user_number, trigger=reference),
            ),
            then=f"the order {reference} is recorded; repeat it to pay the waiting services",
        )
        return placed

    async def wallet(self, user_number: str) -> repository.WalletView:
        today = brussels_date(self._clock())
        async with repository.reading(self._db) as session:
            return await repository.wallet_view(session, user_number, today=today)

    # -- reimbursement ----------------------------------------------------------------------

    async def request_reimbursement(
        self, company_id: str, reference: str, service_ids: Sequence[str]
    ) -> Requested:
        """Reserve the allocated vouchers of these services for a new request, then submit it.

        The same reference again with the same services answers the first request; with other
        services it is refused (409).
        """
        request_id = request_id_for(company_id, reference)
        try:
            requested = await self._create_request(request_id, company_id, reference, service_ids)
        except IntegrityError:
            # The same reference, created at the same time by another call: answer as it.
            requested = await self._create_request(request_id, company_id, reference, service_ids)
        await self._start(
            WalletChange(
                kind=WalletChangeKind.SUBMIT_REIMBURSEMENT,
                key=request_id,
                reimbursement=ReimbursementSubmission(request_id=request_id),
            ),
            then=f"the request {reference} is recorded; repeat it to submit it",
        )
        return requested

    async def _create_request(
        self, request_id: str, company_id: str, reference: str, service_ids: Sequence[str]
    ) -> Requested:
        now = self._clock()
        async with repository.writing(self._db) as session:
            # A claim's user and company never change: read before locking its wallet. Look for
            # the request only once the wallets are locked, so that the same request made at
            # the same time is found by the second, not refused for lack of payable vouchers.
            claims = await repository.claims_by_ids(session, service_ids)
            await repository.lock_wallets(
                session, (claim.user_number for claim in claims.values()), now
            )
            existing = await session.get(ReimbursementRequest, request_id)
            if existing is not None:
                if set(await repository.request_services(session, request_id)) != set(service_ids):
                    raise Problem(
                        409,
                        "Reference already used",
                        f"reference: {reference} names another reimbursement request "
                        f"({request_id}) of other services",
                        errors=[{"field": "reference", "reason": "already used"}],
                    )
                return Requested(existing, created=False)
            payable = await repository.payable_counts(session, service_ids)
            errors: list[dict[str, str]] = []
            for index, service_id in enumerate(service_ids):
                claim = claims.get(service_id)
                if claim is None:
                    why = "no wallet pays it (not ready for voucher allocation, or unknown)"
                elif claim.company_id != company_id:
                    why = f"not a service of company {company_id}"
                elif payable.get(service_id, 0) == 0:
                    why = "no allocated vouchers that are not yet submitted"
                else:
                    continue
                errors.append(
                    {
                        "field": f"service_ids.{index}",
                        "reason": f"service not payable: {service_id}: {why}",
                    }
                )
            if errors:
                raise Problem(
                    422,
                    "Service not payable",
                    "; ".join(f"{error['field']}: {error['reason']}" for error in errors),
                    errors=errors,
                )
            request = await repository.create_request(
                session,
                request_id=request_id,
                company_id=company_id,
                reference=reference,
                service_ids=service_ids,
                policy=self._policy,
                now=now,
            )
        log.info(
            "reimbursement requested",
            request_id=request_id,
            company_id=company_id,
            vouchers=request.vouchers,
        )
        return Requested(request, created=True)

    async def requests(
        self, company_id: str | None, *, limit: int, offset: int
    ) -> list[ReimbursementRequest]:
        async with repository.reading(self._db) as session:
            return await repository.list_requests(session, company_id, limit=limit, offset=offset)

    async def statement(self, request_id: str) -> Statement:
        async with repository.reading(self._db) as session:
            request = await session.get(ReimbursementRequest, request_id)
            if request is None:
                raise Problem(404, "Reimbursement request not found", f"no request {request_id}")
            return Statement(request, await repository.statement_lines(session, request_id))

    async def payout(self, request_id: str) -> PayoutStarted:
        """Pay a submitted request out. Idempotent: while the payout runs, asking again starts
        nothing new; once paid, the answer is the paid request."""
        async with repository.reading(self._db) as session:
            request = await session.get(ReimbursementRequest, request_id)
        if request is None:
            raise Problem(404, "Reimbursement request not found", f"no request {request_id}")
        if request.paid_at is not None:
            return PayoutStarted(request, started=False)
        if request.submitted_at is None:
            raise Problem(
                409,
                "Reimbursement request not submitted yet",
                f"request {request_id} is still being submitted; ask again in a moment",
            )
        await self._start(
            WalletChange(
                kind=WalletChangeKind.PAY_OUT,
                key=request_id,
                payout=Payout(request_id=request_id),
            ),
            then="nothing was paid out; ask again",
        )
        return PayoutStarted(request, started=True)

    async def _start(self, change: WalletChange, *, then: str) -> None:
        try:
            await self._starter.start(change)
        except Exception as error:
            log.exception("wallet change not started", kind=change.kind.value, key=change.key)
            raise Problem(503, "Workflow service unavailable", then) from error


def _order_refused(reason: str, *, conflict: bool = False) -> Problem:
    return Problem(
        409 if conflict else 422,
        "Order refused",
        f"quantity: {reason}",
        errors=[{"field": "quantity", "reason": reason}],
    )
