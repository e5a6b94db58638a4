"""The allocation benchmark: vouchers allocated per second for many wallets in parallel, against
plain updates of as many voucher rows.

1. A fresh PostgreSQL database for the wallet; ``--wallets`` households each order the smallest
   order the policy allows, 10 vouchers (not timed).
2. Every household's service of ``--hours`` hours asks its wallet to pay it, ``--concurrency``
   at a time: the wallet's own ``claim_payment`` (the activity the lifecycle calls at 11), which
   locks the wallet, plans the allocation, writes the ledger and records the answer, in one
   transaction per service.
3. Baseline, in the same database: the same number of voucher rows in a plain table, each
   wallet's ``--hours`` rows set allocated by one ``UPDATE`` in a transaction of its own, at the
   same concurrency.

Prints both rates and their ratio; writes them to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.report import RESULTS, machine, write_result
from dc_common.logging import configure_logging
from dc_wallet import worker as wallet_worker
from dc_wallet.activities import WalletActivities
from dc_wallet.settings import WalletSettings
from dc_workflows.contracts.common import Actor, ActorKind
from dc_workflows.contracts.payments import OrderPlacement, ServiceClaim
from dc_workflows.status import ServiceStatus as S
from tests.support.servers import postgres_database, postgres_unavailable_reason

COMPANY = "0403003326"
VOUCHERS = 10  # each wallet's order: the policy's minimum


def household(serial: int) -> str:
    return f"3{serial:011d}"


async def in_parallel(
    count: int, concurrency: int, one: Callable[[int], Awaitable[object]]
) -> float:
    """Seconds for ``one(0) .. one(count - 1)``, ``concurrency`` at a time."""
    limit = asyncio.Semaphore(concurrency)

    async def limited(serial: int) -> None:
        async with limit:
            await one(serial)

    started = time.perf_counter()
    await asyncio.gather(*(limited(serial) for serial in range(count)))
    return time.perf_counter() - started


async def fill(wallet: WalletActivities, wallets: int, vouchers: int, concurrency: int) -> None:
    async def order(serial: int) -> None:
        user = household(serial)
        await wallet.place_order(
            OrderPlacement(
                user_number=user,
                reference="bench",
                quantity=vouchers,
                ordered_by=Actor(kind=ActorKind.USER, id=user),
            )
        )

    await in_parallel(wallets, concurrency, order)


async def allocate(wallet: WalletActivities, args: argparse.Namespace) -> float:
    ready_at = datetime.now(UTC)
    paid: list[int] = []

    async def claim(serial: int) -> None:
        result = await wallet.claim_payment(
            ServiceClaim(
                service_id=f"bench-allocation-{serial}",
                user_number=household(serial),
                company_id=COMPANY,
                branch_id=None,
                service_date=date.today() - timedelta(days=3),
                hours=args.hours,
                ready_at=ready_at,
            )
        )
        paid.extend(u.vouchers_allocated for u in result.updates if u.status == S.ALLOCATED)

    seconds = await in_parallel(args.wallets, args.concurrency, claim)
    if len(paid) != args.wallets or set(paid) != {args.hours}:
        raise SystemExit(f"not every service was paid in full: {len(paid)} of {args.wallets}")
    return float(args.wallets * args.hours / seconds)


async def plain_updates(wallet: WalletActivities, args: argparse.Namespace) -> float:
    engine = wallet._db.engine  # the same database, the same pool
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE bench_vouchers (id bigserial PRIMARY KEY, wallet text NOT NULL, "
                "state text NOT NULL DEFAULT 'available')"
            )
        )
        await connection.execute(text("CREATE INDEX ON bench_vouchers (wallet, state)"))
        await connection.execute(
            text(
                "INSERT INTO bench_vouchers (wallet) SELECT '3' || lpad(w::text, 11, '0') "
                "FROM generate_series(0, :wallets - 1) AS w, generate_series(0, :vouchers - 1)"
            ),
            {"wallets": args.wallets, "vouchers": VOUCHERS},
        )
    update = text(
        "UPDATE bench_vouchers SET state = 'allocated' WHERE id IN (SELECT id FROM bench_vouchers "
        "WHERE wallet = :wallet AND state = 'available' ORDER BY id LIMIT :hours FOR UPDATE)"
    )

    async def one(serial: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(update, {"wallet": household(serial), "hours": args.hours})

    seconds = await in_parallel(args.wallets, args.concurrency, one)
    return float(args.wallets * args.hours / seconds)


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    if reason := await postgres_unavailable_reason():
        raise SystemExit(f"the benchmark needs PostgreSQL: {reason}")
    async with (
        postgres_database("bench_allocation") as url,
        wallet_worker.activities(WalletSettings(database_url=url)) as wallet,
    ):
        print(f"{args.wallets} wallets of {VOUCHERS} vouchers ...", flush=True)
        await fill(wallet, args.wallets, VOUCHERS, args.concurrency)
        print(f"allocating {args.hours} to a service of each, {args.concurrency} at a time ...")
        allocated = await allocate(wallet, args)
        print("baseline: plain updates of as many voucher rows ...", flush=True)
        baseline = await plain_updates(wallet, args)
    return {
        "benchmark": "allocation",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.allocation", *sys.argv[1:]]),
        "machine": machine(),
        "settings": {"wallets": args.wallets, "hours": args.hours, "concurrency": args.concurrency},
        "vouchers_allocated_per_second": round(allocated),
        "baseline_plain_updates_per_second": round(baseline),
        "ratio_to_baseline": round(allocated / baseline, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.allocation", description=__doc__)
    parser.add_argument("--wallets", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=3, choices=range(1, VOUCHERS))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")  # a line per claim would time the terminal
    result = asyncio.run(benchmark(args))
    print()
    print(f"vouchers allocated      {result['vouchers_allocated_per_second']:>8} /s")
    print(f"baseline plain updates  {result['baseline_plain_updates_per_second']:>8} /s")
    print(f"ratio                   {result['ratio_to_baseline']:>8}")
    write_result(result, "allocation", args.wallets, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
