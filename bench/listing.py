"""The list benchmark: a page of 50 services with the totals of its selection, on a large read
model in PostgreSQL, through the project's own ``repository.list_services``.

A fresh PostgreSQL database is filled with ``--services`` services by the history loader (its
``COPY``; the kept totals with them): one company, the largest, holds ``--largest`` of them in
its 13-month window; the others are spread over other companies and the years before. Then
every case is asked ``--rounds`` times at concurrency 1, 8 and 32 (32 callers sharing the
service's pool of 20 connections, as one services-mgmt process has it):

- page 1 of the largest company's window (13 months of service dates), page 1,000 by its
  cursor (and, to compare, by OFFSET), the window filtered on a status, a branch and a worker,
  and the company's list without a window (every month's partition);
- baseline, in the same run: the bare page query in SQL (the 50 rows, no totals).

Then the CSV export of the largest window, streamed as the API does it: rows per second and the
peak of Python memory (tracemalloc), against reading the same rows without writing the CSV.

Prints p50/p95/p99 in milliseconds and the ratio to the baseline; writes the figures to
``bench/results/listing-<services>-<time>.json``. ``--services 25000000 --largest 2000000``
is the region's size (loading it takes about 15 minutes on the 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bench.report import machine, write_result
from dc_common.db import Database
from dc_common.spreadsheet import CsvEncoder
from dc_services import repository
from dc_services.api import EXPORT_COLUMNS, export_row
from dc_services.domain import ListPosition
from dc_services.history_load import HistoryService, load_services
from dc_workflows.status import ServiceStatus as S
from tests.support.servers import postgres_database

LARGEST = "0712345630"
BRANCHES = ("2234567818", "2234567917", "2234568016")
TODAY = date(2026, 12, 1)
WINDOW_START = TODAY - timedelta(days=396)  # 13 months back
#: A service settles within weeks: the old ones reimbursed (or cancelled), the recent on their way.
SETTLED = (S.REIMBURSED,) * 19 + (S.CANCELLED,)
RECENT = (S.ENCODED, S.VALIDATED, S.CONFIRMED, S.READY_FOR_ALLOCATION, S.ALLOCATED, S.REIMBURSED)
PAGE = 50
LEVELS = (1, 8, 32)


def generated(total: int, largest: int, seed: int = 2026) -> Iterator[HistoryService]:
    """``total`` services: ``largest`` of one company in its 13-month window (its workers and
    users many), the rest of 60 other companies since 2016."""
    rng = random.Random(seed)
    for n in range(total):
        ours = n < largest
        if ours:
            day = WINDOW_START + timedelta(days=rng.randrange(0, 396))
            company, branch = LARGEST, BRANCHES[n % 3]
            worker = f"9801{rng.randrange(0, 3000):08d}"
        else:
            day = date(2016, 1, 4) + timedelta(
                days=rng.randrange(0, (TODAY - date(2016, 1, 4)).days)
            )
            company, branch = f"08{n % 60:08d}", None
            worker = f"9802{rng.randrange(0, 50000):08d}"
        yield HistoryService(
            company_id=company,
            branch_id=branch,
            worker_login=worker,
            user_number=f"1{rng.randrange(0, 750_000):011d}",
            service_date=day,
            hours=rng.randrange(1, 10),
            activity_type=rng.randrange(1, 5),
            status=rng.choice(RECENT if (TODAY - day).days < 30 else SETTLED),
            registered_at=datetime.combine(
                day + timedelta(days=rng.randrange(0, 4)), datetime.min.time(), UTC
            )
            + timedelta(seconds=rng.randrange(0, 86_400)),
            legacy_id=f"bench-{n}",
        )


async def load(db: Database, total: int, largest: int) -> float:
    started = time.perf_counter()
    batch: list[HistoryService] = []
    for service in generated(total, largest):
        batch.append(service)
        if len(batch) == 50_000:
            await load_services(db, batch, batch_size=10_000)
            batch = []
    if batch:
        await load_services(db, batch, batch_size=10_000)
    seconds = time.perf_counter() - started
    # Settled as a server that has run a while would be: no autovacuum still at work meanwhile.
    async with db.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
    return seconds


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[[], Awaitable[object]]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": round(cut[49], 2), "p95": round(cut[94], 2), "p99": round(cut[98], 2)}


async def timed(
    call: Callable[[], Awaitable[object]], concurrency: int, rounds: int
) -> dict[str, float]:
    samples: list[float] = []

    async def caller() -> None:
        for _ in range(rounds):
            started = time.perf_counter()
            await call()
            samples.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return percentiles(samples)


def window(**narrower: Any) -> repository.ServiceFilter:
    """The largest company's sliding window of 13 months of service dates."""
    return repository.ServiceFilter(
        company_id=LARGEST, service_date_from=WINDOW_START, service_date_to=TODAY, **narrower
    )


