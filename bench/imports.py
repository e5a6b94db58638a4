"""The import benchmark: a realistic services file imported end to end, beside the raw bulk-insert
rate of the same rows into the same database.

1. A file of ``--rows`` services is generated (:mod:`dc_imports.generate`: a company's workers on
   weekly schedules, 2 % bad rows, 1 % duplicates), as Belgian Excel writes CSV.
2. The platform runs as in production on one machine: the Temporal development server, a fresh
   PostgreSQL database per service, the APIs (identity, services-mgmt, imports, gateway) and each
   worker in a process of its own (lifecycle, services-mgmt, imports). Identity gets the file's
   workers, branches and users.
3. The file is uploaded through the gateway as a staff member of the company; the clock runs
   from the upload until the import is done: every row read, checked, stored, and every
   accepted service's lifecycle workflow started (their lifecycles then run on, as they would).
4. Baselines: as many bare workflows started on the same server, at the same concurrency, once
   the platform's workers stopped (:class:`bench.bare.LocalThenTimer`: one local activity, then a
   timer), the server's own start rate; and the same accepted rows, bulk-loaded into the same
   services database with the history loader's COPY (no checks, no workflows).

Prints the rates and their ratios, and writes them to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue as TaskQueueMessage
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from bench import bare
from bench.report import RESULTS, machine, platform_environment, write_result
from dc_common.belgian_numbers import with_national_check
from dc_common.db import Database
from dc_identity import repository as identity_repository
from dc_identity.demo import SCHELDE, SCHELDE_STAFF
from dc_identity.models import Branch, Person, User, Worker
from dc_imports.columns import FileKind
from dc_imports.formats import open_rows
from dc_imports.generate import CsvStyle, generate, write_csv
from dc_imports.records import ServiceRecord
from dc_imports.validation import FileValidator
from dc_services.history_load import HistoryService, load_services
from dc_services.models import Service
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.search_attributes import ensure_registered
from tests.support.platform import Platform, running_platform
from tests.support.processes import stop_all, worker_environment
from tests.support.servers import BIN, postgres_database, postgres_unavailable_reason


@dataclass
class ImportFigures:
    rows: int
    file_bytes: int
    accepted: int
    rejected: int
    duplicates: int
    registered: int
    flagged: int
    seconds: float
    first_progress_seconds: float | None
    projected_during_import: int = 0
    """Lifecycles that had already written their service into the read model when the import
    was done: the platform runs them while it imports."""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def started_per_second(self) -> float:
        return self.registered / self.seconds


@dataclass
class BaselineFigures:
    rows: int
    inserted: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def make_file(rows: int, seed: int) -> bytes:
    out = io.BytesIO()
    values = (
        row.values
        for row in generate(
            FileKind.SERVICES, rows, seed=seed, bad_fraction=0.02, duplicate_fraction=0.01
        )
    )
    write_csv(out, FileKind.SERVICES, values, CsvStyle())
    return out.getvalue()


def accepted_records(content: bytes) -> list[ServiceRecord]:
    validator = FileValidator(FileKind.SERVICES, plausibility=False)
    with open_rows(content, FileKind.SERVICES) as rows:
        return [
            result.record
            for result in validator.check_rows(rows)
            if isinstance(result.record, ServiceRecord) and not result.errors
        ]


async def seed_directory(url: str, records: list[ServiceRecord]) -> None:
    """The file's workers (of company Schelde), their branches and the users, in identity."""
    branches: dict[str, str | None] = {}
    for record in records:
        branches.setdefault(record.worker_login, record.branch_id)
    users = sorted({record.user_number for record in records})
    db = Database(url)
    try:
        async with db.transaction() as session:
            await identity_repository.insert_missing(
                session,
                Branch,
                [
                    {"establishment_unit_number": b, "company_id": SCHELDE, "name": f"Bench {b}"}
                    for b in sorted({b for b in branches.values() if b})
                ],
            )
            people = []
            workers = []
            for serial, (login, branch) in enumerate(sorted(branches.items()), start=1):
                national_number = with_national_check(
                    f"{70 + serial // 1000:02d}0101{serial % 1000:03d}"
                )
                people.append(
                    {
                        "national_number": national_number,
                        "first_name": "Bench",
                        "last_name": f"Worker {serial}",
                        "email": None,
                    }
                )
                workers.append(
                    {
                        "login": login,
                        "national_number": national_number,
                        "first_name": "Bench",
                        "last_name": f"Worker {serial}",
                        "company_id": SCHELDE,
                        "branch_id": branch,
                        "contract_start": datetime(2016, 1, 1).date(),
                        "contract_end": None,
                        "language": "nl",
                    }
                )
            await identity_repository.insert_missing(session, Person, people)
            await identity_repository.insert_missing(session, Worker, workers)
            for start in range(0, len(users), 5000):
                await identity_repository.insert_missing(
                    session,
                    User,
                    [
                        {
                            "user_number": number,
                            "name": f"Household {number}",
                            "email": f"{number}@bench.example",
                            "language": "nl",
                        }
                        for number in users[start : start + 5000]
                    ],
                )
    finally:
        await db.dispose()


