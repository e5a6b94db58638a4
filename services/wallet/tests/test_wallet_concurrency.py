"""Many writers on one wallet at once, each with its own connection pool (as separate worker
processes would be): no voucher spent twice, no order issued twice, totals right.

The writers are the wallet's activities, called as Temporal may call them: the same one twice at
once (a retry while a timed-out attempt still runs), and different ones on the same wallet. On
PostgreSQL (127.0.0.1:5432, skipped with the reason when it is not running) the wallet row lock
serialises them; on SQLite, ``BEGIN IMMEDIATE``. The order of the calls is shuffled with a fixed
seed per test, so a failure replays.
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
from sqlalchemy import text
from temporalio.exceptions import ApplicationError

from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.service import request_id_for
from dc_workflows.contracts.payments import (
    CHANGE_REFUSED,
    AllocatePending,
    OrderPlacement,
    PaymentUpdates,
    RecordedChange,
    ReimbursementAsk,
    ServiceClaim,
)
from services.wallet.tests.wallet_support import (
    COMPANY,
    HOUSEHOLD,
    OTHER_USER,
    STAFF,
    START,
    USER,
    Wallets,
    check_allocation_run,
    check_invariants,
    snapshot,
    temporary_database,
    wallets,
)
from tests.support.servers import DIALECTS

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


async def together(calls: list[Callable[[], Awaitable[T]]], *, seed: int) -> list[T]:
    """Start every call at once, in an order shuffled by ``seed``, once all have reached one
    common barrier."""
    random.Random(seed).shuffle(calls)
    barrier = asyncio.Barrier(len(calls))

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        await barrier.wait()
        return await call()

    return await asyncio.gather(*(one(call) for call in calls))


def order(user: str, reference: str, quantity: int) -> OrderPlacement:
    return OrderPlacement(
        user_number=user,
        reference=reference,
        quantity=quantity,
        ordered_by=HOUSEHOLD.model_copy(update={"id": user}),
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_many_allocations_for_one_wallet_at_once_spend_no_voucher_twice(
    dialect: str, tmp_path: Path
) -> None:
    async with (
        temporary_database(dialect, tmp_path) as url,
        wallets(url) as wallet,
        processes(wallet, url) as workers,
    ):
        for reference in ("a", "b", "c"):  # orders of the earlier API: allocated below
            await legacy_order(wallet, reference, 10)
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
        for index, reference in enumerate(["d", "e", "d"]):  # new orders, one placed twice
            worker = workers[index % PROCESSES]
            placement = order(USER, reference, 10)
            calls.append(lambda w=worker, p=placement: w.place_order(p))
        results = await together(calls, seed=1)

        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        spent = [v for v in state.vouchers if v.state == "allocated"]
        assert len(spent) == 50, "every voucher allocated once: 50 vouchers, 100 hours waiting"
        assert sum(c.vouchers_allocated for c in state.claims) == 50
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


async def legacy_order(wallet: Wallets, reference: str, quantity: int) -> None:
    """Vouchers an order of the earlier API issued: recorded, not allocated yet."""
    now = wallet.clock.now
    async with repository.writing(wallet.db) as session:
        await repository.lock_wallets(session, [USER], now)
        await repository.place_order(
            session,
            user_number=USER,
            reference=reference,
            quantity=quantity,
            issue_date=wallet.clock.today,
            policy=wallet.policy,
            now=now,
        )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_same_order_placed_many_times_at_once_is_issued_once(
    dialect: str, tmp_path: Path
) -> None:
    async with (
        temporary_database(dialect, tmp_path) as url,
        wallets(url) as wallet,
        processes(wallet, url) as workers,
    ):
        await wallet.activities.claim_payment(claim(wallet, 1, 4))
        placement = order(USER, "PAY-1", 20)
        results = await together(
            [lambda w=worker: w.place_order(placement) for worker in workers * 4], seed=2
        )
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        assert [order.quantity for order in state.orders] == [20]
        assert len(state.vouchers) == 20
        # Every attempt answers as the one that placed it: created, the waiting service paid.
        assert set(results) == {results[0]}
        assert results[0].created
        assert [(u.service_id, int(u.status)) for u in results[0].updates] == [("svc-01", 12)]


async def refused(call: Awaitable[RecordedChange]) -> str | None:
    """None when the change was made, else the refusal's detail."""
    try:
        await call
    except ApplicationError as error:
        assert error.type == CHANGE_REFUSED and error.non_retryable
        return error.message
    return None


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_orders_racing_for_the_yearly_cap_never_pass_it(dialect: str, tmp_path: Path) -> None:
    async with (
        temporary_database(dialect, tmp_path) as url,
        wallets(url) as wallet,
        processes(wallet, url) as workers,
    ):
        outcomes = await together(
            [
                lambda w=workers[i % PROCESSES], i=i: refused(
                    w.place_order(order(USER, f"race-{i}", 150))
                )
                for i in range(9)
            ],
            seed=3,
        )
        assert outcomes.count(None) == 3  # 3 * 150 = 450; a fourth would pass 500
        assert set(outcomes) - {None} == {"quantity: yearly cap exceeded: 50 left this year"}
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        assert sum(order.quantity for order in state.orders) == 450


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_same_reimbursement_request_made_many_times_at_once_is_created_once(
    dialect: str, tmp_path: Path
) -> None:
    async with (
        temporary_database(dialect, tmp_path) as url,
        wallets(url) as wallet,
        processes(wallet, url) as workers,
    ):
        await wallet.order(USER, "PAY-1", 10)
        await wallet.order(OTHER_USER, "PAY-1", 10)
        services = []
        for index, user in enumerate([USER, OTHER_USER] * 3):
            service = claim(wallet, index, 3).model_copy(update={"user_number": user})
            await wallet.activities.claim_payment(service)
            services.append(service.service_id)
        ask = ReimbursementAsk(
            request_id=request_id_for(COMPANY, "week 1"),
            company_id=COMPANY,
            reference="week 1",
            service_ids=tuple(services),
            requested_by=STAFF,
        )
        results = await together(
            [lambda w=worker: w.request_reimbursement(ask) for worker in workers * 3], seed=4
        )
        assert set(results) == {results[0]} and results[0].created
        assert sorted(int(u.status) for u in results[0].updates) == [13] * 6
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        assert len(state.requests) == 1 and state.requests[0].vouchers == 18


async def test_orders_of_two_wallets_do_not_wait_for_each_other(tmp_path: Path) -> None:
    """Voucher numbers come from the order itself: an order of another wallet goes through
    while the first order's transaction is still open (on PostgreSQL, where writers of
    different wallets run at once; a shared counter row made the second one wait)."""
    async with temporary_database("postgres", tmp_path) as url, wallets(url) as wallet:
        policy, day, now = wallet.policy, START.date(), START
        async with repository.writing(wallet.db) as first:
            await repository.place_order(
                first,
                user_number=USER,
                reference="a",
                quantity=10,
                issue_date=day,
                policy=policy,
                now=now,
            )
            async with repository.writing(wallet.db) as second:
                await second.execute(text("SET LOCAL lock_timeout = '2s'"))
                other = await repository.place_order(
                    second,
                    user_number=OTHER_USER,
                    reference="b",
                    quantity=10,
                    issue_date=day,
                    policy=policy,
                    now=now,
                )
            assert other.first_voucher.startswith("V") and len(other.first_voucher) == 16
