"""The lifecycle benchmark: services registered, validated, confirmed and paid through the API,
against a bare workflow of three ordinary activities on the same Temporal server.

1. The platform runs as ``make run`` runs it, on PostgreSQL: the Temporal development server on a
   SQLite file, a PostgreSQL database per service, every API (identity, services-mgmt, wallet,
   imports, the gateway), the mail sink and the lifecycle, services-mgmt and wallet workers each
   in a process of its own. Every demo household orders vouchers first, so the wallet pays each
   service as soon as it is agreed.
2. ``--services`` services, ``--concurrency`` at a time, each: registered by the company's staff
   (``POST /api/v1/services``), validated by the staff, confirmed by the household; the clock
   stops when the read model shows every one of them allocated (status 12).
3. Baseline, on the same server right after (the platform's workers stopped):
   :class:`bench.bare.ThreeActivities`, as many, at the same concurrency.

Prints services per second, the registration's latency, the baseline and the ratio; writes them
to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.client import Client

from bench import bare
from bench.imports import (
    ACTIVITIES,
    WORKFLOWS,
    dev_server,
    workers_ready,
)
from bench.report import RESULTS, machine, platform_environment, write_result
from dc_common.db import Database
from dc_identity.demo import DEMO, SCHELDE_STAFF
from dc_services.models import Service
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.status import ServiceStatus as S
from tests.support.platform import as_person
from tests.support.processes import stop_all
from tests.support.servers import free_port, postgres_database, postgres_unavailable_reason

SCHELDE = DEMO.companies[0].enterprise_number
WORKERS = ("dc_workflows.worker", "dc_services.worker", "dc_wallet.worker")
QUEUES = (
    (TaskQueue.LIFECYCLE, WORKFLOWS),
    (TaskQueue.SERVICE_LIFECYCLE, WORKFLOWS),
    (TaskQueue.SERVICES_MGMT, ACTIVITIES),
    (TaskQueue.WALLET, ACTIVITIES),
)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1)}


async def fill_wallets(site: Site, services: int) -> list[str]:
    """Every demo household orders its share of the vouchers (one hour each service, within
    the yearly cap); returns their user numbers."""
    households = []
    vouchers = min(500, services // len(DEMO.users) + 10)
    for user in DEMO.users:
        async with site.as_person(user.holder_national_number) as household:
            order = {"reference": "bench-lifecycle", "quantity": vouchers}
            placed = await household.post(
                f"/api/v1/users/{user.user_number}/voucher-orders", json=order
            )
            placed.raise_for_status()
        households.append(user.user_number)
    return households


def service_bodies(count: int, households: list[str]) -> list[dict[str, Any]]:
    """Distinct services (no two share worker, household, day, activity and hours)."""
    first = date.today() - timedelta(days=200)
    combos = itertools.product(range(150), households, DEMO.workers[:3], (1, 2, 3))
    return [
        {
            "company_id": SCHELDE,
            "worker_login": worker.login,
            "user_number": user,
            "service_date": (first + timedelta(days=day)).isoformat(),
            "hours": 1,
            "activity_type": activity,
        }
        for (day, user, worker, activity), _ in zip(combos, range(count), strict=False)
    ]


async def run_lifecycles(
    site: Site, bodies: list[dict[str, Any]], concurrency: int
) -> dict[str, Any]:
    registration_ms: list[float] = []
    ids: list[str] = []
    limit = asyncio.Semaphore(concurrency)
    async with AsyncExitStack() as sessions:
        staff = await sessions.enter_async_context(site.as_person(SCHELDE_STAFF.national_number))
        households = {
            user.user_number: await sessions.enter_async_context(
                site.as_person(user.holder_national_number)
            )
            for user in DEMO.users
        }

        async def one(body: dict[str, Any]) -> None:
            async with limit:
                began = time.perf_counter()
                created = await staff.post("/api/v1/services", json=body)
                registration_ms.append((time.perf_counter() - began) * 1000)
                created.raise_for_status()
                url = f"/api/v1/services/{created.json()['id']}"
                ids.append(created.json()["id"])
                (await staff.post(f"{url}/validate")).raise_for_status()
                (await households[body["user_number"]].post(f"{url}/confirm")).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(body) for body in bodies))
        agreed = time.perf_counter() - started
        last_report = 0.0
        while (paid := await site.allocated(ids)) < len(ids):
            site.check_alive()
            if time.perf_counter() - last_report > 10:
                last_report = time.perf_counter()
                elapsed = last_report - started
                print(f"  {elapsed:5.0f} s  {paid} of {len(ids)} allocated", flush=True)
            await asyncio.sleep(0.2)
        seconds = time.perf_counter() - started
    return {
        "services": len(ids),
        "seconds": round(seconds, 1),
        "agreed_seconds": round(agreed, 1),
        "services_per_second": round(len(ids) / seconds, 1),
        "registration_ms": percentiles(registration_ms),
    }


@dataclass
class Site:
    """The platform as ``make run`` runs it, each API and worker a process of its own."""

    gateway_url: str
    identity_url: str
    services_db: Database
    children: list[subprocess.Popen[bytes]]

    def as_person(self, national_number: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return as_person(self.identity_url, self.gateway_url, national_number)

    async def allocated(self, ids: list[str]) -> int:
        async with self.services_db.sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(Service)
                .where(Service.id.in_(ids), Service.status == int(S.ALLOCATED))
            )
        return int(found or 0)

    def check_alive(self) -> None:
        for child in self.children:
            if child.poll() is not None:
                raise SystemExit(f"{child.args} stopped (exit {child.returncode})")


@asynccontextmanager
async def running_site(
    temporal_address: str, databases: dict[str, str], state: Path
) -> AsyncIterator[Site]:
    ports = {name: free_port() for name in ("IDENTITY", "SERVICES", "WALLET", "IMPORTS", "GATEWAY")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    smtp = free_port()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_address,
        **{f"DC_{name}_PORT": str(port) for name, port in ports.items()},
        **{f"DC_{name}_URL": url for name, url in urls.items() if name != "GATEWAY"},
        **{f"DC_{name}_DATABASE_URL": url for name, url in databases.items()},
        "DC_IMPORTS_DATABASE_URL": f"sqlite+aiosqlite:///{state / 'imports.db'}",
        "DC_DEMO_DATA": "true",
        "DC_DEV_IDP": "true",
        "DC_DEV_IDP_ISSUER": urls["IDENTITY"],
        "DC_OIDC_ISSUER": urls["IDENTITY"],
        "DC_JOBTRACKER_ISSUER": f"{urls['IDENTITY']}/jobtracker",
        "DC_DEV_IDP_KEY_FILE": str(state / "dev-idp-key.json"),
        "DC_JOBTRACKER_KEY_FILE": str(state / "jobtracker-key.json"),
        "DC_SMTP_PORT": str(smtp),
        "DC_PORTAL_URL": urls["GATEWAY"],
    }
    commands = [
        ["-m", "dc_services.mailsink", "--port", str(smtp), "--maildir", str(state / "mail")],
        ["-m", "dc_identity"],
        ["-m", "dc_services"],
        ["-m", "dc_wallet"],
        ["-m", "dc_imports"],
        ["-m", "dc_gateway"],
        *(["-m", module] for module in WORKERS),
    ]
    children = started(commands, env)
    services_db = Database(databases["SERVICES"])
    site = Site(urls["GATEWAY"], urls["IDENTITY"], services_db, children)
    try:
        for url in urls.values():
            await _healthy(url, site)
        yield site
    finally:
        await services_db.dispose()
        stop_all(children)


def started(commands: list[list[str]], env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen([sys.executable, *command], env=env, stdout=subprocess.DEVNULL)
        for command in commands
    ]


async def _healthy(url: str, site: Site, within: float = 120) -> None:
    give_up_at = time.perf_counter() + within
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while True:
            site.check_alive()
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.perf_counter() > give_up_at:
                raise SystemExit(f"{url} did not answer within {within:.0f} s")
            await asyncio.sleep(0.3)


@asynccontextmanager
async def site_on_postgres(client: Client, state: Path, prefix: str) -> AsyncIterator[Site]:
    """The site on the dev server of ``client``, a PostgreSQL database per service (named
    ``<prefix>_identity`` and so on), once its workers poll."""
    if reason := await postgres_unavailable_reason():
        raise SystemExit(f"{prefix} needs PostgreSQL: {reason}")
    async with (
        postgres_database(f"{prefix}_identity") as identity_db,
        postgres_database(f"{prefix}_services") as services_db,
        postgres_database(f"{prefix}_wallet") as wallet_db,
    ):
        address = client.service_client.config.target_host
        databases = {"IDENTITY": identity_db, "SERVICES": services_db, "WALLET": wallet_db}
        async with running_site(address, databases, state) as site:
            await workers_ready(client, QUEUES)
            yield site


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    state: Path = args.state_dir
    async with dev_server(state / "temporal.db") as env:
        async with site_on_postgres(env.client, state, "bench_lc") as site:
            households = await fill_wallets(site, args.services)
            bodies = service_bodies(args.services, households)
            print(f"{len(bodies)} services, {args.concurrency} at a time ...", flush=True)
            lifecycle = await run_lifecycles(site, bodies, args.concurrency)
        print("baseline: a bare workflow of three ordinary activities ...", flush=True)
        baseline = await bare.three_activities_per_second(
            env.client, args.services, args.concurrency
        )
    return {
        "benchmark": "lifecycle",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.lifecycle", *sys.argv[1:]]),
        "machine": machine(),
        "settings": {
            "concurrency": args.concurrency,
            "temporal": "sqlite file (WAL)",
            "topology": "every API and worker a process of its own, PostgreSQL per service",
        },
        "lifecycle": lifecycle,
        "baseline_three_activities_per_second": round(baseline, 1),
        "ratio_to_baseline": round(lifecycle["services_per_second"] / baseline, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__)
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--state-dir", type=Path, default=Path("var/bench-lifecycle"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    platform_environment()
    args.state_dir = args.state_dir.resolve()
    shutil.rmtree(args.state_dir, ignore_errors=True)
    args.state_dir.mkdir(parents=True)
    result = asyncio.run(benchmark(args))
    lifecycle = result["lifecycle"]
    print()
    print(f"services to allocated (12)   {lifecycle['services_per_second']:>8} /s")
    print(f"registration p50/p95/p99 ms  {lifecycle['registration_ms']}")
    print(f"baseline, three activities   {result['baseline_three_activities_per_second']:>8} /s")
    print(f"ratio                        {result['ratio_to_baseline']:>8}")
    write_result(result, "lifecycle", args.services, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
