"""Contracts of the payment path: the wallet's activities, WalletChangeWorkflow, what the
lifecycle hears of a payment after "ready for voucher allocation" (11), and the daily
reconciliation of the wallet against the services-mgmt read model."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from dc_workflows.contracts.common import Actor, FieldProblem, Frozen, Hours
from dc_workflows.status import ServiceStatus


class WalletActivity(StrEnum):
    """Activities of the wallet service, on TaskQueue.WALLET. Each is idempotent."""

    CLAIM_PAYMENT = "wallet.claim_payment"
    ALLOCATE_PENDING = "wallet.allocate_pending"
    """Kept for WalletChange histories of kind allocate-pending (orders of the earlier API)."""
    SUBMIT_REIMBURSEMENT = "wallet.submit_reimbursement"
    """Kept for WalletChange histories of kind submit-reimbursement (requests of the earlier
    API)."""
    PAY_OUT = "wallet.pay_out"
    EXPIRE_VOUCHERS = "wallet.expire_vouchers"
    PLACE_ORDER = "wallet.place_order"
    """Check, record and issue an order and pay the waiting services, in one transaction."""
    REQUEST_REIMBURSEMENT = "wallet.request_reimbursement"
    """Check, record and submit a reimbursement request, in one transaction."""
    BEGIN_RECONCILIATION = "wallet.begin_reconciliation"
    CHANGED_PAYMENTS = "wallet.changed_payments"
    FINISH_RECONCILIATION = "wallet.finish_reconciliation"


#: The type of the (non-retryable) ApplicationError of a wallet change the wallet refuses: an
#: order too small, over the yearly cap or under a reference used for another quantity; a
#: request under a reference used for other services, or of services it cannot pay. Nothing is
#: written; ``details[0]`` is a :class:`ChangeRefusal`, and the WalletChange workflow fails with
#: it (so the same key may be tried again, and a client waiting for it hears why).
CHANGE_REFUSED = "WalletChangeRefused"


class ChangeRefusal(Frozen):
    """Why the wallet refused a change: the problem document the API answers."""

    status: int = Field(ge=400, le=499)
    title: str
    detail: str
    errors: tuple[FieldProblem, ...] = ()


class ServiceClaim(Frozen):
    """A service ready for voucher allocation asks its user's wallet to pay it."""

    service_id: str
    user_number: str
    company_id: str
    branch_id: str | None
    service_date: date
    hours: Hours
    ready_at: datetime


class PaymentUpdate(Frozen):
    """The payment state of one service changed in the wallet; the lifecycle reflects it.

    ``payment_version`` grows with every change of this service in the wallet, so a repeated or
    late update is recognised and ignored.
    """

    service_id: str
    payment_version: int = Field(ge=1)
    status: ServiceStatus
    vouchers_needed: int = Field(ge=1, le=9)
    vouchers_allocated: int = Field(ge=0, le=9)
    vouchers_submitted: int = Field(ge=0, le=9)
    vouchers_reimbursed: int = Field(ge=0, le=9)
    event: str = Field(description="what happened: allocated, reimbursement-requested, ...")
    reason: str | None = None


class AllocatePending(Frozen):
    """New vouchers reached a wallet: pay the services waiting for it, by priority."""

    user_number: str
    trigger: str = Field(description="idempotency key of what brought the vouchers")


class ReimbursementSubmission(Frozen):
    request_id: str


class Payout(Frozen):
    request_id: str
    paid_by: Actor | None = None
    """Who paid it out (an operator); None in histories of the earlier API."""


class OrderPlacement(Frozen):
    """A paid order of vouchers for a user's wallet, idempotent on (user, reference)."""

    user_number: str
    reference: str
    quantity: int = Field(ge=1)
    ordered_by: Actor


class ReimbursementAsk(Frozen):
    """A company asks reimbursement of the allocated vouchers of some of its services,
    idempotent on (company, reference), whose request id is ``request_id``."""

    request_id: str
    company_id: str
    reference: str
    service_ids: tuple[str, ...] = Field(min_length=1, max_length=1000)
    requested_by: Actor


class ExpiryRun(Frozen):
    on: date


class PaymentUpdates(Frozen):
    """What a wallet activity changed: the services whose lifecycle must hear of it.

    Read as this, a :class:`RecordedChange` (what a WalletChange of a recorded kind returns)
    keeps its updates and drops the rest."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    updates: tuple[PaymentUpdate, ...] = ()


class RecordedChange(PaymentUpdates):
    """What placing an order or asking reimbursement did: the updates for the lifecycles, and
    whether this change recorded the order or request (False: it was recorded before, by an
    earlier attempt under the same reference)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    created: bool = False


