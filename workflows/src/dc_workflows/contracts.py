"""Contracts shared by the workflows and the services' activities.

Everything that crosses a process boundary through Temporal is one of these pydantic models, and
every activity is called by the name defined here, on the task queue defined here, so workflows
never import service code.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from dc_workflows.status import ServiceStatus


class TaskQueue(StrEnum):
    LIFECYCLE = "lifecycle"
    SERVICES_MGMT = "services-mgmt"
    WALLET = "wallet"


class ActivityName(StrEnum):
    PROJECT_SERVICE = "services.project_service"
    REQUEST_VALIDATION = "services.request_validation"
    SEND_REMINDER = "services.send_reminder"


class ActorKind(StrEnum):
    COMPANY = "company"
    USER = "user"
    WORKER = "worker"
    OPERATOR = "operator"
    SYSTEM = "system"


class ActivityType(StrEnum):
    """Kept as the numeric code of the brief, named for readers."""

    HOUSEHOLD_HELP = "1"
    SHOPPING = "2"
    IRONING_OUTSIDE = "3"
    TRANSPORT = "4"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Frozen):
    """Who acts: the party (a company, a user, a worker...) and the person acting for it."""

    kind: ActorKind
    id: str = Field(min_length=1, max_length=64)
    person: str | None = Field(default=None, max_length=64, description="national number")


SYSTEM = Actor(kind=ActorKind.SYSTEM, id="lifecycle")
WALLET = Actor(kind=ActorKind.SYSTEM, id="wallet")

Hours = Annotated[int, Field(ge=1, le=9)]
ActivityCode = Annotated[int, Field(ge=1, le=4)]


class ServiceDetails(Frozen):
    """What was performed: the fields a modification may change."""

    service_date: date
    hours: Hours
    activity_type: ActivityCode


class ServiceParties(Frozen):
    """Who is involved: fixed for the life of the service."""

    company_id: str
    branch_id: str | None = None
    worker_login: str
    user_number: str


class LifecyclePolicy(Frozen):
    """Policy values decided by configuration when the service is registered."""

    validation_window_days: int = Field(default=5, ge=1)
    reminder_lead_hours: int = Field(default=24, ge=0)


class RegisterService(Frozen):
    """Input of ServiceLifecycleWorkflow."""

    service_id: str
    parties: ServiceParties
    details: ServiceDetails
    registered_by: Actor
    policy: LifecyclePolicy = LifecyclePolicy()


class Transition(Frozen):
    """A request of a party to change the state: who asks and why."""

    actor: Actor
    reason: str | None = Field(default=None, max_length=500)


class Modification(Transition):
    details: ServiceDetails


class HistoryEntry(Frozen):
    seq: int
    at: datetime
    event: str
    status: ServiceStatus
    actor: Actor
    reason: str | None = None
    details: ServiceDetails | None = None


class ServiceState(Frozen):
    """The whole state of one service, as the lifecycle workflow holds it and projects it."""

    service_id: str
    version: int
    status: ServiceStatus
    parties: ServiceParties
    details: ServiceDetails
    registered_at: datetime
    updated_at: datetime
    validation_deadline: datetime | None
    company_validated: bool
    user_confirmed: bool
    auto_validation_possible: bool
    history: tuple[HistoryEntry, ...]
    vouchers_allocated: int = 0
    vouchers_submitted: int = 0
    vouchers_reimbursed: int = 0


class NotificationRequest(Frozen):
    """Ask the company to validate and the user to confirm, or remind them."""

    service_id: str
    version: int
    parties: ServiceParties
    details: ServiceDetails
    validation_deadline: datetime | None


# -- payment: the wallet service and the lifecycle after "ready for voucher allocation" (11) --


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
