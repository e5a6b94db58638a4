"""The wallet's rules, free of I/O: dates, which voucher may pay which service, the allocation
plan (priority and expiry order), and the payment status of a service after each change.

Dates:

- A voucher issued on ``issue_date`` has ``expiry_date = issue_date + validity months`` (12 by
  default, clamped to the end of a shorter month: 29 Feb 2024 + 12 months = 28 Feb 2025).
  ``expiry_date`` is the **last day the voucher may be spent**: it is expired from the next day on
  (``expiry_date < today``), and the expiry run of day D expires the vouchers whose expiry date is
  before D.
- A voucher may pay a service only when it was issued at most ``service_window_months`` (12)
  after the service date: ``issue_date <= service_date + 12 months``.
- "Today" is the calendar date in Europe/Brussels.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from dc_workflows.deadline import BRUSSELS
from dc_workflows.status import ServiceStatus as S


@dataclass(frozen=True)
class WalletPolicy:
    """Policy values, from configuration (see :class:`~dc_wallet.settings.WalletSettings`)."""

    voucher_price_cents: int = 1000
    voucher_validity_months: int = 12
    service_window_months: int = 12
    minimum_order: int = 10
    yearly_cap: int = 500
    reimbursement_value_cents: int = 2752
    refund_expired_from: date = date(2025, 1, 1)


class VoucherState(StrEnum):
    AVAILABLE = "available"
    ALLOCATED = "allocated"
    SUBMITTED = "submitted"
    REIMBURSED = "reimbursed"
    EXPIRED = "expired"
    """Expired and not refunded (expiries before the refund policy of 2025)."""
    REFUNDED = "refunded"
    """Expired unused and its price paid back to the user."""


#: States of a voucher that belongs to a service.
SPENT = frozenset({VoucherState.ALLOCATED, VoucherState.SUBMITTED, VoucherState.REIMBURSED})


class LedgerKind(StrEnum):
    """Wallet movements. Vouchers and cents are positive; the kind says the direction:
    ``issued`` adds to the balance, ``allocated`` and ``expired`` take from it, ``refunded`` is
    the money paid back to the user for expired vouchers."""

    ISSUED = "issued"
    ALLOCATED = "allocated"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class Event(StrEnum):
    """What happened to a service's payment (``PaymentUpdate.event``)."""

    ALLOCATED = "allocated"
    REIMBURSEMENT_REQUESTED = "reimbursement-requested"
    REIMBURSED = "reimbursed"
    UNPAYABLE = "unpayable"


#: Statuses of a service still waiting for vouchers (when it needs more than it has).
AWAITING_VOUCHERS = frozenset(
    {
        S.READY_FOR_ALLOCATION,
        S.PARTIALLY_ALLOCATED_FIRST,
        S.PARTIALLY_REIMBURSED,
        S.PARTIALLY_ALLOCATED_SECOND,
    }
)
#: Priority when new vouchers arrive: partially reimbursed first, then the other partially
#: paid, then those with none allocated.
_TIER = {
    S.PARTIALLY_REIMBURSED: 0,
    S.PARTIALLY_ALLOCATED_FIRST: 1,
    S.PARTIALLY_ALLOCATED_SECOND: 1,
    S.READY_FOR_ALLOCATION: 2,
}


# -- dates ------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def brussels_date(instant: datetime) -> date:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(BRUSSELS).date()


def expiry_date(issue_date: date, policy: WalletPolicy) -> date:
    """The last day a voucher issued on ``issue_date`` may be spent."""
    return add_months(issue_date, policy.voucher_validity_months)


def is_expired(expiry: date, today: date) -> bool:
    return expiry < today


def may_pay(issue_date: date, service_date: date, policy: WalletPolicy) -> bool:
    """A voucher pays only services performed in the window before its issue date."""
    return issue_date <= add_months(service_date, policy.service_window_months)


def past_window(service_date: date, today: date, policy: WalletPolicy) -> bool:
    """No voucher issued from today on may pay this service any more."""
    return not may_pay(today, service_date, policy)


