"""Split payment end to end, through the gateway, on the real Temporal dev server and PostgreSQL:
a 4-hour service paid 2, then 1, then 1 vouchers walks 16, 17 (after a reimbursement request),
18, 19, then 13 and 14, and its history says so.

The first order (10 vouchers) goes to the user's older service first (oldest service first) and
leaves 2 for the 4-hour one. The next two orders are of one voucher each: the priority rule makes a
partially paid service the first one served by any new order, so with orders of 10 it would
receive both missing vouchers at once; this platform therefore runs with a minimum order of 1
(a policy value from configuration; the minimum of 10 is tested in the wallet's own tests).
"""

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from temporalio.client import Client

from dc_identity.demo import DEMO, OPERATOR, SCHELDE, SCHELDE_STAFF, USER_HOLDERS
from dc_services.schemas import brussels_today
from tests.support.platform import Platform, running_platform
from tests.support.servers import postgres_database
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

USER = DEMO.users[4]  # Emma Wilson's household: no other test orders for it on this platform
HOLDER = USER_HOLDERS[4]


@pytest.fixture(scope="module")
async def paying_platform(
    payments_dev_server: Client, postgres: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    async with (
        postgres_database("dc_identity_pay") as identity_db,
        postgres_database("dc_services_pay") as services_db,
        postgres_database("dc_wallet_pay") as wallet_db,
        running_platform(
            payments_dev_server,
            identity_db_url=identity_db,
            services_db_url=services_db,
            wallet_db_url=wallet_db,
            wallet_overrides={"minimum_order": 1},
            state_dir=tmp_path_factory.mktemp("payments"),
        ) as platform,
    ):
        yield platform


async def agreed_service(
    staff: httpx.AsyncClient, user: httpx.AsyncClient, *, days_ago: int, hours: int
) -> str:
    created = await staff.post(
        "/api/v1/services",
        json={
            "company_id": SCHELDE,
            "worker_login": DEMO.workers[0].login,
            "user_number": USER.user_number,
            "service_date": (brussels_today() - timedelta(days=days_ago)).isoformat(),
            "hours": hours,
            "activity_type": 1,
        },
    )
    assert created.status_code == 201, created.text
    service_id: str = created.json()["id"]
    assert (await staff.post(f"/api/v1/services/{service_id}/validate")).status_code == 200
    assert (await user.post(f"/api/v1/services/{service_id}/confirm")).json()["status"] == 11
    return service_id


class Story:
    def __init__(self, staff: httpx.AsyncClient, user: httpx.AsyncClient) -> None:
        self.staff, self.user = staff, user
        self.orders = 0

    async def service(self, service_id: str) -> dict[str, Any]:
        response = await self.staff.get(f"/api/v1/services/{service_id}")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    async def reaches(self, service_id: str, status: int) -> dict[str, Any]:
        async def there() -> bool:
            return (await self.service(service_id))["status"] == status

        await eventually(there, within=30)
        return await self.service(service_id)

    async def order(self, quantity: int) -> None:
        self.orders += 1
        response = await self.user.post(
            f"/api/v1/users/{USER.user_number}/voucher-orders",
            json={"reference": f"e2e-order-{self.orders}", "quantity": quantity},
        )
        assert response.status_code == 201, response.text

    async def payable(self) -> set[str]:
        """The services whose allocated vouchers no request holds yet."""
        params = {"company_id": SCHELDE, "payable": "true", "page_size": 200}
        listed = await self.staff.get("/api/v1/services", params=params)
        assert listed.status_code == 200, listed.text
        return {item["id"] for item in listed.json()["items"]}

    async def request_reimbursement(self, reference: str, *service_ids: str) -> str:
        response = await self.staff.post(
            "/api/v1/reimbursement-requests",
            json={"company_id": SCHELDE, "reference": reference, "service_ids": list(service_ids)},
        )
        assert response.status_code == 201, response.text
        request_id: str = response.json()["id"]
        return request_id


async def test_four_hours_paid_two_then_one_then_one(paying_platform: Platform) -> None:
    platform = paying_platform
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(HOLDER.national_number) as user,
        platform.as_person(OPERATOR.national_number) as operator,
    ):
        story = Story(staff, user)
        older = await agreed_service(staff, user, days_ago=10, hours=8)
        service = await agreed_service(staff, user, days_ago=3, hours=4)

        await story.order(10)  # the older service first: 8 to it, 2 to ours
        assert (await story.reaches(older, 12))["vouchers_allocated"] == 8
        assert (await story.reaches(service, 16))["vouchers_allocated"] == 2

        assert await story.payable() == {older, service}
        first = await story.request_reimbursement("E2E-1", older, service)
        assert (await story.reaches(service, 17))["vouchers_submitted"] == 2
        await story.reaches(older, 13)
        assert await story.payable() == set()
        statement = (await staff.get(f"/api/v1/reimbursement-requests/{first}")).json()
        assert (statement["vouchers"], statement["amount_cents"]) == (10, 10 * 2752)
        pdf = await staff.get(
            f"/api/v1/reimbursement-requests/{first}/statement.pdf",
            headers={"Accept-Language": "fr-BE"},
        )
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Décompte du remboursement" in text and "275,20 €" in text
        assert text.count(USER.user_number) == 2
        paid = await operator.post(f"/api/v1/reimbursement-requests/{first}/payout")
        assert paid.status_code in (200, 202), paid.text
        await story.reaches(older, 14)

        await story.order(1)
        assert (await story.reaches(service, 18))["vouchers_allocated"] == 3
        await story.order(1)
        assert (await story.reaches(service, 19))["vouchers_allocated"] == 4
        assert await story.payable() == {service}

        second = await story.request_reimbursement("E2E-2", service)
        await story.reaches(service, 13)
        assert (await operator.post(f"/api/v1/reimbursement-requests/{second}/payout")).is_success
        final = await story.reaches(service, 14)

    assert (final["vouchers_allocated"], final["vouchers_reimbursed"]) == (4, 4)
    walked = [entry["status"] for entry in final["history"]]
    assert _without_repeats(walked) == [1, 2, 11, 16, 17, 18, 19, 13, 14]
    assert {entry["actor"]["id"] for entry in final["history"][3:]} == {"wallet"}
    wallet = await platform_wallet(platform, user_holder=HOLDER.national_number)
    assert wallet["balance"]["vouchers"] == 0


def _without_repeats(statuses: list[int]) -> list[int]:
    """A payout that completes nothing yet repeats the status it leaves as it is."""
    return [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]


async def platform_wallet(platform: Platform, *, user_holder: str) -> dict[str, Any]:
    async with platform.as_person(user_holder) as user:
        response = await user.get(f"/api/v1/users/{USER.user_number}/wallet")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
