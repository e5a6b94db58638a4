"""Workers killed (SIGKILL) at random moments while a household's wallet pays for its services:
the wallet worker (the allocation), the services-mgmt worker (which hosts the lifecycles) and
the lifecycle worker, each restarted at once, for several seeds. Afterwards every service is
paid once and the wallet holds what an uninterrupted run on a platform of its own leaves: the
same balance, the same services paid, each with the same vouchers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dc_identity.demo import DEMO, SCHELDE_STAFF, USER_HOLDERS
from tests.faults.platforms import agreed_service, days_from, platform_in, workers_of
from tests.support.platform import Platform
from tests.support.servers import temporal_dev_server
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SEEDS = (11, 4242)
SERVICES = 8
KILLS = 5
USER = DEMO.users[1]
HOLDER = USER_HOLDERS[1]
FIRST_DAY = date.today() - timedelta(days=40)
PAYING_WORKERS = ("wallet", "services-mgmt", "lifecycle")


@dataclass
class Paid:
    """What a wallet shows once every service is paid: balance and payments, without ids."""

    balance: dict[str, Any]
    payments: list[tuple[Any, ...]]
    histories: list[list[int]]


async def paid(platform: Platform, kill_seed: int | None) -> tuple[Paid, int]:
    """The household's services registered, agreed and paid from its wallet, with the workers
    killed at random moments (``kill_seed``) or never; the end, and how many kills came before
    every service was paid."""
    chance = random.Random(kill_seed)
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(HOLDER.national_number) as household,
    ):
        with workers_of(platform, PAYING_WORKERS) as workers:
            order = {"reference": "kills", "quantity": SERVICES + 2}
            placed = await household.post(
                f"/api/v1/users/{USER.user_number}/voucher-orders", json=order
            )
            assert placed.status_code == 201, placed.text
            paying = asyncio.gather(
                *(
                    agreed_service(staff, household, USER.user_number, day)
                    for day in days_from(FIRST_DAY, SERVICES)
                )
            )
            mid_payment = 0
            while kill_seed is not None and workers.kills < KILLS:
                await asyncio.sleep(chance.uniform(0.2, 1.2))
                workers.kill_and_restart(chance.choice(PAYING_WORKERS))
                mid_payment += not await all_paid(staff, household)
            ids = await paying

            async def every_one_paid() -> bool:
                return await all_paid(staff, household, ids)

            await eventually(every_one_paid, within=180)
            wallet = (await household.get(f"/api/v1/users/{USER.user_number}/wallet")).json()
            histories = [
                [e["status"] for e in (await staff.get(f"/api/v1/services/{i}")).json()["history"]]
                for i in ids
            ]
    payments = sorted(
        (p["service_date"], p["hours"], p["status"], p["vouchers_allocated"])
        for p in wallet["allocations"]
    )
    return Paid(wallet["balance"], payments, histories), mid_payment


async def all_paid(
    staff: httpx.AsyncClient, household: httpx.AsyncClient, ids: list[str] | None = None
) -> bool:
    """Every service of the run paid (12) in the read model and in the wallet."""
    wallet = (await household.get(f"/api/v1/users/{USER.user_number}/wallet")).json()
    if len(wallet.get("allocations", [])) < SERVICES:
        return False
    for service_id in ids or [p["service_id"] for p in wallet["allocations"]]:
        if (await staff.get(f"/api/v1/services/{service_id}")).json()["status"] != 12:
            return False
    return True


@pytest.fixture(scope="module")
async def temporal_address() -> AsyncIterator[str]:
    namespaces = ["paid-calm", *(f"paid-killed-{seed}" for seed in SEEDS)]
    async with temporal_dev_server(*(a for n in namespaces for a in ("--namespace", n))) as env:
        yield env.client.service_client.config.target_host


WALLET = {"minimum_order": 1}


@pytest.fixture(scope="module")
async def uninterrupted(
    temporal_address: str, postgres: None, tmp_path_factory: pytest.TempPathFactory
) -> Paid:
    calm_dir = tmp_path_factory.mktemp("paid-calm")
    async with platform_in(
        "paid-calm", temporal_address, calm_dir, wallet_overrides=WALLET
    ) as platform:
        calm, _ = await paid(platform, kill_seed=None)
    assert calm.balance["vouchers"] == 2, calm.balance
    assert [p[2:] for p in calm.payments] == [(12, 1)] * SERVICES
    assert calm.histories == [[1, 2, 11, 12]] * SERVICES
    return calm


@pytest.mark.parametrize("seed", SEEDS)
async def test_workers_killed_while_a_wallet_pays_leave_what_an_uninterrupted_run_leaves(
    uninterrupted: Paid, temporal_address: str, tmp_path: Path, seed: int
) -> None:
    namespace = f"paid-killed-{seed}"
    async with platform_in(
        namespace, temporal_address, tmp_path, wallet_overrides=WALLET
    ) as platform:
        killed, mid_payment = await paid(platform, kill_seed=seed)

    print(f"seed {seed}: {KILLS} kills, {mid_payment} before every service was paid")
    assert mid_payment >= 2, "the kills must hit the payments, not only what follows them"
    assert killed == uninterrupted