class WalletChangeKind(StrEnum):
    PLACE_ORDER = "place-order"
    REQUEST_REIMBURSEMENT = "request-reimbursement"
    PAY_OUT = "pay-out"
    EXPIRE_VOUCHERS = "expire-vouchers"
    ALLOCATE_PENDING = "allocate-pending"
    """Earlier API: the order was written first, then this change paid the waiting services."""
    SUBMIT_REIMBURSEMENT = "submit-reimbursement"
    """Earlier API: the request was written first, then this change submitted it."""


#: The kinds whose result the API waits for (their activity answers a RecordedChange).
RECORDED_KINDS = frozenset({WalletChangeKind.PLACE_ORDER, WalletChangeKind.REQUEST_REIMBURSEMENT})


class WalletChange(Frozen):
    """Input of WalletChangeWorkflow: one change in the wallet, and the lifecycles to tell."""

    kind: WalletChangeKind
    key: str = Field(
        description="business key: user and order reference, request id (of company and "
        "reference) or expiry date"
    )
    allocate: AllocatePending | None = None
    reimbursement: ReimbursementSubmission | None = None
    payout: Payout | None = None
    expiry: ExpiryRun | None = None
    order: OrderPlacement | None = None
    request: ReimbursementAsk | None = None


# -- reconciliation: the wallet's payments against the services-mgmt read model ----------------


class ProjectedPaymentsQuery(Frozen):
    """The payment state the services-mgmt read model holds for these services."""

    service_ids: tuple[str, ...] = Field(max_length=1000)


class ProjectedPayment(Frozen):
    status: ServiceStatus
    vouchers_allocated: int
    vouchers_submitted: int
    vouchers_reimbursed: int


class ProjectedPayments(Frozen):
    """Service id -> its projected payment; a service the read model does not hold is absent."""

    services: dict[str, ProjectedPayment] = Field(default_factory=dict)


class PageCursor(Frozen):
    """Where a page of changed claims ended (keyset: last change, then service id)."""

    changed_at: datetime
    service_id: str


class ReconciliationStart(Frozen):
    """The reconciliation run ``key`` (its workflow id) checks up to ``at`` less the settling
    margin (policy), from where the previous finished run ended; or the window given."""

    key: str
    at: datetime
    since: datetime | None = None
    until: datetime | None = None


class ReconciliationWindow(Frozen):
    key: str
    since: datetime
    until: datetime


class ChangedPaymentsPage(Frozen):
    """Claims whose payment changed in [since, until), after ``after``, oldest change first."""

    since: datetime
    until: datetime
    after: PageCursor | None = None
    limit: int = Field(default=1000, ge=1, le=1000)


class WalletPayments(Frozen):
    """Each service's latest payment update, as the wallet told (or would tell) its lifecycle;
    ``next`` is where the next page starts (None: the last page)."""

    updates: tuple[PaymentUpdate, ...] = ()
    next: PageCursor | None = None


class ReconciliationCounts(Frozen):
    checked: int = 0
    """Services whose payment the wallet changed in the window, compared with the read model."""
    mismatched: int = 0
    """Of those, the ones the read model shows otherwise than the wallet."""
    repaired: int = 0
    """Of those, the ones whose lifecycle was sent the wallet's latest update again (a running
    lifecycle applies it; payment versions make a repeat harmless)."""


class ReconciliationReport(Frozen):
    """The result of a reconciliation run: its window and counts, and (at most 100 of) the
    services that mismatch and could not be repaired (their lifecycle has ended)."""

    key: str
    since: datetime
    until: datetime
    counts: ReconciliationCounts
    unrepaired: tuple[str, ...] = ()


class ReconciliationRun(Frozen):
    """Input of the reconciliation workflow: empty when the daily schedule starts it; an
    operator may give the window. The rest carries a run across continue-as-new."""

    since: datetime | None = None
    until: datetime | None = None
    window: ReconciliationWindow | None = None
    after: PageCursor | None = None
    counts: ReconciliationCounts = ReconciliationCounts()
    unrepaired: tuple[str, ...] = ()


def payment_differs(update: PaymentUpdate, projected: ProjectedPayment | None) -> bool:
    """Whether the read model shows a service's payment otherwise than the wallet's update."""
    if projected is None:
        return True
    return (
        projected.status,
        projected.vouchers_allocated,
        projected.vouchers_submitted,
        projected.vouchers_reimbursed,
    ) != (
        update.status,
        update.vouchers_allocated,
        update.vouchers_submitted,
        update.vouchers_reimbursed,
    )
