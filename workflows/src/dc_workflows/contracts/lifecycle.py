"""Contracts of ServiceLifecycleWorkflow and the services-mgmt activities it calls."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from dc_workflows.contracts.common import ActivityCode, Actor, Frozen, Hours
from dc_workflows.status import ServiceStatus

#: The type of the error an update fails with when the change would make the service a
#: duplicate; its first detail is the id of the service it would duplicate.
DUPLICATE_SERVICE = "DuplicateService"


class ActivityName(StrEnum):
    PROJECT_SERVICE = "services.project_service"
    REQUEST_VALIDATION = "services.request_validation"
    SEND_REMINDER = "services.send_reminder"
    MOVE_KEY = "services.move_key"
    """The natural key of a modified service moves with it (the duplicate rule)."""
    PROJECTED_PAYMENTS = "services.projected_payments"
    """Read by the wallet's reconciliation (contracts.payments.ProjectedPaymentsQuery)."""


class ServiceDetails(Frozen):
    """What was performed: the fields a modification may change."""

    service_date: date
    hours: Hours
    activity_type: ActivityCode


class VoucherKind(StrEnum):
    """What the household pays the service with."""

    ELECTRONIC = "electronic"
    """From the electronic wallet: the lifecycle asks the wallet to allocate."""
    PAPER = "paper"
    """Paper vouchers the worker takes along: the company hands them in itself."""


class ServiceParties(Frozen):
    """Who is involved, and how the household pays: fixed for the life of the service."""

    company_id: str
    branch_id: str | None = None
    worker_login: str
    user_number: str
    voucher: VoucherKind = VoucherKind.ELECTRONIC


class WindowUnit(StrEnum):
    """How the days of the validation window are counted, in Brussels."""

    CALENDAR = "calendar"
    """Every day (the product brief: 5 calendar days)."""
    WORKING = "working"
    """Monday to Friday but Belgian public holidays (the Flemish rules since June 2025)."""


class LifecyclePolicy(Frozen):
    """Policy values decided by configuration when the service is registered."""

    validation_window_days: int = Field(default=5, ge=1)
    reminder_lead_hours: int = Field(default=24, ge=0)
    window_unit: WindowUnit = WindowUnit.CALENDAR


class RegisterService(Frozen):
    """Input of ServiceLifecycleWorkflow."""

    service_id: str
    parties: ServiceParties
    details: ServiceDetails
    registered_by: Actor
    policy: LifecyclePolicy = LifecyclePolicy()
    local_activities: bool = False
    """services-mgmt's activities run local to the workflow: it was started on the queue whose
    worker, services-mgmt's, hosts them (``TaskQueue.SERVICE_LIFECYCLE``). False for the
    lifecycles begun before, on ``TaskQueue.LIFECYCLE``."""


class Transition(Frozen):
    """A request of a party to change the state: who asks and why."""

    actor: Actor
    reason: str | None = Field(default=None, max_length=500)


class DetailChanges(Frozen):
    """The fields a modification changes; those left out keep the workflow's own values."""

    service_date: date | None = None
    hours: Hours | None = None
    activity_type: ActivityCode | None = None


class Modification(Transition):
    """A change by the company. ``changes`` names only the fields it changes, so two
    modifications at once both apply; ``details`` is the older form (the full new details),
    still accepted from histories recorded before ``changes``."""

    changes: DetailChanges | None = None
    details: ServiceDetails | None = None

    def applied_to(self, current: ServiceDetails) -> ServiceDetails:
        if self.details is not None:
            return self.details
        wanted = self.changes.model_dump(exclude_none=True) if self.changes else {}
        return current.model_copy(update=wanted)


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


class KeyMove(Frozen):
    """A modified service asks to hold the natural key of its new details."""

    service_id: str
    parties: ServiceParties
    details: ServiceDetails


class KeyHolder(Frozen):
    """Which service holds the natural key: the one that asked, or the one it duplicates."""

    service_id: str


class NotificationRequest(Frozen):
    """Ask the company to validate and the user to confirm, or remind them."""

    service_id: str
    version: int
    parties: ServiceParties
    details: ServiceDetails
    validation_deadline: datetime | None
    modified: bool = Field(
        default=False, description="asked again because the company corrected the service"
    )