@contextmanager
def worker_processes(
    platform: Platform,
    modules: tuple[str, ...] = ("dc_workflows.worker", "dc_services.worker", "dc_imports.worker"),
) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = worker_environment(platform)
    if platform.wallet_settings is not None:
        env["DC_WALLET_DATABASE_URL"] = platform.wallet_settings.database_url
    children = [
        subprocess.Popen([sys.executable, "-m", module], env=env, stdout=subprocess.DEVNULL)
        for module in modules
    ]
    try:
        yield children
    finally:
        stop_all(children)


@asynccontextmanager
async def dev_server(database: Path | None) -> AsyncIterator[WorkflowEnvironment]:
    extra = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        ui=False,
        dev_server_log_level="error",
        dev_server_database_filename=str(database) if database else None,
        dev_server_extra_args=extra if database else [],
    )
    async with env:
        await ensure_registered(env.client)
        yield env


WORKFLOWS, ACTIVITIES = (
    TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
)
#: The task queues of an import.
IMPORT_QUEUES = (
    (TaskQueue.LIFECYCLE, WORKFLOWS),
    (TaskQueue.SERVICE_LIFECYCLE, WORKFLOWS),
    (TaskQueue.SERVICES_MGMT, ACTIVITIES),
    (TaskQueue.IMPORTS, ACTIVITIES),
)


async def workers_ready(
    client: Client,
    polled: tuple[tuple[TaskQueue, TaskQueueType.ValueType], ...] = IMPORT_QUEUES,
    within: float = 120,
) -> None:
    """Every task queue of the run has a worker polling it (the clock starts after)."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + within
    for queue, kind in polled:
        while True:
            described = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace,
                    task_queue=TaskQueueMessage(name=queue.value),
                    task_queue_type=kind,
                )
            )
            if described.pollers:
                break
            if loop.time() > give_up_at:
                raise SystemExit(f"no worker polls {queue.value} within {within:.0f} s")
            await asyncio.sleep(0.5)


async def projected_services(platform: Platform) -> int:
    async with platform.services_db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Service)) or 0)


async def temporal_alive(platform: Platform, *, within: float = 30) -> None:
    """Stop the benchmark when the Temporal server is gone (rather than wait forever)."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + within
    while True:
        try:
            await platform.temporal.service_client.check_health(timeout=timedelta(seconds=5))
            return
        except RPCError as error:
            if loop.time() > give_up_at:
                raise SystemExit(f"the Temporal server stopped answering: {error}") from error
            await asyncio.sleep(1)


async def run_import(
    platform: Platform, content: bytes, *, poll: float, verbose: bool
) -> ImportFigures:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        started = time.perf_counter()
        response = await staff.post(
            "/api/v1/imports",
            files={"file": ("bench-services.csv", content, "text/csv")},
            data={"kind": "services", "company_id": SCHELDE},
            timeout=300,
        )
        if response.status_code != 202:
            raise SystemExit(f"upload refused: {response.status_code} {response.text}")
        import_id = response.json()["id"]
        first_progress = None
        last_report = 0.0
        while True:
            await asyncio.sleep(poll)
            await temporal_alive(platform)
            body = (await staff.get(f"/api/v1/imports/{import_id}")).json()
            elapsed = time.perf_counter() - started
            if first_progress is None and body["rows_read"]:
                first_progress = elapsed
            if verbose and elapsed - last_report >= 10:
                last_report = elapsed
                print(
                    f"  {elapsed:6.0f} s  read {body['rows_read']:>7}  "
                    f"started {body['registered']:>7}  ({body['progress_percent']} %)",
                    flush=True,
                )
            if body["status"] in ("done", "failed"):
                break
        if body["status"] != "done":
            raise SystemExit(f"the import failed: {body.get('failure')}")
        return ImportFigures(
            rows=body["rows_read"],
            file_bytes=len(content),
            accepted=body["accepted"],
            rejected=body["rejected"],
            duplicates=body["duplicates"],
            registered=body["registered"],
            flagged=body["flagged"],
            seconds=elapsed,
            first_progress_seconds=first_progress,
        )