def window_lower_bound(on: date, policy: WalletPolicy) -> date:
    """Every service whose window has closed by ``on`` was performed before this date (a month
    is at least 28 days): a cheap filter before :func:`past_window` decides."""
    return on - timedelta(days=28 * policy.service_window_months)


# -- refusals: what the wallet does not do, and why -------------------------------------------


class Refused(Exception):
    """A change the wallet refuses; nothing of it is written. What its caller hears: a status,
    a title, a detail, and the fields at fault with their reasons."""

    def __init__(
        self, status: int, title: str, detail: str, errors: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = tuple(errors)


def order_refused(reason: str, *, conflict: bool = False) -> Refused:
    """Too small (422), or over the yearly cap (409, ``conflict``)."""
    return Refused(
        409 if conflict else 422, "Order refused", f"quantity: {reason}", [("quantity", reason)]
    )


def order_reference_used(reference: str, quantity: int) -> Refused:
    return Refused(
        409,
        "Order reference already used",
        f"reference: {reference} is the order of {quantity} vouchers",
        [("reference", "already used")],
    )


def request_reference_used(reference: str, request_id: str) -> Refused:
    return Refused(
        409,
        "Reference already used",
        f"reference: {reference} names another reimbursement request ({request_id}) of other "
        "services",
        [("reference", "already used")],
    )


def unpayable_services(
    service_ids: Sequence[str],
    company_id: str,
    companies: dict[str, str],
    payable: dict[str, int],
) -> list[tuple[str, str]]:
    """The services of a reimbursement request that cannot be paid, as (field, reason):
    ``companies`` names the company of each service the wallet pays, ``payable`` the vouchers
    allocated to each and in no request yet."""
    errors = []
    for index, service_id in enumerate(service_ids):
        company = companies.get(service_id)
        if company is None:
            why = "no wallet pays it (not ready for voucher allocation, or unknown)"
        elif company != company_id:
            why = f"not a service of company {company_id}"
        elif payable.get(service_id, 0) == 0:
            why = "no allocated vouchers that are not yet submitted"
        else:
            continue
        errors.append((f"service_ids.{index}", f"service not payable: {service_id}: {why}"))
    return errors


def not_payable(errors: Sequence[tuple[str, str]]) -> Refused:
    return Refused(
        422,
        "Service not payable",
        "; ".join(f"{field}: {reason}" for field, reason in errors),
        errors,
    )


# -- orders -----------------------------------------------------------------------------------


class OrderRejected(Exception):
    def __init__(self, reason: str, *, conflict: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.conflict = conflict
        """True when the order is refused because of earlier orders, not its own content."""


def check_order(quantity: int, ordered_this_year: int, policy: WalletPolicy) -> None:
    """Raise :class:`OrderRejected` when an order of ``quantity`` vouchers is not allowed."""
    if quantity < policy.minimum_order:
        raise OrderRejected(
            f"order too small: at least {policy.minimum_order} vouchers", conflict=False
        )
    left = max(policy.yearly_cap - ordered_this_year, 0)
    if quantity > left:
        raise OrderRejected(f"yearly cap exceeded: {left} left this year", conflict=True)


# -- allocation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimView:
    """What the plan needs of a service waiting for or receiving payment."""

    service_id: str
    service_date: date
    ready_at: datetime
    hours: int
    allocated: int
    status: S

    @property
    def remaining(self) -> int:
        return self.hours - self.allocated

    @property
    def awaiting_vouchers(self) -> bool:
        return self.status in AWAITING_VOUCHERS and self.remaining > 0


@dataclass(frozen=True)
class VoucherView:
    number: str
    issue_date: date
    expiry_date: date


def priority(claim: ClaimView) -> tuple[int, date, datetime, str]:
    """Smaller first: status tier, then the oldest service, then the first ready."""
    return (_TIER[claim.status], claim.service_date, claim.ready_at, claim.service_id)


def spending_order(voucher: VoucherView) -> tuple[date, str]:
    """The voucher that expires first is spent first."""
    return (voucher.expiry_date, voucher.number)


def usable(voucher: VoucherView, claim: ClaimView, today: date, policy: WalletPolicy) -> bool:
    return not is_expired(voucher.expiry_date, today) and may_pay(
        voucher.issue_date, claim.service_date, policy
    )


@dataclass(frozen=True)
class Step:
    """Vouchers allocated to one service in one allocation."""

    service_id: str
    vouchers: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    """In priority order, at most one per service."""
    unpayable: tuple[str, ...]
    """Services still short after the plan that no voucher can ever pay again (to 20)."""

    def step_for(self, service_id: str) -> Step | None:
        return next((step for step in self.steps if step.service_id == service_id), None)


def plan_allocation(
    claims: Iterable[ClaimView],
    vouchers: Iterable[VoucherView],
    today: date,
    policy: WalletPolicy,
) -> Plan:
    """Allocate the available vouchers to the services waiting for them.

    Services in priority order (:func:`priority`); each takes, of the vouchers still free that
    may pay it and have not expired, the ones that expire first, as many as it still needs.
    A service still short afterwards whose window has closed (today is more than 12 months after
    the service date) can never be paid with vouchers: every voucher that might have paid it was
    just offered to it, and a voucher issued from now on is too late.
    """
    pool = sorted(
        (voucher for voucher in vouchers if not is_expired(voucher.expiry_date, today)),
        key=spending_order,
    )
    steps: list[Step] = []
    unpayable: list[str] = []
    for claim in sorted((c for c in claims if c.awaiting_vouchers), key=priority):
        taken: list[VoucherView] = []
        for voucher in pool:
            if len(taken) == claim.remaining:
                break
            if may_pay(voucher.issue_date, claim.service_date, policy):
                taken.append(voucher)
        if taken:
            spent = {voucher.number for voucher in taken}
            pool = [voucher for voucher in pool if voucher.number not in spent]
            steps.append(Step(claim.service_id, tuple(voucher.number for voucher in taken)))
        if len(taken) < claim.remaining and past_window(claim.service_date, today, policy):
            unpayable.append(claim.service_id)
    return Plan(steps=tuple(steps), unpayable=tuple(unpayable))


# -- status of a service's payment -------------------------------------------------------------


def status_after_allocation(hours: int, allocated_before: int, allocated_after: int) -> S:
    """16 for a first partial allocation, 18 for a further one, 19 for the one that completes
    it, 12 when it is paid in one go."""
    if not 0 <= allocated_before < allocated_after <= hours:
        raise ValueError(f"cannot allocate {allocated_before} -> {allocated_after} of {hours}")
    first = allocated_before == 0
    if allocated_after == hours:
        return S.ALLOCATED if first else S.PARTIALLY_ALLOCATED_LAST
    return S.PARTIALLY_ALLOCATED_FIRST if first else S.PARTIALLY_ALLOCATED_SECOND


def status_after_submission(status: S, hours: int, allocated: int, submitted: int) -> S:
    """Partially paid: 17. Fully paid with every voucher submitted: 13. Fully paid with vouchers
    still to submit (a later allocation completed it meanwhile): unchanged (12 or 19)."""
    if status == S.PAY_OUTSIDE_VOUCHERS:
        return status
    if allocated < hours:
        return S.PARTIALLY_REIMBURSED
    if submitted == hours:
        return S.REIMBURSEMENT_REQUESTED
    return status


def status_after_payout(status: S, hours: int, allocated: int, reimbursed: int) -> S:
    """14 once fully paid and every voucher reimbursed; otherwise unchanged (17 stays 17)."""
    if status == S.PAY_OUTSIDE_VOUCHERS:
        return status
    if allocated == hours and reimbursed == hours:
        return S.REIMBURSED
    return status


def sorted_users(users: Sequence[str] | Iterable[str]) -> list[str]:
    """Wallets are always locked in this order, so two multi-wallet writers never deadlock."""
    return sorted(set(users))
