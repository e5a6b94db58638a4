"""Demo data for the embedded default, loaded through the public API like a real client would.

Idempotent: every demo service carries a fixed Idempotency-Key, so a restart of `make run`
registers nothing twice and replays no transition. Prints where everything is when done.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx

from dc_identity.demo import DEMO, LEIE_STAFF, OPERATOR, SCHELDE_STAFF, USER_HOLDERS
from dc_workflows.deadline import BRUSSELS


@dataclass(frozen=True)
class DemoService:
    key: str
    company: int
    worker: int  # among the company's workers under contract
    user: int
    days_ago: int
    hours: int
    activity_type: int
    then: tuple[tuple[str, str, dict[str, object] | None], ...] = ()


VALIDATE = ("POST", "validate", None)
CONFIRM = ("POST", "confirm", None)
#: Who acts, per action: the company's staff, or the user's household.
BY_USER = {"confirm", "contest"}
STAFF_OF = [SCHELDE_STAFF.national_number, LEIE_STAFF.national_number]

SERVICES = (
    DemoService("demo-01", 0, 0, 0, 1, 4, 1),
    DemoService("demo-02", 0, 0, 1, 2, 3, 1, (VALIDATE,)),
    DemoService("demo-03", 0, 1, 2, 2, 2, 3, (CONFIRM,)),
    DemoService("demo-04", 0, 1, 3, 3, 4, 1, (VALIDATE, CONFIRM)),
    DemoService("demo-05", 0, 2, 4, 4, 2, 2, (CONFIRM, VALIDATE)),
    DemoService(
        "demo-06", 0, 2, 0, 5, 5, 1, (("POST", "contest", {"reason": "Slechts 4 uur gewerkt"}),)
    ),
    DemoService("demo-07", 0, 0, 1, 6, 3, 1, (("PATCH", "", {"hours": 2, "reason": "typo"}),)),
    DemoService("demo-08", 0, 1, 2, 8, 1, 4, (("POST", "cancel", {"reason": "dubbel"}),)),
    DemoService("demo-09", 0, 0, 3, 9, 4, 1, (VALIDATE, CONFIRM)),
    DemoService("demo-10", 1, 0, 4, 1, 3, 1),
    DemoService("demo-11", 1, 1, 0, 3, 4, 3, (VALIDATE,)),
    DemoService("demo-12", 1, 0, 1, 7, 2, 1, (CONFIRM, VALIDATE)),
)


class Login:
    """Tokens from the development identity provider, as its login page hands them out."""

    def __init__(self, identity_url: str) -> None:
        self._identity = httpx.AsyncClient(base_url=identity_url, timeout=30)
        self._tokens: dict[str, str] = {}

    async def headers(self, national_number: str) -> dict[str, str]:
        if national_number not in self._tokens:
            response = await self._identity.post(
                "/dev/token", json={"national_number": national_number}
            )
            response.raise_for_status()
            self._tokens[national_number] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[national_number]}"}

    async def aclose(self) -> None:
        await self._identity.aclose()


#: Voucher orders (user, reference, quantity): two households pay their agreed services; the
#: third (Luc Maes) has none yet, so his agreed service waits for vouchers at 11.
ORDERS = ((3, "demo-order-1", 10), (4, "demo-order-1", 10))
#: The first password of every demo worker's Jobtracker account (changed at the first login).
JOBTRACKER_FIRST_PASSWORD = "demo-jobtracker-2026"
#: Paper vouchers in the issuer's list, to check in the app: (number, days valid, used).
PAPER_VOUCHERS = (("4000000001", 200, False), ("4000000002", -3, False), ("4000000003", 200, True))


async def wait_until_up(client: httpx.AsyncClient, login: Login, within: float) -> None:
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + within
    while True:
        try:
            # The gateway ready (identity and every service it forwards to answer), then
            # through it to services-mgmt with a token: the whole chain answers.
            if (await client.get("/readyz")).status_code != 200:
                raise httpx.HTTPError("not ready")
            headers = await login.headers(SCHELDE_STAFF.national_number)
            response = await client.get(
                "/api/v1/services", params={"page_size": 1}, headers=headers
            )
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if loop.time() > give_up_at:
            raise SystemExit(f"the platform did not come up within {within:.0f} s")
        await asyncio.sleep(0.5)


async def seed(client: httpx.AsyncClient, login: Login) -> tuple[int, int]:
    today = datetime.now(BRUSSELS).date()
    created = 0
    for demo in SERVICES:
        company_id = DEMO.companies[demo.company].enterprise_number
        employed = [w for w in DEMO.workers if w.company_id == company_id and not w.contract_end]
        worker = employed[demo.worker]
        body = {
            "company_id": company_id,
            "worker_login": worker.login,
            "user_number": DEMO.users[demo.user].user_number,
            "service_date": (today - timedelta(days=demo.days_ago)).isoformat(),
            "hours": demo.hours,
            "activity_type": demo.activity_type,
        }
        staff = await login.headers(STAFF_OF[demo.company])
        user = await login.headers(USER_HOLDERS[demo.user].national_number)
        response = await client.post(
            "/api/v1/services", json=body, headers={**staff, "Idempotency-Key": demo.key}
        )
        response.raise_for_status()
        if response.status_code != 201:
            continue
        created += 1
        url = f"/api/v1/services/{response.json()['id']}"
        for method, action, payload in demo.then:
            target = f"{url}/{action}" if action else url
            actor = user if action in BY_USER else staff
            (await client.request(method, target, json=payload, headers=actor)).raise_for_status()
    for user_index, reference, quantity in ORDERS:
        user_number = DEMO.users[user_index].user_number
        holder = await login.headers(USER_HOLDERS[user_index].national_number)
        ordered = await client.post(
            f"/api/v1/users/{user_number}/voucher-orders",
            json={"reference": reference, "quantity": quantity},
            headers=holder,
        )
        ordered.raise_for_status()
    await seed_jobtracker(client, login, today)
    return created, len(SERVICES)


async def seed_jobtracker(client: httpx.AsyncClient, login: Login, today: date) -> None:
    """A first password for each demo worker without a Jobtracker account yet (a password
    the worker changed stays), and paper vouchers to check."""
    for worker in DEMO.workers:
        company = next(
            i for i, c in enumerate(DEMO.companies) if c.enterprise_number == worker.company_id
        )
        staff = await login.headers(STAFF_OF[company])
        path = f"/api/v1/workers/{worker.login}"
        account = (await client.get(f"{path}/account", headers=staff)).json()
        if not account["has_password"]:
            body = {"password": JOBTRACKER_FIRST_PASSWORD}
            (await client.put(f"{path}/password", json=body, headers=staff)).raise_for_status()
    operator = await login.headers(OPERATOR.national_number)
    for number, days_valid, used in PAPER_VOUCHERS:
        body = {
            "issue_date": (today - timedelta(days=240)).isoformat(),
            "expiry_date": (today + timedelta(days=days_valid)).isoformat(),
            "used_on": (today - timedelta(days=10)).isoformat() if used else None,
        }
        answer = await client.put(f"/api/v1/paper-vouchers/{number}", json=body, headers=operator)
        answer.raise_for_status()


def banner(gateway: str, temporal_ui: str, identity: str) -> str:
    return "\n".join(
        [
            "",
            "  Dienstencheques platform is running (Ctrl-C stops everything)",
            f"  Portal         {gateway}/  (log in: pick a demo person)",
            f"  Jobtracker     {gateway}/app/  (a worker's phone: login {DEMO.workers[0].login}, "
            f"first password {JOBTRACKER_FIRST_PASSWORD})",
            f"  API            {gateway}/api/v1/services",
            f"  API docs       {gateway}/docs  (OpenAPI {gateway}/openapi.json)",
            f"  Temporal UI    {temporal_ui}/namespaces/default/workflows",
            f'  Token (curl)   POST {identity}/dev/token  {{"national_number": "..."}}',
            "  Mail sink      var/mail/new/ (one file per message)",
            "",
        ]
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--gateway",
        default=f"http://127.0.0.1:{os.environ.get('DC_GATEWAY_PORT', '8000')}",
    )
    parser.add_argument(
        "--temporal-ui",
        default=f"http://127.0.0.1:{os.environ.get('TEMPORAL_UI_PORT', '8233')}",
    )
    parser.add_argument(
        "--identity",
        default=os.environ.get("DC_IDENTITY_URL", "http://127.0.0.1:8001"),
        help="the development identity provider that signs the demo people's tokens",
    )
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument(
        "--serve-forever",
        action="store_true",
        help="stay up after seeding (a Procfile process that exits stops the others)",
    )
    args = parser.parse_args()
    login = Login(args.identity)
    try:
        async with httpx.AsyncClient(base_url=args.gateway, timeout=60) as client:
            await wait_until_up(client, login, args.timeout)
            created, total = await seed(client, login)
    finally:
        await login.aclose()
    print(f"demo data: {created} services registered, {total - created} already there", flush=True)
    print(banner(args.gateway, args.temporal_ui, args.identity), flush=True)
    if args.serve_forever:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
