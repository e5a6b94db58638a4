"""The public HTTP contract of the wallet, also served by the gateway under /api/v1."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dc_common.actors import ActorOut
from dc_workflows.status import ServiceStatus

UserNumber = Annotated[str, Field(pattern=r"^\d{12}$", examples=["100000000011"])]
EnterpriseNumber = Annotated[str, Field(pattern=r"^\d{10}$", examples=["0403170701"])]
OrderReference = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
        description="The payment's reference: letters, digits and . _ : -, at most 64",
        examples=["PAY-2025-000123"],
    ),
]
CompanyReference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=25,
        pattern=r"^\S(?:.*\S)?$",
        description="The company's own reference, 1 to 25 characters, no surrounding blanks",
        examples=["2025-03 week 1"],
    ),
]
Cents = Annotated[int, Field(description="an amount in euro cents")]


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("must not name a service twice")
    return values


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderIn(In):
    reference: OrderReference
    quantity: Annotated[int, Field(ge=1, le=100_000, description="number of vouchers")]


class ProcessingOut(BaseModel):
    """Taken but not finished yet: ask again with the same reference for the outcome."""

    state: Literal["processing"] = "processing"
    detail: str


class OrderOut(BaseModel):
    user_number: str
    reference: str
    quantity: int
    unit_price_cents: Cents
    amount_cents: Cents
    paid_at: datetime
    issue_date: date
    expiry_date: date = Field(description="the last day the vouchers may be spent")
    first_voucher: str
    last_voucher: str
    ordered_by: ActorOut | None = Field(
        default=None, description="who ordered (none for orders recorded before this was kept)"
    )


class BalanceOut(BaseModel):
    vouchers: int = Field(description="available vouchers")
    value_cents: Cents = Field(description="what the available vouchers cost")


class ExpiryGroupOut(BaseModel):
    expiry_date: date = Field(description="the last day these vouchers may be spent")
    vouchers: int
    value_cents: Cents


class AllocationStepOut(BaseModel):
    step: int
    vouchers: int
    at: datetime


class ServicePaymentOut(BaseModel):
    service_id: str
    company_id: str
    branch_id: str | None
    service_date: date
    hours: int
    status: ServiceStatus
    status_label: str
    vouchers_allocated: int
    vouchers_submitted: int
    vouchers_reimbursed: int
    steps: list[AllocationStepOut]


class YearOut(BaseModel):
    year: int
    ordered: int
    cap: int
    left: int
    orders: list[OrderOut]


class WalletOut(BaseModel):
    user_number: str
    as_of: date = Field(description="today in Europe/Brussels")
    balance: BalanceOut
    vouchers_by_expiry: list[ExpiryGroupOut]
    allocations: list[ServicePaymentOut] = Field(
        description="the services this wallet pays or paid, newest service first"
    )
    orders_this_year: YearOut


class ReimbursementIn(In):
    company_id: EnterpriseNumber
    reference: CompanyReference
    service_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=128)]],
        Field(min_length=1, max_length=1000),
        AfterValidator(_distinct),
    ]


class ReimbursementOut(BaseModel):
    id: str
    company_id: str
    reference: str
    status: Literal["requested", "submitted", "paid"]
    created_at: datetime
    submitted_at: datetime | None
    paid_at: datetime | None
    vouchers: int
    voucher_value_cents: Cents
    amount_cents: Cents
    requested_by: ActorOut | None = Field(default=None, description="who asked reimbursement")
    paid_by: ActorOut | None = Field(default=None, description="who paid it out")


class StatementLineOut(BaseModel):
    service_id: str
    user_number: str
    branch_id: str | None
    service_date: date
    vouchers: int
    amount_cents: Cents


class StatementOut(ReimbursementOut):
    services: list[StatementLineOut]


class ReconciliationOut(BaseModel):
    """A finished run of the daily reconciliation of the wallet's payments against the
    services-mgmt read model."""

    key: str = Field(description="its workflow id in Temporal")
    since: datetime = Field(description="it checked the payments changed from this instant ...")
    until: datetime = Field(description="... up to this one")
    started_at: datetime
    finished_at: datetime
    checked: int = Field(description="services whose payment changed in the window")
    mismatched: int = Field(description="of those, shown otherwise by the read model")
    repaired: int = Field(description="of those, shown as the wallet says after a resend")
    unrepaired: list[str] = Field(description="service ids still shown otherwise (at most 100)")


#: The digits printed on a paper voucher.
PAPER_VOUCHER_NUMBER = r"^\d{8,16}$"


class PaperVoucherIn(In):
    """The issuer's record of a paper voucher."""

    issue_date: date
    expiry_date: date = Field(description="the last day it may be handed over")
    used_on: date | None = Field(default=None, description="when a company handed it in")


PaperState = Literal["valid", "expired", "used", "unknown"]


class PaperVoucherCheckOut(BaseModel):
    """What a worker learns of the paper voucher a household hands over."""

    number: str
    state: PaperState
    expiry_date: date | None