async def run_baseline(url: str, records: list[ServiceRecord]) -> BaselineFigures:
    services = [
        HistoryService(
            company_id=SCHELDE,
            worker_login=record.worker_login,
            user_number=record.user_number,
            service_date=record.service_date,
            hours=record.hours,
            activity_type=record.activity_type,
            branch_id=record.branch_id,
            legacy_id=f"bench-{record.line}",
        )
        for record in records
    ]
    db = Database(url)
    try:
        result = await load_services(db, services)
    finally:
        await db.dispose()
    return BaselineFigures(rows=result.rows, inserted=result.inserted, seconds=result.seconds)


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    if reason := await postgres_unavailable_reason():
        raise SystemExit(f"the benchmark needs PostgreSQL: {reason}")
    print(f"generating {args.rows} service rows ...", flush=True)
    content = make_file(args.rows, args.seed)
    records = accepted_records(content)
    overrides = {
        "chunk_size": args.chunk_size,
        "chunks_per_run": args.chunks_per_run,
        "register_concurrency": args.concurrency,
    }
    state = Path(args.state_dir)
    temporal_db = None if args.temporal_memory else state / "temporal.db"
    async with (
        dev_server(temporal_db) as env,
        postgres_database("bench_identity") as identity_db,
        postgres_database("bench_services") as services_db,
        postgres_database("bench_imports") as imports_db,
    ):
        async with running_platform(
            env.client,
            identity_db_url=identity_db,
            services_db_url=services_db,
            imports_db_url=imports_db,
            imports_overrides=overrides,
            state_dir=state,
            with_workers=False,
        ) as platform:
            await seed_directory(identity_db, records)
            print(
                f"importing {len(content) / 1e6:.1f} MB through the gateway "
                f"(chunks of {args.chunk_size}, {args.concurrency} lifecycles started at a time)",
                flush=True,
            )
            with worker_processes(platform):
                await workers_ready(env.client)
                figures = await run_import(platform, content, poll=0.5, verbose=True)
                figures.projected_during_import = await projected_services(platform)
        print("baseline: bare starts on the same server (one local activity, a timer) ...")
        bare_starts = await bare.starts_per_second(env.client, figures.registered, args.concurrency)
        print("baseline: COPY of the same rows into the same services database ...", flush=True)
        baseline = await run_baseline(services_db, records)
    ratio = baseline.rows_per_second / figures.started_per_second
    return {
        "benchmark": "imports",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.imports", *sys.argv[1:]]),
        "machine": machine(),
        "settings": {**overrides, "temporal": "sqlite file (WAL)" if temporal_db else "in memory"},
        "import": {
            **asdict(figures),
            "rows_per_second": round(figures.rows_per_second, 1),
            "lifecycles_started_per_second": round(figures.started_per_second, 1),
        },
        "baseline_copy": {**asdict(baseline), "rows_per_second": round(baseline.rows_per_second)},
        "ratio_copy_to_import": round(ratio, 1),
        "baseline_bare_starts_per_second": round(bare_starts, 1),
        "ratio_starts_to_bare": round(figures.started_per_second / bare_starts, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--chunks-per-run", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--temporal-memory",
        action="store_true",
        help="the dev server in memory; by default on a SQLite file (WAL) as `make run` has it",
    )
    parser.add_argument("--state-dir", default="var/bench")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    platform_environment()
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    for stale in state.glob("temporal.db*"):
        stale.unlink()
    shutil.rmtree(state / "mail", ignore_errors=True)  # the mail sink's messages of a last run
    result = asyncio.run(benchmark(args))
    imported, baseline = result["import"], result["baseline_copy"]
    print()
    print(f"rows                       {imported['rows']:>10}")
    print(
        f"accepted / started         {imported['accepted']:>10} / {imported['registered']}"
        f"   (rejected {imported['rejected']}, duplicates {imported['duplicates']})"
    )
    print(f"import, end to end         {imported['seconds']:>10.1f} s")
    print(f"  rows read and checked    {imported['rows_per_second']:>10.1f} rows/s")
    print(f"  lifecycles started       {imported['lifecycles_started_per_second']:>10.1f} /s")
    print(f"  (of which projected by the end: {imported['projected_during_import']})")
    print(f"baseline COPY              {baseline['rows_per_second']:>10} rows/s")
    print(f"ratio COPY / import        {result['ratio_copy_to_import']:>10}")
    print(f"baseline bare starts       {result['baseline_bare_starts_per_second']:>10} /s")
    print(f"ratio starts / bare        {result['ratio_starts_to_bare']:>10}")
    write_result(result, "imports", imported["rows"], args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
