"""The wallet end to end, through the gateway, on the real Temporal dev server and PostgreSQL, with
real lifecycles and the real services-mgmt read model:

- an order whose WalletChange cannot be started records nothing; asked again, it is recorded once
  and pays the service waiting for it;
- the wallet answers who ordered, who asked reimbursement and who paid out, by name and role,
  the national number to operators only;
- the daily reconciliation finds a payment the read model missed (a lifecycle never told),
  counts it and repairs it (and counts as not repaired one whose service has no lifecycle), and
  an operator reads the counts through the gateway.

The platform runs in a Temporal namespace of its own (created here), so its workers and
workflows meet no other test's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from dc_common.db import Database
from dc_identity.demo import DEMO, OPERATOR, SCHELDE, SCHELDE_STAFF, USER_HOLDERS
from dc_services.schemas import brussels_today
from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.api import create_app as create_wallet
from dc_wallet.starter import TemporalStarter
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import AllocatePending, ReconciliationRun, ServiceClaim
from dc_workflows.payments import WalletReconciliationWorkflow
from dc_workflows.search_attributes import ensure_registered
from tests.support.platform import Platform, running_platform
from tests.support.servers import free_port, internal_client, postgres_database, serving
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

WORKER = DEMO.workers[0]  # Sofie, Schelde Gent


@pytest.fixture(scope="module")
async def wallet_platform(
    dev_server_environment: WorkflowEnvironment,
    postgres: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Platform]:
    namespace = f"wallet-{uuid.uuid4().hex[:8]}"
    await dev_server_environment.client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86_400)
        )
    )
    client = await Client.connect(
        dev_server_environment.client.service_client.config.target_host,
        namespace=namespace,
        data_converter=pydantic_data_converter,
    )
    await ensure_registered(client)
    async with (
        postgres_database("dc_identity_wallet") as identity_db,
        postgres_database("dc_services_wallet") as services_db,
        postgres_database("dc_wallet_wallet") as wallet_db,
        running_platform(
            client,
            identity_db_url=identity_db,
            services_db_url=services_db,
            wallet_db_url=wallet_db,
            # The reconciliation checks up to the moment it runs (no settling margin).
            wallet_overrides={"reconciliation_settle_seconds": 0},
            state_dir=tmp_path_factory.mktemp("wallet"),
        ) as platform,
    ):
        yield platform


async def ready_service(platform: Platform, household: int, hours: int) -> str:
    """A service of Schelde for the household, validated and confirmed: at 11, its claim in
    the wallet."""
    user = DEMO.users[household]
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(USER_HOLDERS[household].national_number) as holder,
    ):
        created = await staff.post(
            "/api/v1/services",
            json={
                "company_id": SCHELDE,
                "worker_login": WORKER.login,
                "user_number": user.user_number,
                "service_date": (brussels_today() - timedelta(days=2)).isoformat(),
                "hours": hours,
                "activity_type": 1,
            },
        )
        assert created.status_code == 201, created.text
        service_id: str = created.json()["id"]
        assert (await staff.post(f"/api/v1/services/{service_id}/validate")).status_code == 200
        confirmed = await holder.post(f"/api/v1/services/{service_id}/confirm")
        assert confirmed.json()["status"] == 11, confirmed.text
    return service_id


async def service_status(platform: Platform, service_id: str) -> dict[str, Any]:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        response = await staff.get(f"/api/v1/services/{service_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reaches(platform: Platform, service_id: str, status: int) -> None:
    async def there() -> bool:
        return (await service_status(platform, service_id))["status"] == status

    await eventually(there, within=30)


async def test_an_order_whose_start_fails_records_nothing_and_its_retry_pays_once(
    wallet_platform: Platform,
) -> None:
    platform = wallet_platform
    household = 1  # Luc Maes
    user, holder = DEMO.users[household], USER_HOLDERS[household]
    service_id = await ready_service(platform, household, hours=3)

    # The wallet API as it runs when Temporal does not answer (nothing listens on its port).
    down = await Client.connect(
        f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter, lazy=True
    )
    assert platform.wallet_settings is not None
    unreachable = create_wallet(platform.wallet_settings, starter=TemporalStarter(down))
    acting = {
        "X-Actor-Kind": "user",
        "X-Actor-Id": user.user_number,
        "X-Actor-Person": holder.national_number,
        "X-Actor-Name": holder.name,
    }
    order = {"reference": "luc-1", "quantity": 10}
    async with serving(unreachable) as url, internal_client(url) as wallet:
        failed = await wallet.post(
            f"/v1/users/{user.user_number}/voucher-orders", json=order, headers=acting
        )
    assert failed.status_code == 503, failed.text
    assert "nothing was recorded" in failed.json()["detail"]

    async with platform.as_person(holder.national_number) as household_client:
        wallet_view = await household_client.get(f"/api/v1/users/{user.user_number}/wallet")
        assert wallet_view.json()["orders_this_year"]["orders"] == []
        assert wallet_view.json()["balance"]["vouchers"] == 0
        assert (await service_status(platform, service_id))["status"] == 11

        retried = await household_client.post(
            f"/api/v1/users/{user.user_number}/voucher-orders", json=order
        )
        assert retried.status_code == 201, retried.text
        repeated = await household_client.post(
            f"/api/v1/users/{user.user_number}/voucher-orders", json=order
        )
        assert repeated.status_code == 200 and repeated.json() == retried.json()
        await reaches(platform, service_id, 12)
        wallet_view = await household_client.get(f"/api/v1/users/{user.user_number}/wallet")
    orders = wallet_view.json()["orders_this_year"]["orders"]
    assert [(o["reference"], o["quantity"]) for o in orders] == [("luc-1", 10)]
    assert wallet_view.json()["balance"]["vouchers"] == 7


async def test_who_ordered_asked_and_paid_out_by_name_and_role(
    wallet_platform: Platform,
) -> None:
    platform = wallet_platform
    household = 2  # Claire Lambert
    user, holder = DEMO.users[household], USER_HOLDERS[household]
    service_id = await ready_service(platform, household, hours=2)
    async with (
        platform.as_person(holder.national_number) as household_client,
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(OPERATOR.national_number) as operator,
    ):
        ordered = await household_client.post(
            f"/api/v1/users/{user.user_number}/voucher-orders",
            json={"reference": "claire-1", "quantity": 10},
        )
        assert ordered.status_code == 201, ordered.text
        assert ordered.json()["ordered_by"] == {
            "kind": "user",
            "id": user.user_number,
            "name": holder.name,
            "role": "household",
            "person": None,
        }
        assert holder.national_number not in ordered.text
        seen_by_operator = await operator.get(f"/api/v1/users/{user.user_number}/wallet")
        [order] = seen_by_operator.json()["orders_this_year"]["orders"]
        assert order["ordered_by"]["person"] == holder.national_number
        await reaches(platform, service_id, 12)

        requested = await staff.post(
            "/api/v1/reimbursement-requests",
            json={"company_id": SCHELDE, "reference": "WHO-1", "service_ids": [service_id]},
        )
        assert requested.status_code == 201, requested.text
        request_id = requested.json()["id"]
        assert requested.json()["requested_by"] == {
            "kind": "company",
            "id": SCHELDE,
            "name": SCHELDE_STAFF.name,
            "role": "company staff",
            "person": None,
        }
        await reaches(platform, service_id, 13)
        paid = await operator.post(f"/api/v1/reimbursement-requests/{request_id}/payout")
        assert paid.status_code == 202, paid.text
        await reaches(platform, service_id, 14)

        statement = await staff.get(f"/api/v1/reimbursement-requests/{request_id}")
        assert statement.status_code == 200, statement.text
        assert statement.json()["paid_by"] == {
            "kind": "operator",
            "id": "platform",
            "name": OPERATOR.name,
            "role": "operator",
            "person": None,
        }
        assert statement.json()["requested_by"]["name"] == SCHELDE_STAFF.name
        for number in (
            holder.national_number,
            SCHELDE_STAFF.national_number,
            OPERATOR.national_number,
        ):
            assert number not in statement.text
        listed = await staff.get("/api/v1/reimbursement-requests", params={"company_id": SCHELDE})
        assert SCHELDE_STAFF.national_number not in listed.text
        assert OPERATOR.national_number not in listed.text
        by_operator = await operator.get(f"/api/v1/reimbursement-requests/{request_id}")
        assert by_operator.json()["requested_by"]["person"] == SCHELDE_STAFF.national_number
        assert by_operator.json()["paid_by"]["person"] == OPERATOR.national_number


async def test_the_reconciliation_counts_and_repairs_a_payment_the_read_model_missed(
    wallet_platform: Platform,
) -> None:
    platform = wallet_platform
    assert platform.wallet_settings is not None
    household = 3  # Jürgen Weber
    user = DEMO.users[household]
    since = datetime.now(UTC)
    service_id = await ready_service(platform, household, hours=4)

    # The wallet pays the service, and its lifecycle is never told (as when the WalletChange of
    # an order of the earlier API was never started): the read model keeps showing 11. It pays
    # too a service the read model never had (no lifecycle to repair it).
    db = Database(platform.wallet_settings.database_url)
    try:
        activities = WalletActivities(db, platform.wallet_settings.policy())
        ghost = f"ghost-{uuid.uuid4().hex[:8]}"
        await activities.claim_payment(
            ServiceClaim(
                service_id=ghost,
                user_number=user.user_number,
                company_id=SCHELDE,
                branch_id=None,
                service_date=brussels_today() - timedelta(days=1),
                hours=2,
                ready_at=datetime.now(UTC),
            )
        )
        now = datetime.now(UTC)
        async with repository.writing(db) as session:
            await repository.lock_wallets(session, [user.user_number], now)
            await repository.place_order(
                session,
                user_number=user.user_number,
                reference="untold-1",
                quantity=10,
                issue_date=brussels_today(),
                policy=platform.wallet_settings.policy(),
                now=now,
            )
        paid = await activities.allocate_pending(
            AllocatePending(user_number=user.user_number, trigger="untold-1")
        )
    finally:
        await db.dispose()
    assert sorted((u.service_id, int(u.status)) for u in paid.updates) == sorted(
        [(service_id, 12), (ghost, 12)]
    )
    assert (await service_status(platform, service_id))["status"] == 11

    handle = await platform.temporal.start_workflow(
        WalletReconciliationWorkflow.run,
        ReconciliationRun(since=since, until=datetime.now(UTC)),
        id=f"wallet-reconciliation-by-hand-{uuid.uuid4().hex[:8]}",
        task_queue=TaskQueue.LIFECYCLE,
    )
    report = await handle.result()
    assert (report.counts.checked, report.counts.mismatched, report.counts.repaired) == (2, 2, 1)
    assert report.unrepaired == (ghost,)
    repaired = await service_status(platform, service_id)
    assert (repaired["status"], repaired["vouchers_allocated"]) == (12, 4)
    memo = await (await handle.describe()).memo()
    assert (memo["checked"], memo["mismatched"], memo["repaired"]) == (2, 2, 1)

    async with (
        platform.as_person(OPERATOR.national_number) as operator,
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
    ):
        latest = await operator.get("/api/v1/reconciliations/latest")
        assert latest.status_code == 200, latest.text
        assert latest.json()["key"] == handle.id
        assert (latest.json()["checked"], latest.json()["mismatched"]) == (2, 2)
        assert latest.json()["repaired"] == 1 and latest.json()["unrepaired"] == [ghost]
        assert (await staff.get("/api/v1/reconciliations/latest")).status_code == 403

        # The next run (as the schedule starts it: no window) starts where this one ended, and
        # finds the read model agreeing.
        following = await platform.temporal.execute_workflow(
            WalletReconciliationWorkflow.run,
            ReconciliationRun(),
            id=f"wallet-reconciliation-next-{uuid.uuid4().hex[:8]}",
            task_queue=TaskQueue.LIFECYCLE,
        )
        assert following.since == report.until
        assert following.counts.mismatched == 0
        latest = await operator.get("/api/v1/reconciliations/latest")
        assert latest.json()["key"] != handle.id
