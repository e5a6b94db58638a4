"""The pure rules: dates, order checks, status transitions, and properties of the plan."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dc_wallet.domain import (
    ClaimView,
    OrderRejected,
    VoucherView,
    WalletPolicy,
    add_months,
    brussels_date,
    check_order,
    expiry_date,
    is_expired,
    may_pay,
    past_window,
    plan_allocation,
    priority,
    status_after_allocation,
    status_after_payout,
    status_after_submission,
    window_lower_bound,
)
from dc_workflows.status import ServiceStatus as S

POLICY = WalletPolicy()


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 3, 15), 12, date(2026, 3, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 15), -12, date(2024, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_end_of_a_shorter_month(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_a_voucher_is_spendable_through_its_expiry_date_and_expired_the_day_after() -> None:
    issued = date(2025, 3, 15)
    last_day = expiry_date(issued, POLICY)
    assert last_day == date(2026, 3, 15)
    assert not is_expired(last_day, date(2026, 3, 15))
    assert is_expired(last_day, date(2026, 3, 16))


def test_a_voucher_pays_only_services_of_the_twelve_months_before_its_issue() -> None:
    service = date(2024, 5, 10)
    assert may_pay(date(2025, 5, 10), service, POLICY)
    assert not may_pay(date(2025, 5, 11), service, POLICY)
    assert may_pay(date(2024, 1, 1), service, POLICY)  # bought before the service: fine
    assert not past_window(service, date(2025, 5, 10), POLICY)
    assert past_window(service, date(2025, 5, 11), POLICY)


@given(st.dates(min_value=date(2016, 1, 1), max_value=date(2040, 1, 1)), st.integers(1, 24))
def test_the_window_filter_keeps_every_service_whose_window_closed(
    service_date: date, months: int
) -> None:
    policy = WalletPolicy(service_window_months=months)
    on = add_months(service_date, months) + timedelta(days=1)
    assert past_window(service_date, on, policy)
    assert service_date < window_lower_bound(on, policy)


def test_brussels_date_is_the_local_calendar_day() -> None:
    assert brussels_date(datetime(2025, 3, 9, 23, 30, tzinfo=UTC)) == date(2025, 3, 10)
    assert brussels_date(datetime(2025, 7, 9, 21, 59, tzinfo=UTC)) == date(2025, 7, 9)
    assert brussels_date(datetime(2025, 7, 9, 22, 0, tzinfo=UTC)) == date(2025, 7, 10)


def test_orders_too_small_or_over_the_yearly_cap_are_refused() -> None:
    check_order(10, 0, POLICY)
    check_order(500, 0, POLICY)
    check_order(20, 480, POLICY)
    with pytest.raises(OrderRejected, match="order too small") as small:
        check_order(9, 0, POLICY)
    assert not small.value.conflict
    with pytest.raises(OrderRejected, match="yearly cap exceeded: 15 left this year") as cap:
        check_order(20, 485, POLICY)
    assert cap.value.conflict


def test_statuses_after_allocation() -> None:
    assert status_after_allocation(4, 0, 4) == S.ALLOCATED
    assert status_after_allocation(4, 0, 2) == S.PARTIALLY_ALLOCATED_FIRST
    assert status_after_allocation(4, 2, 3) == S.PARTIALLY_ALLOCATED_SECOND
    assert status_after_allocation(4, 3, 4) == S.PARTIALLY_ALLOCATED_LAST
    with pytest.raises(ValueError):
        status_after_allocation(4, 3, 5)


def test_statuses_after_submission_and_payout() -> None:
    assert status_after_submission(S.PARTIALLY_ALLOCATED_FIRST, 4, 2, 2) == S.PARTIALLY_REIMBURSED
    assert status_after_submission(S.ALLOCATED, 4, 4, 4) == S.REIMBURSEMENT_REQUESTED
    assert status_after_submission(S.PARTIALLY_ALLOCATED_LAST, 4, 4, 4) == (
        S.REIMBURSEMENT_REQUESTED
    )
    assert status_after_submission(S.PARTIALLY_ALLOCATED_LAST, 4, 4, 2) == (
        S.PARTIALLY_ALLOCATED_LAST
    )
    assert status_after_payout(S.PARTIALLY_REIMBURSED, 4, 2, 2) == S.PARTIALLY_REIMBURSED
    assert status_after_payout(S.REIMBURSEMENT_REQUESTED, 4, 4, 2) == S.REIMBURSEMENT_REQUESTED
    assert status_after_payout(S.REIMBURSEMENT_REQUESTED, 4, 4, 4) == S.REIMBURSED
    assert status_after_payout(S.PAY_OUTSIDE_VOUCHERS, 4, 2, 2) == S.PAY_OUTSIDE_VOUCHERS


# -- the plan, on random wallets ------------------------------------------------------------------

TODAY = date(2025, 6, 1)
READY = datetime(2025, 6, 1, 8, tzinfo=UTC)


@st.composite
def claims(draw: st.DrawFn) -> list[ClaimView]:
    result = []
    for index in range(draw(st.integers(0, 8))):
        hours = draw(st.integers(1, 9))
        status = draw(st.sampled_from([11, 16, 17, 18]))
        allocated = 0 if status == 11 else draw(st.integers(1, hours - 1)) if hours > 1 else 0
        if hours == 1 and status != 11:
            status = 11
        result.append(
            ClaimView(
                service_id=f"S{index}",
                service_date=TODAY - timedelta(days=draw(st.integers(0, 500))),
                ready_at=READY + timedelta(minutes=draw(st.integers(0, 5))),
                hours=hours,
                allocated=allocated,
                status=S(status),
            )
        )
    return result


@st.composite
def vouchers(draw: st.DrawFn) -> list[VoucherView]:
    result = []
    for index in range(draw(st.integers(0, 30))):
        issued = TODAY - timedelta(days=draw(st.integers(0, 420)))
        result.append(VoucherView(f"V{index:04d}", issued, expiry_date(issued, POLICY)))
    return result


def usable(voucher: VoucherView, claim: ClaimView) -> bool:
    return not is_expired(voucher.expiry_date, TODAY) and may_pay(
        voucher.issue_date, claim.service_date, POLICY
    )


@settings(max_examples=400)
@given(claims(), vouchers())
def test_the_plan_spends_each_voucher_once_by_priority_and_expiry(
    waiting: list[ClaimView], wallet: list[VoucherView]
) -> None:
    plan = plan_allocation(waiting, wallet, TODAY, POLICY)
    by_id = {claim.service_id: claim for claim in waiting}
    by_number = {voucher.number: voucher for voucher in wallet}
    spent = [number for step in plan.steps for number in step.vouchers]
    assert len(spent) == len(set(spent)), "a voucher spent twice"
    left = [voucher for voucher in wallet if voucher.number not in set(spent)]
    for step in plan.steps:
        claim = by_id[step.service_id]
        taken = [by_number[number] for number in step.vouchers]
        assert 0 < len(taken) <= claim.remaining, "over-paid"
        assert all(usable(voucher, claim) for voucher in taken)
        latest = max(voucher.expiry_date for voucher in taken)
        assert all(v.expiry_date >= latest for v in left if usable(v, claim)), "expiry order"
    assert [step.service_id for step in plan.steps] == [
        claim.service_id
        for claim in sorted(waiting, key=priority)
        if plan.step_for(claim.service_id) is not None
    ]
    for claim in waiting:
        step = plan.step_for(claim.service_id)
        got = len(step.vouchers) if step else 0
        if got < claim.remaining:
            assert not any(usable(voucher, claim) for voucher in left), "left a usable voucher"
            # whatever went to a service of lower priority could not have paid this one
            for other in waiting:
                other_step = plan.step_for(other.service_id)
                if other_step and priority(other) > priority(claim):
                    assert not any(usable(by_number[n], claim) for n in other_step.vouchers)
        assert (claim.service_id in plan.unpayable) == (
            got < claim.remaining and past_window(claim.service_date, TODAY, POLICY)
        )


def test_priority_partially_reimbursed_then_partially_paid_then_waiting_oldest_first() -> None:
    def claim(service_id: str, status: int, days_ago: int, allocated: int) -> ClaimView:
        return ClaimView(
            service_id=service_id,
            service_date=TODAY - timedelta(days=days_ago),
            ready_at=READY,
            hours=4,
            allocated=allocated,
            status=S(status),
        )

    waiting = [
        claim("new-waiting", 11, 1, 0),
        claim("old-waiting", 11, 30, 0),
        claim("partial-second", 18, 5, 3),
        claim("partial-first", 16, 10, 2),
        claim("partially-reimbursed", 17, 2, 2),
    ]
    issued = TODAY - timedelta(days=3)
    wallet = [VoucherView(f"V{i}", issued, expiry_date(issued, POLICY)) for i in range(7)]
    plan = plan_allocation(waiting, wallet, TODAY, POLICY)
    assert [(step.service_id, len(step.vouchers)) for step in plan.steps] == [
        ("partially-reimbursed", 2),
        ("partial-first", 2),
        ("partial-second", 1),
        ("old-waiting", 2),
    ]
