"""Contracts of the payment path: the wallet's activities, WalletChangeWorkflow and what the
lifecycle hears of a payment after "ready for voucher allocation" (11)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from dc_workflows.contracts.common import Frozen, Hours
from dc_workflows.status import ServiceStatus


class WalletActivity(StrEnum):
    """Activities of the wallet service, on TaskQueue.WALLET. Each is idempotent."""

    CLAIM_PAYMENT = "wallet.claim_payment"
    ALLOCATE_PENDING = "wallet.allocate_pending"
    SUBMIT_REIMBURSEMENT = "wallet.submit_reimbursement"
    PAY_OUT = "wallet.pay_out"
    EXPIRE_VOUCHERS = "wallet.expire_vouchers"


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


class ExpiryRun(Frozen):
    on: date


class PaymentUpdates(Frozen):
    """What a wallet activity changed: the services whose lifecycle must hear of it."""

    updates: tuple[PaymentUpdate, ...] = ()


class WalletChangeKind(StrEnum):
    ALLOCATE_PENDING = "allocate-pending"
    SUBMIT_REIMBURSEMENT = "submit-reimbursement"
    PAY_OUT = "pay-out"
    EXPIRE_VOUCHERS = "expire-vouchers"


class WalletChange(Frozen):
    """Input of WalletChangeWorkflow: one change in the wallet, and the lifecycles to tell."""

    kind: WalletChangeKind
    key: str = Field(description="business key: order reference, request id or expiry date")
    allocate: AllocatePending | None = None
    reimbursement: ReimbursementSubmission | None = None
    payout: Payout | None = None
    expiry: ExpiryRun | None = None


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
