"""The application layer of the wallet's API: what each call does.

An order and a reimbursement request are one durable step: the API starts their
WalletChangeWorkflow first (keyed by user and reference, or by the request id of company and
reference) and waits for its result; the workflow's one activity checks, writes and pays (or
submits) in one transaction under the wallet lock, then tells the lifecycles. So:

- a start that fails has written nothing (503: try again);
- the same call again answers as the first (its workflow ran or runs: its result);
- a refusal (too small, over the yearly cap, a reference used for another quantity or other
  services, a service not payable) writes nothing and keeps its problem document;
- a workflow that has not finished within the wait answers 202 (:class:`StillProcessing`): being
  processed, ask again with the same reference.

A payout is started and answered at once (202); views read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog

from dc_common.actors import Actor
from dc_common.db import Database
from dc_common.problems import Problem
from dc_wallet import repository
from dc_wallet.activities import Clock, utc_now
from dc_wallet.domain import (
    Refused,
    WalletPolicy,
    brussels_date,
    order_reference_used,
    order_refused,
    request_reference_used,
)
from dc_wallet.models import Order, PaperVoucher, Reconciliation, ReimbursementRequest
from dc_wallet.schemas import PaperState
from dc_wallet.starter import ChangeNotStarted, ChangeOutcome, ChangeRefused, WorkflowStarter
from dc_workflows.contracts.payments import (
    ChangeRefusal,
    OrderPlacement,
    Payout,
    RecordedChange,
    ReimbursementAsk,
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


class StillProcessing(Exception):
    """The change was taken but has not finished within the wait: ask again with the same
    reference for its outcome (nothing is done twice)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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
        wait: timedelta = timedelta(seconds=10),
    ) -> None:
        self._db = db
        self._policy = policy
        self._starter = starter
        self._clock = clock
        self._wait = wait

    @property
    def policy(self) -> WalletPolicy:
        return self._policy

    # -- orders -----------------------------------------------------------------------------

    async def order(
        self, user_number: str, reference: str, quantity: int, *, ordered_by: Actor
    ) -> Placed:
        """Place a paid order once per (user, reference): its vouchers issued and the services
        waiting for them paid, by its WalletChange."""
        if quantity < self._policy.minimum_order:
            raise _problem(
                order_refused(f"order too small: at least {self._policy.minimum_order} vouchers")
            )
        outcome = await self._run(
            WalletChange(
                kind=WalletChangeKind.PLACE_ORDER,
                key=f"{user_number}-{reference}",
                order=OrderPlacement(
                    user_number=user_number,
                    reference=reference,
                    quantity=quantity,
                    ordered_by=ordered_by,
                ),
            ),
            what=f"the order {reference}",
            not_done=f"nothing was recorded: the order {reference} was not placed",
        )
        async with repository.reading(self._db) as session:
            order = await repository.find_order(session, user_number, reference)
        if order is None:  # the change completed, so its order was written
            raise Problem(500, "Order missing", f"the order {reference} completed unrecorded")
        if order.quantity != quantity:
            raise _problem(order_reference_used(reference, order.quantity))
        placed = Placed(order, created=outcome.started and _created(outcome))
        log.info(
            "voucher order",
            user_number=user_number,
            reference=reference,
            quantity=quantity,
            created=placed.created,
        )
        return placed

    async def wallet(self, user_number: str) -> repository.WalletView:
        today = brussels_date(self._clock())
        async with repository.reading(self._db) as session:
            return await repository.wallet_view(session, user_number, today=today)

    # -- paper vouchers ---------------------------------------------------------------------

    async def check_paper_voucher(self, number: str) -> tuple[PaperState, PaperVoucher | None]:
        """valid, expired (after its last day, in Brussels), used, or unknown."""
        async with repository.reading(self._db) as session:
            voucher = await repository.paper_voucher(session, number)
        if voucher is None:
            return "unknown", None
        if voucher.used_on is not None:
            return "used", voucher
        if voucher.expiry_date < brussels_date(self._clock()):
            return "expired", voucher
        return "valid", voucher

    async def save_paper_voucher(self, number: str, voucher: dict[str, object]) -> None:
        async with repository.writing(self._db) as session:
            await repository.save_paper_voucher(session, {"number": number, **voucher})

    # -- reimbursement ----------------------------------------------------------------------

    async def request_reimbursement(
        self,
        company_id: str,
        reference: str,
        service_ids: Sequence[str],
        *,
        requested_by: Actor,
    ) -> Requested:
        """Reserve and submit the allocated vouchers of these services in a new request, once
        per (company, reference), by its WalletChange.

        The same reference again with the same services answers the first request; with other
        services it is refused (409)."""
        request_id = request_id_for(company_id, reference)
        outcome = await self._run(
            WalletChange(
                kind=WalletChangeKind.REQUEST_REIMBURSEMENT,
                key=request_id,
                request=ReimbursementAsk(
                    request_id=request_id,
                    company_id=company_id,
                    reference=reference,
                    service_ids=tuple(service_ids),
                    requested_by=requested_by,
                ),
            ),
            what=f"the reimbursement request {reference}",
            not_done=f"nothing was recorded: the reimbursement request {reference} was not made",
        )
        async with repository.reading(self._db) as session:
            request = await session.get(ReimbursementRequest, request_id)
            named = await repository.request_services(session, request_id)
        if request is None:
            raise Problem(500, "Request missing", f"the request {reference} completed unrecorded")
        if set(named) != set(service_ids):
            raise _problem(request_reference_used(reference, request_id))
        log.info(
            "reimbursement requested",
            request_id=request_id,
            company_id=company_id,
            vouchers=request.vouchers,
            created=outcome.started and _created(outcome),
        )
        return Requested(request, created=outcome.started and _created(outcome))

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

    async def payout(self, request_id: str, *, paid_by: Actor) -> PayoutStarted:
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
        change = WalletChange(
            kind=WalletChangeKind.PAY_OUT,
            key=request_id,
            payout=Payout(request_id=request_id, paid_by=paid_by),
        )
        try:
            await self._starter.start(change)
        except ChangeNotStarted as error:
            log.warning("wallet change not started", kind=change.kind.value, key=change.key)
            raise Problem(
                503, "Workflow service unavailable", "nothing was paid out; ask again"
            ) from error
        return PayoutStarted(request, started=True)

    # -- the reconciliation -----------------------------------------------------------------

    async def latest_reconciliation(self) -> Reconciliation:
        async with repository.reading(self._db) as session:
            run = await repository.latest_run(session)
        if run is None:
            raise Problem(404, "No reconciliation yet", "no reconciliation run has finished")
        return run

    # -- running a change -------------------------------------------------------------------

    async def _run(self, change: WalletChange, *, what: str, not_done: str) -> ChangeOutcome:
        try:
            outcome = await self._starter.run(change, wait=self._wait)
        except ChangeNotStarted as error:
            log.warning(
                "wallet change not started",
                kind=change.kind.value,
                key=change.key,
                error=str(error),
            )
            raise Problem(
                503,
                "Workflow service unavailable",
                f"{not_done}; try again with the same reference",
            ) from error
        except ChangeRefused as refused:
            raise _problem_of(refused.refusal) from None
        if outcome.result is None:
            raise StillProcessing(
                f"{what} is being processed; ask again with the same reference for its outcome"
            )
        return outcome


def _created(outcome: ChangeOutcome) -> bool:
    result: RecordedChange | None = outcome.result
    return result is not None and result.created


def _problem(refused: Refused) -> Problem:
    return Problem(
        refused.status,
        refused.title,
        refused.detail,
        errors=[{"field": field, "reason": reason} for field, reason in refused.errors]
        if refused.errors
        else None,
    )


def _problem_of(refusal: ChangeRefusal) -> Problem:
    return Problem(
        refusal.status,
        refusal.title,
        refusal.detail,
        errors=[{"field": e.field, "reason": e.reason} for e in refusal.errors] or None,
    )
