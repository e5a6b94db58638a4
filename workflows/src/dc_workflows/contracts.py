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

from dc_common.actors import Actor as Actor
from dc_common.actors import ActorKind as ActorKind
from dc_workflows.status import ServiceStatus


class TaskQueue(StrEnum):
    LIFECYCLE = "lifecycle"
    SERVICES_MGMT = "services-mgmt"
    WALLET = "wallet"
    IMPORTS = "imports"


class ActivityName(StrEnum):
    PROJECT_SERVICE = "services.project_service"
    REQUEST_VALIDATION = "services.request_validation"
    SEND_REMINDER = "services.send_reminder"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


# -- imports: ImportWorkflow, the imports service's activities, services-mgmt's bulk ones -------


class ImportActivity(StrEnum):
    """Activities an import calls, by name: the first four on TaskQueue.IMPORTS, the last two
    (bulk work on services) on TaskQueue.SERVICES_MGMT. Each is idempotent."""

    PROCESS_CHUNK = "imports.process_chunk"
    UPSERT_WORKERS = "imports.upsert_workers"
    RECORD_OUTCOMES = "imports.record_outcomes"
    FINISH = "imports.finish"
    FIND_KNOWN_SERVICES = "services.find_known_services"
    REGISTER_BATCH = "services.register_batch"


class ImportKind(StrEnum):
    SERVICES = "services"
    WORKERS = "workers"


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RowFate(StrEnum):
    """What became of a row after the file's own checks: stored in its owning service, a
    duplicate (in the file or of a service already known), or rejected."""

    REGISTERED = "registered"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class ImportTuning(Frozen):
    """How an import runs, decided by the imports service's configuration at upload."""

    chunk_size: int = Field(default=1000, ge=1, le=50_000)
    chunks_per_run: int = Field(
        default=10, ge=1, description="chunks before the workflow continues as new"
    )
    register_concurrency: int = Field(
        default=32, ge=1, le=256, description="lifecycle workflows started at a time"
    )
    heartbeat_seconds: int = Field(default=30, ge=1)


class ImportCounts(Frozen):
    rows_total: int = Field(default=0, description="non-blank rows in the file, once it is read")
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    registered: int = 0
    flagged: int = 0


class ImportCursor(Frozen):
    """Where an import stands: carried across continue-as-new."""

    next_line: int = 2
    next_offset: int | None = None
    chunks_done: int = 0
    counts: ImportCounts = ImportCounts()


class StartImport(Frozen):
    """Input of ImportWorkflow (also of each run after continue-as-new, with its cursor)."""

    import_id: str
    company_id: str
    branch_id: str | None = None
    kind: ImportKind
    actor: Actor
    tuning: ImportTuning = ImportTuning()
    cursor: ImportCursor = ImportCursor()


class ImportProgress(Frozen):
    """The ``progress`` query of ImportWorkflow, and its memo in the Temporal UI."""

    import_id: str
    kind: ImportKind
    status: ImportStatus
    chunks_done: int
    next_line: int
    counts: ImportCounts
    failure: str | None = None


class ChunkRequest(Frozen):
    import_id: str
    start_line: int = Field(ge=2)
    start_offset: int | None = None
    size: int = Field(ge=1)


class ImportedService(Frozen):
    """An accepted row of a services file, to register."""

    line: int
    natural_key: str
    worker_login: str
    user_number: str
    service_date: date
    hours: Hours
    activity_type: ActivityCode
    branch_id: str | None = None


class ImportedWorker(Frozen):
    """An accepted row of a workers file, to upsert in identity."""

    line: int
    national_number: str
    first_name: str
    last_name: str
    login: str
    branch_id: str | None = None
    contract_start: date
    contract_end: date | None = None
    language: str = "nl"


class ChunkResult(Frozen):
    """One chunk read, validated and stored: the rows to register, where the next one starts."""

    start_line: int
    next_line: int
    next_offset: int | None = None
    done: bool
    failure: str | None = Field(default=None, description="the file was refused as a whole")
    services: tuple[ImportedService, ...] = ()
    workers: tuple[ImportedWorker, ...] = ()
    counts: ImportCounts = ImportCounts()


class KnownServicesQuery(Frozen):
    company_id: str
    natural_keys: tuple[str, ...]


class KnownServices(Frozen):
    """Natural key -> id of a service the read model already holds with that key."""

    known: dict[str, str] = {}


class FieldProblem(Frozen):
    field: str
    reason: str


class RowOutcome(Frozen):
    line: int
    fate: RowFate
    service_id: str | None = Field(
        default=None, description="the service started, or the one already known"
    )
    errors: tuple[FieldProblem, ...] = ()


class ServiceBatch(Frozen):
    """Accepted, not yet known services of one chunk: check their parties and start them."""

    import_id: str
    company_id: str
    branch_id: str | None = None
    registered_by: Actor
    services: tuple[ImportedService, ...]
    concurrency: int = Field(default=32, ge=1, le=256)


class WorkerBatch(Frozen):
    import_id: str
    company_id: str
    branch_id: str | None = None
    actor: Actor
    workers: tuple[ImportedWorker, ...]


class BatchOutcome(Frozen):
    rows: tuple[RowOutcome, ...] = ()


class ChunkOutcomes(Frozen):
    import_id: str
    start_line: int
    next_line: int
    rows: tuple[RowOutcome, ...]
