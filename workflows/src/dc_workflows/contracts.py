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
    kind: ActorKind
    id: str = Field(min_length=1, max_length=64)


SYSTEM = Actor(kind=ActorKind.SYSTEM, id="lifecycle")

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


class NotificationRequest(Frozen):
    """Ask the company to validate and the user to confirm, or remind them."""

    service_id: str
    version: int
    parties: ServiceParties
    details: ServiceDetails
    validation_deadline: datetime | None
