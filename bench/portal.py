"""The portal benchmark: the server time of every page and export on the demo data.

The platform runs in this process (the Temporal development server, PostgreSQL databases, every
API and worker, as the integration tests run it), the demo directory and ``--services`` services
of Schelde registered through the API. Then each page is asked ``--rounds`` times by a person
logged in through the portal's own login (the authorization code flow), one at a time, and its
``Server-Timing`` (the gateway's time from the request to the first byte of the answer) is read.
Baseline in the same run: ``/healthz``, the gateway's cheapest answer.

Prints p50 and p95 per page (milliseconds) and writes them to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from dc_identity.demo import DEMO, SCHELDE_STAFF, USER_HOLDERS, DemoPerson
from tests.support.platform import Platform, running_platform
from tests.support.servers import postgres_database, temporal_dev_server

RESULTS = Path(__file__).parent / "results"
SCHELDE = DEMO.companies[0].enterprise_number


async def portal_session(platform: Platform, person: DemoPerson) -> httpx.AsyncClient:
    """A browser's session: the portal's login, through the identity provider's page."""
    client = httpx.AsyncClient(base_url=platform.gateway_url, follow_redirects=True, timeout=60)
    picker = await client.get("/")
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', picker.text))
    hidden["national_number"] = person.national_number
    login = str(picker.url).split("?")[0].replace("/dev/authorize", "/dev/login")
    answer = await client.post(login, data=hidden)
    answer.raise_for_status()
    return client


async def register_services(platform: Platform, count: int) -> list[str]:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        ids = []
        first = date.today() - timedelta(days=300)
        for n in range(count):
            worker = DEMO.workers[n % 3]
            user = DEMO.users[n % len(DEMO.users)]
            response = await staff.post(
                "/api/v1/services",
                json={
                    "company_id": SCHELDE,
                    "worker_login": worker.login,
                    "user_number": user.user_number,
                    "service_date": (first + timedelta(days=n // 15)).isoformat(),
                    "hours": 1 + n % 9,
                    "activity_type": 1 + n % 4,
                },
            )
            response.raise_for_status()
            ids.append(response.json()["id"])
        return ids


def server_ms(response: httpx.Response) -> float:
    timing = response.headers["server-timing"]
    return float(timing.split("dur=")[1].split(",")[0])


async def measure(client: httpx.AsyncClient, path: str, rounds: int) -> dict[str, float]:
    times = []
    for _ in range(rounds):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        await response.aread()
        times.append(server_ms(response))
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[max(0, int(len(times) * 0.95) - 1)],
    }


async def run(services: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as state:
        async with (
            temporal_dev_server() as temporal,
            postgres_database("dc_identity_bench") as identity_db,
            postgres_database("dc_services_bench") as services_db,
            postgres_database("dc_imports_bench") as imports_db,
            postgres_database("dc_wallet_bench") as wallet_db,
            running_platform(
                temporal.client,
                identity_db_url=identity_db,
                services_db_url=services_db,
                imports_db_url=imports_db,
                wallet_db_url=wallet_db,
                state_dir=Path(state),
            ) as platform,
        ):
            ids = await register_services(platform, services)
            staff = await portal_session(platform, SCHELDE_STAFF)
            household = await portal_session(platform, USER_HOLDERS[0])
            pages = {
                "/healthz (baseline)": (staff, "/healthz"),
                "dashboard": (staff, "/"),
                "services, 50 a page": (staff, "/services"),
                "services, 200 a page": (staff, "/services?page_size=200"),
                "services, status 1": (staff, "/services?status=1"),
                "service detail": (staff, f"/services/{ids[0]}"),
                "services export (CSV)": (staff, "/services/export.csv"),
                "imports": (staff, "/imports"),
                "help": (staff, "/help"),
                "household start": (household, "/"),
                "household wallet": (household, "/wallet"),
            }
            for client, path in pages.values():  # warm: templates compiled, keys fetched
                await client.get(path)
            figures = {name: await measure(c, p, rounds) for name, (c, p) in pages.items()}
            await staff.aclose()
            await household.aclose()
    return {
        "measured_at": datetime.now(UTC).isoformat(),
        "services": services,
        "rounds": rounds,
        "pages_ms": figures,
    }


def main() -> int:
    # The processes of this run share a secret of their own, as make run's do.
    os.environ.setdefault("DC_INTERNAL_TOKEN", secrets.token_urlsafe(32))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=50)
    options = parser.parse_args()
    result = asyncio.run(run(options.services, options.rounds))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"portal-{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    baseline = result["pages_ms"]["/healthz (baseline)"]["p50"] or 0.1
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
    for name, times in result["pages_ms"].items():
        ratio = times["p50"] / baseline
        print(f"{name:28} {times['p50']:8.1f} {times['p95']:8.1f} {ratio:15.1f}")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
