"""Contracts of ServiceLifecycleWorkflow and the services-mgmt activities it calls."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from dc_workflows.contracts.common import ActivityCode, Actor, Frozen, Hours
from dc_workflows.status import ServiceStatus


class ActivityName(StrEnum):
    PROJECT_SERVICE = "services.project_service"
    REQUEST_VALIDATION = "services.request_validation"
    SEND_REMINDER = "services.send_reminder"
    PROJECTED_PAYMENTS = "services.projected_payments"
    """Read by the wallet's reconciliation (contracts.payments.ProjectedPaymentsQuery)."""


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
