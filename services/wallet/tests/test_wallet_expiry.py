"""Expiry and the 12-month rule: refunds to the cent, the refund policy's start, services that
no voucher can pay any more (20), and vouchers that must not be spent."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from dc_wallet.domain import WalletPolicy
from dc_workflows.contracts.payments import ExpiryRun
from services.wallet.tests.wallet_support import (
    COMPANY,
    USER,
    check_heard,
    check_invariants,
    snapshot,
    wallets,
)


def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}"


async def test_unused_vouchers_expire_after_their_last_day_and_are_refunded(
    tmp_path: Path,
) -> None:
    async with wallets(url(tmp_path)) as wallet:
        placed = await wallet.order(USER, "PAY-1", 10)
        assert placed.order.expiry_date == date(2026, 3, 10)
        on_last_day = await wallet.activities.expire_vouchers(ExpiryRun(on=date(2026, 3, 10)))
        state = await snapshot(wallet.db)
        assert on_last_day.updates == ()
        assert {v.state for v in state.vouchers} == {"available"}
        run = ExpiryRun(on=date(2026, 3, 11))
        first = await wallet.activities.expire_vouchers(run)
        assert await wallet.activities.expire_vouchers(run) == first  # idempotent per day
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        assert {v.state for v in state.vouchers} == {"refunded"}
        movements = sorted((e.kind, e.vouchers, e.amount_cents) for e in state.ledger)
        assert movements == [
            ("expired", 10, 10_000),
            ("issued", 10, 10_000),
            ("refunded", 10, 10_000),
        ]
        wallet.clock.advance(days=400)
        view = await wallet.desk.wallet(USER)
        assert (view.available, view.available_cents, view.by_expiry) == (0, 0, [])


async def test_before_the_refund_policy_expired_vouchers_are_not_refunded(
    tmp_path: Path,
) -> None:
    policy = WalletPolicy(refund_expired_from=date(2030, 1, 1))
    async with wallets(url(tmp_path), policy) as wallet:
        await wallet.order(USER, "PAY-1", 10)
        await wallet.activities.expire_vouchers(ExpiryRun(on=date(2026, 3, 11)))
        state = await snapshot(wallet.db)
        check_invariants(state, policy)
        assert {v.state for v in state.vouchers} == {"expired"}
        assert sorted(e.kind for e in state.ledger) == ["expired", "issued"]


async def test_an_expired_voucher_is_never_spent_even_before_the_expiry_run(
    tmp_path: Path,
) -> None:
    async with wallets(url(tmp_path)) as wallet:
        await wallet.order(USER, "old", 10)
        wallet.clock.advance(days=366)  # 2026-03-11: the vouchers' last day was yesterday
        result = await wallet.claim("svc", hours=2, service_date=wallet.clock.today)
        assert result.updates == ()
        await wallet.order(USER, "new", 10)
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        spent = [v for v in state.vouchers if v.state == "allocated"]
        assert {v.issue_date for v in spent} == {wallet.clock.today}


async def test_the_vouchers_that_expire_first_are_spent_first(tmp_path: Path) -> None:
    async with wallets(url(tmp_path)) as wallet:
        await wallet.order(USER, "march", 10)
        wallet.clock.advance(days=30)
        await wallet.order(USER, "april", 10)
        await wallet.claim("svc", hours=9)
        await wallet.claim("svc-2", hours=3)
        state = await snapshot(wallet.db)
        taken = {v.number: v.service_id for v in state.vouchers if v.service_id}
        march, april = (f"V{order:010d}" for order in (1, 2))  # the orders' numbers
        assert taken == {
            **{f"{march}{n:05d}": "svc" for n in range(1, 10)},
            f"{march}00010": "svc-2",
            f"{april}00001": "svc-2",
            f"{april}00002": "svc-2",
        }


async def test_a_service_no_voucher_can_pay_any_more_goes_to_20(tmp_path: Path) -> None:
    async with wallets(url(tmp_path)) as wallet:
        service_date = wallet.clock.today - timedelta(days=10)  # 2025-02-28
        assert (await wallet.claim("first", hours=9, service_date=service_date)).updates == ()
        wallet.clock.advance(hours=1)
        assert (await wallet.claim("late", hours=3, service_date=service_date)).updates == ()
        # Their window closes after 2026-02-28: the run of that day changes nothing ...
        wallet.clock.advance(days=355)
        assert wallet.clock.today == date(2026, 2, 28)
        run = await wallet.expire()
        assert run.updates == ()
        # ... vouchers bought that day may still pay them (the one ready first first) ...
        await wallet.order(USER, "last-chance", 10)
        assert wallet.lifecycles.history == {"first": [12], "late": [16]}
        # ... and the next day, its missing 2 can never be paid with vouchers.
        wallet.clock.advance(days=1)
        run = await wallet.expire()
        assert [(u.service_id, int(u.status), u.event) for u in run.updates] == [
            ("late", 20, "unpayable")
        ]
        assert run.updates[0].reason and "2 of 3 unpaid" in run.updates[0].reason
        # Its allocated voucher is still the company's to claim; the lifecycle, closed at 20,
        # hears nothing more.
        request = await wallet.request_reimbursement(COMPANY, "feb", ["late", "first"])
        assert wallet.lifecycles.history == {"first": [12, 13], "late": [16, 20]}
        assert request.request.vouchers == 1 + 9
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        check_heard(wallet.lifecycles, state)
        assert state.claim["late"].status == 20 and state.claim["late"].vouchers_submitted == 1


async def test_a_voucher_issued_more_than_12_months_after_the_service_never_pays_it(
    tmp_path: Path,
) -> None:
    async with wallets(url(tmp_path)) as wallet:
        service_date = wallet.clock.today - timedelta(days=366)  # 2024-03-09
        result = await wallet.claim("too-old", hours=2, service_date=service_date)
        # No voucher in the wallet, and none bought from today on could pay it: 20 at once.
        assert [(u.service_id, int(u.status)) for u in result.updates] == [("too-old", 20)]
        await wallet.order(USER, "PAY-1", 10)
        state = await snapshot(wallet.db)
        assert state.claim["too-old"].vouchers_allocated == 0
        assert {v.state for v in state.vouchers} == {"available"}
