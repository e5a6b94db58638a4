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
import re
import statistics
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.report import platform_environment, write_result
from dc_identity.demo import (
    DEMO,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
    USER_HOLDERS,
    DemoPerson,
)
from tests.support.platform import Platform, running_platform, text_of
from tests.support.servers import postgres_database, temporal_dev_server
from tests.support.waiting import eventually

SCHELDE = DEMO.companies[0].enterprise_number


async def portal_session(gateway_url: str, person: DemoPerson) -> httpx.AsyncClient:
    """A browser's session: the portal's login, through the identity provider's page."""
    client = httpx.AsyncClient(base_url=gateway_url, follow_redirects=True, timeout=60)
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


async def a_paid_request(platform: Platform, ids: list[str]) -> str:
    """A reimbursement request of An's first services: validated, confirmed, paid from her
    wallet, then asked reimbursement of (the statement pages need one)."""
    mine = ids[: 5 * 3 : 5]  # every fifth service is An's (DEMO.users[0])
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(USER_HOLDERS[0].national_number) as household,
    ):
        for service_id in mine:
            (await staff.post(f"/api/v1/services/{service_id}/validate")).raise_for_status()
            (await household.post(f"/api/v1/services/{service_id}/confirm")).raise_for_status()
        order = {"reference": "bench-order", "quantity": 40}
        user = DEMO.users[0].user_number
        (
            await household.post(f"/api/v1/users/{user}/voucher-orders", json=order)
        ).raise_for_status()

        async def paid() -> bool:
            listed = await staff.get(
                "/api/v1/services", params={"company_id": SCHELDE, "payable": "true"}
            )
            return {s["id"] for s in listed.json()["items"]} >= set(mine)

        await eventually(paid, within=60)
        asked = await staff.post(
            "/api/v1/reimbursement-requests",
            json={"company_id": SCHELDE, "reference": "bench", "service_ids": mine},
        )
        asked.raise_for_status()
        request_id: str = asked.json()["id"]
        return request_id


def mail_link(platform: Platform, service_id: str) -> str:
    """The path of the link in the e-mail about the service."""
    for mail in platform.mails_to(DEMO.users[1].email, about=service_id):
        found = re.search(r"/link/\S+", text_of(mail))
        if found:
            return found.group(0)
    raise LookupError(f"no mail about {service_id}")


async def _mailed(platform: Platform, service_id: str) -> bool:
    return bool(platform.mails_to(DEMO.users[1].email, about=service_id))


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
            request_id = await a_paid_request(platform, ids)
            luc = ids[1]  # Luc's household (DEMO.users[1]): confirms from the e-mail's link
            await eventually(lambda: _mailed(platform, luc), within=30)
            staff = await portal_session(platform.gateway_url, SCHELDE_STAFF)
            household = await portal_session(platform.gateway_url, USER_HOLDERS[0])
            manager = await portal_session(platform.gateway_url, SCHELDE_MAIN_ACCESS_MANAGER)
            anonymous = httpx.AsyncClient(base_url=platform.gateway_url, timeout=60)
            pages = {
                "/healthz (baseline)": (staff, "/healthz"),
                "dashboard": (staff, "/"),
                "services, 50 a page": (staff, "/services"),
                "services, 200 a page": (staff, "/services?page_size=200"),
                "services, status 1": (staff, "/services?status=1"),
                "service detail": (staff, f"/services/{ids[0]}"),
                "services export (CSV)": (staff, "/services/export.csv"),
                "services by worker": (staff, "/services/by-worker"),
                "by worker export (CSV)": (staff, "/services/by-worker/export.csv"),
                "register form": (staff, "/services/new"),
                "imports": (staff, "/imports"),
                "imports export (CSV)": (staff, "/imports/export.csv"),
                "collections": (staff, "/collections"),
                "ask reimbursement form": (staff, "/collections/new"),
                "statement": (staff, f"/collections/{request_id}"),
                "statement (PDF)": (staff, f"/collections/{request_id}/statement.pdf"),
                "statement (CSV)": (staff, f"/collections/{request_id}/statement.csv"),
                "requests export (CSV)": (staff, "/collections/export.csv"),
                "access management": (manager, "/access"),
                "audit log": (manager, "/access/audit"),
                "audit log export (CSV)": (manager, "/access/audit.csv"),
                "help": (staff, "/help"),
                "household start": (household, "/"),
                "household wallet": (household, "/wallet"),
                "e-mail link (no login)": (anonymous, mail_link(platform, luc)),
            }
            for client, path in pages.values():  # warm: templates compiled, keys fetched
                await client.get(path)
            figures = {name: await measure(c, p, rounds) for name, (c, p) in pages.items()}
            for client in (staff, household, manager, anonymous):
                await client.aclose()
    return {
        "measured_at": datetime.now(UTC).isoformat(),
        "services": services,
        "rounds": rounds,
        "pages_ms": figures,
    }


def main() -> int:
    # The processes of this run share a secret of their own, as make run's do.
    platform_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=50)
    options = parser.parse_args()
    result = asyncio.run(run(options.services, options.rounds))
    baseline = result["pages_ms"]["/healthz (baseline)"]["p50"] or 0.1
    print(f"{'page':30} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
    for name, times in result["pages_ms"].items():
        ratio = times["p50"] / baseline
        print(f"{name:30} {times['p50']:8.1f} {times['p95']:8.1f} {ratio:15.1f}")
    write_result(result, "portal", options.services)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
