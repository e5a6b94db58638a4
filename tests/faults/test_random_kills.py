"""Workers killed (SIGKILL) at random moments of an import, for several seeds: the lifecycle
worker (the import workflow and the lifecycles), the imports worker (chunks and outcomes) and
the services-mgmt worker (registrations and projections), each restarted at once. Afterwards the
import's rows and the services it registered equal, row by row, those of the same file imported
without a single kill on a platform of its own."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dc_identity.demo import DEMO, SCHELDE, SCHELDE_STAFF
from dc_services.models import Service
from tests.faults.platforms import platform_in, workers_of
from tests.integration.imports_support import (
    SERVICES_HEADER,
    all_rows,
    csv_bytes,
    finished,
    projected,
    started,
)
from tests.support.platform import Platform
from tests.support.servers import temporal_dev_server

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SEEDS = (7, 2026)
CHUNK = 3
KILLS = 5
FIRST_DAY = date(2023, 1, 2)
#: The workers an import goes through.
IMPORT_WORKERS = ("imports", "lifecycle", "services-mgmt")
#: Imports in chunks of 3 rows, a new run of the import workflow every 2 chunks.
IMPORTS = {"chunk_size": CHUNK, "chunks_per_run": 2, "heartbeat_seconds": 3}
#: What differs between two platforms by nature: ids made at random.
RANDOM_IDS = ("service_id",)


def the_file() -> bytes:
    """24 services, two bad rows and one duplicate."""
    rows = [
        [
            DEMO.workers[day % 3].login,
            DEMO.users[day % len(DEMO.users)].user_number,
            (FIRST_DAY + timedelta(days=day)).strftime("%d/%m/%Y"),
            str(1 + day % 4),
            "1",
            "",
        ]
        for day in range(24)
    ]
    rows.insert(4, [DEMO.workers[0].login, DEMO.users[0].user_number, "30/02/2023", "2", "1", ""])
    rows.insert(9, list(rows[1]))
    rows.insert(17, [DEMO.workers[1].login, DEMO.users[1].user_number, "03/01/2023", "15", "1", ""])
    return csv_bytes(SERVICES_HEADER, rows)


@dataclass
class Imported:
    """An import's end: its counts, its rows and its services, without the random ids."""

    counts: dict[str, Any]
    rows: list[dict[str, Any]]
    services: list[tuple[Any, ...]]


async def imported(platform: Platform, kill_seed: int | None) -> tuple[Imported, int]:
    """Import the file with the platform's workers as processes, killed at random moments
    (``kill_seed``) or never; its end, and how many kills came while it was running."""
    chance = random.Random(kill_seed)
    mid_import = 0
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        with workers_of(platform, IMPORT_WORKERS) as workers:
            body = await started(staff, the_file(), company_id=SCHELDE)
            while kill_seed is not None and workers.kills < KILLS:
                await asyncio.sleep(chance.uniform(0.5, 2.5))
                workers.kill_and_restart(chance.choice(IMPORT_WORKERS))
                now = (await staff.get(f"/api/v1/imports/{body['id']}")).json()
                mid_import += now["status"] in ("queued", "running")
            done = await finished(staff, body["id"], within=180)
            rows = await all_rows(staff, body["id"])
            ids = [row["service_id"] for row in rows if row["outcome"] == "registered"]
            await projected(platform, ids, within=120)
            async with platform.services_db.sessions() as session:
                services = await session.scalars(select(Service).where(Service.id.in_(ids)))
                kept = sorted(
                    (s.worker_login, s.user_number, s.service_date, s.hours, s.status)
                    for s in services
                )
    counts = {key: done[key] for key in ("status", "rows_read", "registered", "rejected")}
    without_ids = [{k: v for k, v in row.items() if k not in RANDOM_IDS} for row in rows]
    return Imported(counts | {"duplicates": done["duplicates"]}, without_ids, kept), mid_import


@pytest.fixture(scope="module")
async def temporal_address() -> AsyncIterator[str]:
    namespaces = ["calm", *(f"killed-{seed}" for seed in SEEDS)]
    async with temporal_dev_server(*(a for n in namespaces for a in ("--namespace", n))) as env:
        yield env.client.service_client.config.target_host


@pytest.fixture(scope="module")
async def uninterrupted(
    temporal_address: str, postgres: None, tmp_path_factory: pytest.TempPathFactory
) -> Imported:
    calm_dir = tmp_path_factory.mktemp("calm")
    async with platform_in(
        "calm", temporal_address, calm_dir, imports_overrides=IMPORTS
    ) as platform:
        calm, _ = await imported(platform, kill_seed=None)
    assert calm.counts == {
        "status": "done",
        "rows_read": 27,
        "registered": 24,
        "rejected": 2,
        "duplicates": 1,
    }, calm.counts
    return calm


@pytest.mark.parametrize("seed", SEEDS)
async def test_workers_killed_at_random_moments_leave_what_an_uninterrupted_run_leaves(
    uninterrupted: Imported, temporal_address: str, tmp_path: Path, seed: int
) -> None:
    namespace = f"killed-{seed}"
    async with platform_in(
        namespace, temporal_address, tmp_path, imports_overrides=IMPORTS
    ) as platform:
        killed, mid_import = await imported(platform, kill_seed=seed)

    print(f"seed {seed}: {KILLS} kills, {mid_import} while the import was running")
    assert mid_import >= 2, "the kills must hit the import, not only what follows it"
    assert killed.counts == uninterrupted.counts
    assert killed.rows == uninterrupted.rows
    assert killed.services == uninterrupted.services
