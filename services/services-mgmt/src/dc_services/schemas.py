"""The public HTTP contract of services-mgmt, also served by the gateway under /api/v1."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dc_common.actors import ActorOut
from dc_common.answers import MAX_PAGE
from dc_workflows.contracts.lifecycle import VoucherKind
from dc_workflows.deadline import BRUSSELS
from dc_workflows.status import ServiceStatus

FIRST_SERVICE_DATE = date(2016, 1, 1)

EnterpriseNumber = Annotated[str, Field(pattern=r"^\d{10}$", examples=["0403170701"])]
BranchNumber = Annotated[str, Field(pattern=r"^\d{10}$", examples=["2147483647"])]
WorkerLogin = Annotated[str, Field(pattern=r"^980\d{9}$", examples=["980000000017"])]
UserNumber = Annotated[str, Field(pattern=r"^\d{12}$", examples=["100000000011"])]
Hours = Annotated[int, Field(ge=1, le=9, description="Whole hours; 1 voucher pays 1 hour")]
ActivityType = Annotated[
    int,
    Field(
        ge=1,
        le=4,
        description="1 household help, 2 household shopping, 3 ironing outside the home, "
        "4 transport of persons with reduced mobility",
    ),
]


def brussels_today() -> date:
    return datetime.now(BRUSSELS).date()


def _plausible_service_date(value: date) -> date:
    if value < FIRST_SERVICE_DATE:
        raise ValueError(f"must not be before {FIRST_SERVICE_DATE.isoformat()}")
    if value > brussels_today():
        raise ValueError("must not be in the future")
    return value


ServiceDate = Annotated[date, AfterValidator(_plausible_service_date)]
Voucher = Annotated[
    VoucherKind,
    Field(description="electronic (the household's wallet pays) or paper vouchers"),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceIn(Strict):
    """A service to register, as the worker or the company encodes it."""

    company_id: EnterpriseNumber
    branch_id: BranchNumber | None = Field(
        default=None, description="Defaults to the worker's branch"
    )
    worker_login: WorkerLogin
    user_number: UserNumber
    service_date: ServiceDate
    hours: Hours
    activity_type: ActivityType
    voucher: Voucher = VoucherKind.ELECTRONIC


class ServiceQuery(BaseModel):
    """The selection of a list of services (the query string), newest first, a page of it."""

    company_id: EnterpriseNumber | None = None
    branch_id: list[BranchNumber] = Field(default_factory=list, description="one or more")
    status: ServiceStatus | None = None
    worker_login: WorkerLogin | None = None
    user_number: UserNumber | None = None
    service_date_from: date | None = None
    service_date_to: date | None = None
    activity_type: ActivityType | None = None
    registered_from: date | None = Field(default=None, description="entry date from (Brussels)")
    registered_to: date | None = Field(default=None, description="entry date up to and including")
    payable: bool = Field(
        default=False,
        description="only services with allocated vouchers not yet submitted for reimbursement "
        "(what a reimbursement request may still ask)",
    )
    sort: Literal["newest", "oldest"] = Field(
        default="newest", description="by entry date: newest first, or oldest first"
    )
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="by number (deep pages cost more)")
    page_size: int = Field(default=50, ge=1, le=200)
    after: str | None = Field(
        default=None,
        max_length=200,
        description="the page after this position (a page's next_cursor): every page as fast",
    )
    before: str | None = Field(
        default=None, max_length=200, description="the page before this position (previous_cursor)"
    )


class TransitionIn(Strict):
    reason: str | None = Field(default=None, max_length=500)


class ContestIn(Strict):
    reason: str = Field(min_length=1, max_length=500, description="Why the user contests")


class ModificationIn(Strict):
    """The fields to change; at least one."""

    service_date: ServiceDate | None = None
    hours: Hours | None = None
    activity_type: ActivityType | None = None
    reason: str | None = Field(default=None, max_length=500)


class HistoryEntryOut(BaseModel):
    seq: int
    at: datetime
    event: str
    status: ServiceStatus
    status_label: str
    actor: ActorOut
    reason: str | None
    details: dict[str, object] | None


class ServiceOut(BaseModel):
    id: str
    status: ServiceStatus
    status_label: str
    company_id: str
    branch_id: str | None
    worker_login: str
    user_number: str
    service_date: date
    hours: int
    activity_type: int
    registered_at: datetime = Field(description="Entry date: when the service was registered")
    updated_at: datetime
    validation_deadline: datetime | None = Field(
        description="When the service validates automatically; null once that path is gone"
    )
    company_validated: bool
    user_confirmed: bool
    auto_validation_possible: bool
    vouchers_allocated: int = Field(description="vouchers paying this service so far")
    vouchers_submitted: int = Field(description="of which submitted for reimbursement")
    vouchers_reimbursed: int = Field(description="of which reimbursed to the company")
    voucher: Voucher
    version: int


class WorkerAnswerIn(Strict):
    """The worker's answer to a service the company encoded for them."""

    answer: Literal["confirmed", "correction"]
    reason: str | None = Field(
        default=None, max_length=500, description="what to correct (required for a correction)"
    )


class WorkerAnswerOut(BaseModel):
    answer: Literal["confirmed", "correction"]
    reason: str | None
    at: datetime


class ServiceDetailOut(ServiceOut):
    history: list[HistoryEntryOut]
    worker_answer: WorkerAnswerOut | None = Field(
        default=None, description="the worker's answer, for a service the company encoded"
    )


class EncodedForWorkerOut(ServiceOut):
    """A service the company encoded for the worker, with the worker's answer so far."""

    worker_answer: WorkerAnswerOut | None


class CustomerIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=30, pattern=r"^[0-9 +()./-]*$")
    note: str | None = Field(default=None, max_length=500)


class CustomerOut(BaseModel):
    user_number: str
    name: str
    phone: str | None
    note: str | None


class ServicePage(BaseModel):
    items: list[ServiceOut]
    page: int
    page_size: int
    total_services: int = Field(description="Services in the whole selection, all pages")
    total_hours: int = Field(description="Hours in the whole selection, all pages")
    next_cursor: str | None = Field(
        default=None, description="ask with after=this for the next page; null on the last"
    )
    previous_cursor: str | None = Field(
        default=None, description="ask with before=this for the page before; null on the first"
    )


class StatusCountOut(BaseModel):
    status: ServiceStatus
    status_label: str
    services: int
    hours: int


class StatusCounts(BaseModel):
    """The selection's services and hours per status (only the statuses it has)."""

    counts: list[StatusCountOut]


class WorkerTotalOut(BaseModel):
    worker_login: str
    services: int
    hours: int


class WorkerTotals(BaseModel):
    """The selection's services and hours per worker (only the workers it has)."""

    workers: list[WorkerTotalOut]


class ServiceViewOut(BaseModel):
    """Someone other than the household was shown one of its services."""

    id: int = Field(description="for the next page: before_id")
    at: datetime
    service_id: str
    service_date: date
    company_id: str
    viewer: ActorOut


class InboxItemOut(BaseModel):
    service_id: str
    kind: str
    created_at: datetime