async def plan(db: Database) -> str:
    """How PostgreSQL reads page 1 of the window: the partitions of its months only."""
    query = repository.page_query(window(), limit=PAGE + 1)
    sql = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with db.engine.connect() as connection:
        lines = await connection.scalars(text(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}"))
        return "\n".join(lines)


async def cases(db: Database) -> list[Case]:
    async def page(selection: repository.ServiceFilter, **where: Any) -> object:
        async with db.sessions() as session:
            return await repository.list_services(session, selection, limit=PAGE, **where)

    async with db.sessions() as session:
        deep = (
            await repository.list_services(session, window(), limit=1, offset=PAGE * 999 - 1)
        ).items[0]
        worker = await session.scalar(
            text("SELECT worker_login FROM services WHERE company_id = :c LIMIT 1"), {"c": LARGEST}
        )
    at_1000 = ListPosition(deep.registered_at, deep.id)
    bare = text(
        "SELECT * FROM services WHERE company_id = :c AND service_date BETWEEN :f AND :t "
        "ORDER BY registered_at DESC, id DESC LIMIT 50"
    )

    async def bare_page() -> object:
        async with db.sessions() as session:
            where = {"c": LARGEST, "f": WINDOW_START, "t": TODAY}
            return (await session.execute(bare, where)).all()

    return [
        Case("baseline: the bare page query in SQL", bare_page),
        Case("page 1 + totals", lambda: page(window())),
        Case("page 1,000 by cursor + totals", lambda: page(window(), after=at_1000)),
        Case("page 1,000 by OFFSET + totals", lambda: page(window(), offset=PAGE * 999)),
        Case("status 1 + totals", lambda: page(window(status=int(S.ENCODED)))),
        Case("one branch + totals", lambda: page(window(branch_ids=(BRANCHES[1],)))),
        Case("one worker + totals", lambda: page(window(worker_login=worker))),
        Case(
            "no window: every month + totals",
            lambda: page(repository.ServiceFilter(company_id=LARGEST)),
        ),
    ]


async def export(db: Database) -> dict[str, float]:
    """The CSV of the whole window, streamed: rows per second and peak Python memory."""
    results: dict[str, float] = {}
    for write in (False, True):
        tracemalloc.start()
        started, rows, size = time.perf_counter(), 0, 0
        encoder = CsvEncoder()
        async with db.sessions() as session:
            batches = repository.export_batches(session, window(), oldest_first=False, batch=2000)
            if write:
                size += len(encoder.header(EXPORT_COLUMNS))
            async for batch in batches:
                rows += len(batch)
                if write:
                    size += len(encoder.rows(export_row(row) for row in batch))
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        label = "csv" if write else "read only"
        results[f"{label}: rows/s"] = round(rows / seconds)
        results[f"{label}: peak MiB"] = round(peak / 2**20, 1)
    results["rows"] = rows
    results["csv MiB"] = round(size / 2**20, 1)
    return results


async def run(total: int, largest: int, rounds: int) -> dict[str, Any]:
    async with postgres_database("dc_bench_listing") as url:
        db = Database(url)
        await repository.prepare(db)
        seconds = await load(db, total, largest)
        print(f"loaded {total:,} services in {seconds:.0f} s", flush=True)
        figures: dict[str, Any] = {}
        for case in await cases(db):
            await case.call()  # warm
            figures[case.name] = {f"c{n}": await timed(case.call, n, rounds) for n in LEVELS}
            print(case.name, figures[case.name], flush=True)
        exported = await export(db)
        print("export", exported, flush=True)
        planned = await plan(db)
        print(planned, flush=True)
        await db.dispose()
    baseline = figures["baseline: the bare page query in SQL"]
    ratios = {
        name: {c: round(f[c]["p95"] / baseline[c]["p95"], 1) for c in f}
        for name, f in figures.items()
    }
    return {
        "services": total,
        "largest_window": largest,
        "rounds": rounds,
        "load_seconds": round(seconds),
        "ms": figures,
        "p95_ratio_to_baseline": ratios,
        "export": exported,
        "plan": planned,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "| case | "
        + " | ".join(f"c{n} p50/p95/p99 ms" for n in LEVELS)
        + " | p95 x baseline (c8) |"
    ]
    lines.append("|---|" + "---|" * (len(LEVELS) + 1))
    for name, by_level in result["ms"].items():
        cells = [f"{v['p50']} / {v['p95']} / {v['p99']}" for v in by_level.values()]
        ratio = result["p95_ratio_to_baseline"][name]["c8"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=1_000_000)
    parser.add_argument(
        "--largest", type=int, default=400_000, help="services of the largest company in its window"
    )
    parser.add_argument("--rounds", type=int, default=20, help="calls per caller and case")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.services, args.largest, args.rounds))
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = machine()
    print(table(result))
    write_result(result, "listing", args.services)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
