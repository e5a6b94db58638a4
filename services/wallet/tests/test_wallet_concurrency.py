"""Many writers on one wallet at once, each with its own connection pool (as separate worker and
API processes would be): no voucher spent twice, no order issued twice, totals right.

On PostgreSQL (127.0.0.1:5432, skipped with the reason when it is not running) the wallet row
lock serialises them; on SQLite, ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from dc_common.problems import Problem
from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.service import WalletDesk
from dc_workflows.contracts.payments import AllocatePending, PaymentUpdates, ServiceClaim
from services.wallet.tests.wallet_support import (
    COMPANY,
    DIALECTS,
    OTHER_USER,
    USER,
    Wallets,
    check_allocation_run,
    check_invariants,
    snapshot,
    temporary_database,
    wallets,
)

T = TypeVar("T")
PROCESSES = 3


@asynccontextmanager
async def processes(wallet: Wallets, url: str) -> AsyncIterator[list[WalletActivities]]:
    """Activities of several 'processes', each with its own engine and connection pool."""
    async with AsyncExitStack() as stack:
        result = []
        for _ in range(PROCESSES):
            db = repository.open_database(url)
            stack.push_async_callback(db.dispose)
            result.append(WalletActivities(db, wallet.policy, wallet.clock))
        yield result


def claim(wallet: Wallets, index: int, hours: int) -> ServiceClaim:
    return ServiceClaim(
        service_id=f"svc-{index:02d}",
        user_number=USER,
        company_id=COMPANY,
        branch_id=None,
        service_date=wallet.clock.today - timedelta(days=index % 7),
        hours=hours,
        ready_at=wallet.clock.now,
    )


async def together(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Start every call at once (shuffled), after one common barrier."""
    start = asyncio.Event()

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        await start.wait()
        return await call()

    random.shuffle(calls)
    tasks = [asyncio.create_task(one(call)) for call in calls]
    await asyncio.sleep(0)
    start.set()
    return await asyncio.gather(*tasks)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_many_allocations_for_one_wallet_at_once_spend_no_voucher_twice(
    dialect: str, tmp_path: Path
) -> None:
    async with (
        temporary_database(dialect, tmp_path) as url,
        wallets(url) as wallet,
        processes(wallet, url) as workers,
    ):
        for reference in ("a", "b", "c"):
            await wallet.desk.order(USER, reference, 10)
        wallet.starter.take()  # their allocations run below, concurrently with the rest
        hours = [(index % 9) + 1 for index in range(20)]  # 1..9: 100 hours for 30 vouchers
        claims = [claim(wallet, index, hours[index]) for index in range(20)]
        before = await snapshot(wallet.db)
        calls: list[Callable[[], Awaitable[PaymentUpdates]]] = []
        for index, service in enumerate(claims):
            worker = workers[index % PROCESSES]
            calls.append(lambda w=worker, c=service: w.claim_payment(c))
            if index < 5:  # the same claim retried while the first attempt runs
                other = workers[(index + 1) % PROCESSES]
                calls.append(lambda w=other, c=service: w.claim_payment(c))
        for index, trigger in enumerate(["a", "b", "c", "a", "b"]):  # with repeated triggers
            worker = workers[index % PROCESSES]
            request = AllocatePending(user_number=USER, trigger=trigger)
            calls.append(lambda w=worker, r=request: w.allocate_pending(r))
        results = await together(calls)

        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        spent = [v for v in state.vouchers if v.state == "allocated"]
        assert len(spent) == 30, "every voucher allocated once: 30 vouchers, 100 hours waiting"
        assert sum(c.vouchers_allocated for c in state.claims) == 30
        assert all(c.vouchers_allocated <= c.hours for c in state.claims)
        # Each service's updates: one per change, versions 1, 2, ... without gaps or repeats
        # (a retried claim answers the same updates as the first attempt).
        versions: dict[str, set[int]] = {}
        for result in results:
            for update in result.updates:
                versions.setdefault(update.service_id, set()).add(update.payment_version)
        for service in state.claims:
            assert versions.get(service.service_id, set()) == set(
                range(1, service.payment_version + 1)
            )
        steps = Counter((a.service_id, a.step) for a in state.allocations)
        assert max(steps.values()) == 1
        # A last allocation finds nothing it may still do: the wallet is empty.
        last = await workers[0].allocate_pending(AllocatePending(user_number=USER, trigger="z"))
        assert last.updates == ()
        check_allocation_run(
            before,
            await snapshot(wallet.db),
            wallet.clock.today,
            wallet.policy,
            user=USER,
            complete=True,
        )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_same_order_posted_many_times_at_once_is_issued_once(
    dialect: str, tmp_path: Path
) -> None:
    async with temporary_database(dialect, tmp_path) as url, wallets(url) as wallet:
        desks = []
        async with AsyncExitStack() as stack:
            for _ in range(PROCESSES):
                db = repository.open_database(url)
                stack.push_async_callback(db.dispose)
                desks.append(
                    WalletDesk(
                        db=db, policy=wallet.policy, starter=wallet.starter, clock=wallet.clock
                    )
                )
            placed = await together(
                [lambda d=desk: d.order(USER, "PAY-1", 20) for desk in desks * 4]
            )
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        assert sum(p.created for p in placed) == 1
        assert len({p.order.id for p in placed}) == 1
        assert [order.quantity for order in state.orders] == [20]
        assert len(state.vouchers) == 20


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_orders_racing_for_the_yearly_cap_never_pass_it(dialect: str, tmp_path: Path) -> None:
    async with temporary_database(dialect, tmp_path) as url, wallets(url) as wallet:
        async with AsyncExitStack() as stack:
            desks = []
            for _ in range(PROCESSES):
                db = repository.open_database(url)
                stack.push_async_callback(db.dispose)
                desks.append(
                    WalletDesk(
                        db=db, policy=wallet.policy, starter=wallet.starter, clock=wallet.clock
                    )
                )

            async def attempt(desk: WalletDesk, index: int) -> bool:
                try:
                    await desk.order(USER, f"race-{index}", 150)
                except Problem as problem:
                    assert problem.status == 409 and problem.detail
                    assert "yearly cap exceeded: 50 left this year" in problem.detail
                    return False
                return True

            outcomes = await together(
                [lambda d=desks[i % PROCESSES], i=i: attempt(d, i) for i in range(9)]
            )
        assert sum(outcomes) == 3  # 3 * 150 = 450; a fourth would pass 500
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        assert sum(order.quantity for order in state.orders) == 450


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_same_reimbursement_request_made_many_times_at_once_is_created_once(
    dialect: str, tmp_path: Path
) -> None:
    async with temporary_database(dialect, tmp_path) as url, wallets(url) as wallet:
        await wallet.desk.order(USER, "PAY-1", 10)
        await wallet.desk.order(OTHER_USER, "PAY-1", 10)
        await wallet.run_changes()
        services = []
        for index, user in enumerate([USER, OTHER_USER] * 3):
            service = claim(wallet, index, 3).model_copy(update={"user_number": user})
            await wallet.activities.claim_payment(service)
            services.append(service.service_id)
        async with AsyncExitStack() as stack:
            desks = []
            for _ in range(PROCESSES):
                db = repository.open_database(url)
                stack.push_async_callback(db.dispose)
                desks.append(
                    WalletDesk(
                        db=db, policy=wallet.policy, starter=wallet.starter, clock=wallet.clock
                    )
                )
            requested = await together(
                [
                    lambda d=desk: d.request_reimbursement(COMPANY, "week 1", services)
                    for desk in desks * 3
                ]
            )
        assert sum(r.created for r in requested) == 1
        assert len({r.request.id for r in requested}) == 1
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        assert len(state.requests) == 1 and state.requests[0].vouchers == 18
