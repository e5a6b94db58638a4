"""The wallet's HTTP API through httpx's ASGI transport, with a starter that plays Temporal (it
runs each WalletChange's activity as the workflow does): orders (minimum, yearly cap, idempotent
reference, nothing recorded when the start fails, 202 while the change runs), the wallet view,
reimbursement requests (validation, statement, idempotency), payouts, and who did each.

The same through the real Temporal dev server: test_wallet_temporal.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dc_common.actors import Actor
from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.service import request_id_for
from dc_wallet.settings import WalletSettings
from dc_workflows.contracts.payments import (
    OrderPlacement,
    ReimbursementSubmission,
    ServiceClaim,
    WalletChange,
    WalletChangeKind,
)
from services.wallet.tests.wallet_support import (
    COMPANY,
    HOUSEHOLD,
    OPERATOR,
    OTHER_COMPANY,
    OTHER_USER,
    STAFF,
    USER,
    FakeClock,
    PlayingStarter,
    actor_headers,
    check_invariants,
    run_change,
    running,
    settings_for,
    snapshot,
)
from tests.support.problems import assert_problem


@dataclass
class Api:
    http: httpx.AsyncClient
    starter: PlayingStarter
    clock: FakeClock
    activities: WalletActivities
    settings: WalletSettings

    async def run_changes(self) -> None:
        """Run the changes only started (payouts), as their workflows would."""
        for change in self.starter.take():
            await run_change(self.activities, change)

    async def claim(self, service_id: str, hours: int, *, days_ago: int = 1, **kw: str) -> None:
        await self.activities.claim_payment(
            ServiceClaim(
                service_id=service_id,
                user_number=kw.get("user", USER),
                company_id=kw.get("company", COMPANY),
                branch_id=None,
                service_date=self.clock.today - timedelta(days=days_ago),
                hours=hours,
                ready_at=self.clock.now,
            )
        )

    async def order(
        self, quantity: int, reference: str, user: str = USER, actor: Actor = HOUSEHOLD
    ) -> httpx.Response:
        return await self.http.post(
            f"/v1/users/{user}/voucher-orders",
            json={"reference": reference, "quantity": quantity},
            headers=actor_headers(actor.model_copy(update={"id": user})),
        )

    async def wallet(self, user: str = USER, reader: Actor = HOUSEHOLD) -> dict[str, Any]:
        response = await self.http.get(f"/v1/users/{user}/wallet", headers=actor_headers(reader))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def request(self, payload: dict[str, Any], actor: Actor = STAFF) -> httpx.Response:
        return await self.http.post(
            "/v1/reimbursement-requests", json=payload, headers=actor_headers(actor)
        )

    async def payout(self, request_id: str) -> httpx.Response:
        return await self.http.post(
            f"/v1/reimbursement-requests/{request_id}/payout", headers=actor_headers(OPERATOR)
        )


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'wallet.db'}")
    clock = FakeClock()
    db = repository.open_database(settings.database_url)
    activities = WalletActivities(db, settings.policy(), clock)
    starter = PlayingStarter(activities)
    try:
        async with running(settings, starter, clock) as http:
            yield Api(http, starter, clock, activities, settings)
    finally:
        await db.dispose()


# -- orders ---------------------------------------------------------------------------------------


async def test_an_order_issues_vouchers_valid_twelve_months_in_one_change(api: Api) -> None:
    response = await api.order(10, "PAY-1")
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["quantity"] == 10
    assert order["unit_price_cents"] == 1000 and order["amount_cents"] == 10_000
    assert order["issue_date"] == "2025-03-10"
    assert order["expiry_date"] == "2026-03-10"
    assert order["first_voucher"] == "V000000000100001"  # the first order's first
    assert order["last_voucher"] == "V000000000100010"
    # Who ordered, by name and role; the national number is for operators only.
    assert order["ordered_by"] == {
        "kind": "user",
        "id": USER,
        "name": HOUSEHOLD.name,
        "role": "household",
        "person": None,
    }
    assert api.starter.ran == [
        WalletChange(
            kind=WalletChangeKind.PLACE_ORDER,
            key=f"{USER}-PAY-1",
            order=OrderPlacement(
                user_number=USER, reference="PAY-1", quantity=10, ordered_by=HOUSEHOLD
            ),
        )
    ]
    seen_by_operator = await api.wallet(reader=OPERATOR)
    [listed] = seen_by_operator["orders_this_year"]["orders"]
    assert listed["ordered_by"]["person"] == HOUSEHOLD.person
    [own] = (await api.wallet())["orders_this_year"]["orders"]
    assert own["ordered_by"]["person"] is None and HOUSEHOLD.person not in str(own)


async def test_an_order_names_its_acting_party_or_is_refused(api: Api) -> None:
    response = await api.http.post(
        f"/v1/users/{USER}/voucher-orders", json={"reference": "PAY-1", "quantity": 10}
    )
    assert_problem(response, 401)
    assert api.starter.ran == []


async def test_an_order_below_the_minimum_is_refused_naming_why(api: Api) -> None:
    body = assert_problem(await api.order(9, "PAY-1"), 422, "quantity")
    assert body["detail"] == "quantity: order too small: at least 10 vouchers"
    assert not api.starter.ran
    for bad in ({"reference": "PAY-1"}, {"reference": "", "quantity": 10}):
        response = await api.http.post(
            f"/v1/users/{USER}/voucher-orders", json=bad, headers=actor_headers(HOUSEHOLD)
        )
        assert_problem(response, 422)
    assert_problem(await api.http.get("/v1/users/12345/wallet"), 422, "user_number")


async def test_the_yearly_cap_counts_the_orders_of_the_calendar_year(api: Api) -> None:
    assert (await api.order(490, "big")).status_code == 201
    body = assert_problem(await api.order(20, "more"), 409, "quantity")
    assert body["detail"] == "quantity: yearly cap exceeded: 10 left this year"
    assert (await api.order(10, "last")).status_code == 201
    body = assert_problem(await api.order(10, "one-more"), 409, "quantity")
    assert body["detail"] == "quantity: yearly cap exceeded: 0 left this year"
    # A refused order recorded nothing: its reference is free for another order.
    api.clock.now = api.clock.now.replace(year=2026, month=1, day=1, hour=0)  # 01:00 Brussels
    assert (await api.order(10, "one-more")).status_code == 201
    assert (await api.order(490, "new-year")).status_code == 201


async def test_the_same_reference_returns_the_first_order_and_issues_nothing_twice(
    api: Api,
) -> None:
    first = await api.order(10, "PAY-1")
    again = await api.order(10, "PAY-1")
    assert again.status_code == 200 and again.json() == first.json()
    other_quantity = assert_problem(await api.order(20, "PAY-1"), 409, "reference")
    assert other_quantity["detail"] == "reference: PAY-1 is the order of 10 vouchers"
    wallet = await api.wallet()
    assert wallet["balance"] == {"vouchers": 10, "value_cents": 10_000}
    assert wallet["orders_this_year"]["ordered"] == 10
    assert len(api.starter.ran) == 1
    # Another user may use the same reference.
    assert (await api.order(10, "PAY-1", user=OTHER_USER)).status_code == 201


async def test_a_failing_workflow_start_records_nothing_and_the_retry_pays_once(
    api: Api,
) -> None:
    await api.claim("waiting", 4, days_ago=2)
    api.starter.unavailable = True
    body = assert_problem(await api.order(10, "PAY-9"), 503)
    assert body["detail"] == (
        "nothing was recorded: the order PAY-9 was not placed; try again with the same reference"
    )
    wallet = await api.wallet()
    assert wallet["balance"]["vouchers"] == 0 and wallet["orders_this_year"]["orders"] == []
    assert wallet["allocations"][0]["status"] == 11
    api.starter.unavailable = False
    assert (await api.order(10, "PAY-9")).status_code == 201
    assert (await api.order(10, "PAY-9")).status_code == 200
    wallet = await api.wallet()
    assert [o["reference"] for o in wallet["orders_this_year"]["orders"]] == ["PAY-9"]
    assert wallet["balance"]["vouchers"] == 6
    [paid] = wallet["allocations"]
    assert (paid["service_id"], paid["status"], paid["vouchers_allocated"]) == ("waiting", 12, 4)


async def test_an_order_still_being_processed_answers_202_and_its_outcome_later(
    api: Api,
) -> None:
    api.starter.hold = True
    response = await api.order(10, "PAY-5")
    assert response.status_code == 202
    assert response.headers["retry-after"] == "2"
    assert response.json() == {
        "state": "processing",
        "detail": "the order PAY-5 is being processed; ask again with the same reference for "
        "its outcome",
    }
    assert (await api.order(10, "PAY-5")).status_code == 202  # still running: started once
    await api.starter.release()
    done = await api.order(10, "PAY-5")
    assert done.status_code == 200 and done.json()["reference"] == "PAY-5"
    assert len(api.starter.ran) == 1


async def test_an_order_the_earlier_api_recorded_without_its_allocation_is_paid_when_repeated(
    api: Api,
) -> None:
    """Before, an order was written first and its allocate-pending WalletChange started after:
    a start that failed left the waiting services unpaid. The order repeated now pays them."""
    await api.claim("waiting", 3)
    now = api.clock.now
    async with repository.writing(api.activities._db) as session:
        await repository.lock_wallets(session, [USER], now)
        await repository.place_order(
            session,
            user_number=USER,
            reference="OLD-1",
            quantity=10,
            issue_date=api.clock.today,
            policy=api.settings.policy(),
            now=now,
        )
    assert (await api.wallet())["allocations"][0]["status"] == 11
    again = await api.order(10, "OLD-1")
    assert again.status_code == 200 and again.json()["ordered_by"] is None
    wallet = await api.wallet()
    assert wallet["allocations"][0]["status"] == 12 and wallet["balance"]["vouchers"] == 7


# -- the wallet view ---------------------------------------------------------------------------


async def test_the_wallet_shows_balance_vouchers_by_expiry_allocations_and_the_cap(
    api: Api,
) -> None:
    await api.order(10, "march")
    api.clock.advance(days=40)
    await api.order(12, "april")
    await api.claim("svc-1", 4, days_ago=3)
    await api.claim("svc-2", 9, days_ago=2)
    wallet = await api.wallet()
    assert wallet["as_of"] == "2025-04-19"
    # 22 bought, 4 + 9 allocated; the ones that expire first went first.
    assert wallet["balance"] == {"vouchers": 9, "value_cents": 9000}
    assert wallet["vouchers_by_expiry"] == [
        {"expiry_date": "2026-04-19", "vouchers": 9, "value_cents": 9000}
    ]
    payments = {item["service_id"]: item for item in wallet["allocations"]}
    assert payments["svc-1"]["status"] == 12 and payments["svc-1"]["vouchers_allocated"] == 4
    assert payments["svc-2"]["status"] == 12
    assert [step["vouchers"] for step in payments["svc-2"]["steps"]] == [9]
    assert wallet["orders_this_year"] == {
        "year": 2025,
        "ordered": 22,
        "cap": 500,
        "left": 478,
        "orders": wallet["orders_this_year"]["orders"],
    }
    assert [o["reference"] for o in wallet["orders_this_year"]["orders"]] == ["march", "april"]
    empty = await api.wallet(OTHER_USER)
    assert empty["balance"] == {"vouchers": 0, "value_cents": 0}
    assert empty["allocations"] == [] and empty["orders_this_year"]["left"] == 500


# -- reimbursement ---------------------------------------------------------------------------


async def _paid_services(api: Api) -> None:
    """svc-a fully paid (4), svc-b partially (4 of 9), svc-c of another company (2 of 2)."""
    await api.order(10, "PAY-1")
    await api.claim("svc-a", 4, days_ago=5)
    await api.claim("svc-c", 2, days_ago=4, company=OTHER_COMPANY)
    await api.claim("svc-b", 9, days_ago=3)
    await api.claim("svc-none", 3, days_ago=2)  # nothing left for it: stays 11


async def test_a_reimbursement_request_names_every_service_it_cannot_pay(api: Api) -> None:
    await _paid_services(api)
    ran = len(api.starter.ran)
    response = await api.request(
        {
            "company_id": COMPANY,
            "reference": "march",
            "service_ids": ["svc-a", "svc-c", "svc-none", "unknown"],
        }
    )
    body = assert_problem(response, 422)
    assert body["title"] == "Service not payable"
    reasons = {error["field"]: error["reason"] for error in body["errors"]}
    assert set(reasons) == {"service_ids.1", "service_ids.2", "service_ids.3"}
    assert reasons["service_ids.1"] == (
        f"service not payable: svc-c: not a service of company {COMPANY}"
    )
    assert reasons["service_ids.2"] == (
        "service not payable: svc-none: no allocated vouchers that are not yet submitted"
    )
    assert reasons["service_ids.3"].startswith("service not payable: unknown: no wallet pays it")
    assert len(api.starter.ran) == ran  # refused: nothing recorded
    assert (await api.http.get("/v1/reimbursement-requests")).json() == []
    invalid = [
        {"company_id": COMPANY, "reference": "x" * 26, "service_ids": ["svc-a"]},
        {"company_id": COMPANY, "reference": "", "service_ids": ["svc-a"]},
        {"company_id": COMPANY, "reference": " padded", "service_ids": ["svc-a"]},
        {"company_id": COMPANY, "reference": "ok", "service_ids": []},
        {"company_id": COMPANY, "reference": "ok", "service_ids": ["svc-a", "svc-a"]},
        {"company_id": "123", "reference": "ok", "service_ids": ["svc-a"]},
    ]
    fields = ["reference", "reference", "reference", "service_ids", "service_ids", "company_id"]
    for payload, field in zip(invalid, fields, strict=True):
        assert_problem(await api.request(payload), 422, field)


async def test_request_statement_payout_and_who_did_each(api: Api) -> None:
    await _paid_services(api)
    reference = "2025-03 week 1 of many"  # 22 characters, within the 25 allowed
    payload = {"company_id": COMPANY, "reference": reference, "service_ids": ["svc-b", "svc-a"]}
    created = await api.request(payload)
    assert created.status_code == 201, created.text
    statement = created.json()
    request_id = request_id_for(COMPANY, reference)
    assert statement["id"] == request_id
    assert created.headers["location"] == f"/v1/reimbursement-requests/{request_id}"
    # Recorded and submitted in one step.
    assert statement["status"] == "submitted"
    assert statement["requested_by"] == {
        "kind": "company",
        "id": COMPANY,
        "name": STAFF.name,
        "role": "company staff",
        "person": None,
    }
    assert statement["paid_by"] is None
    assert statement["vouchers"] == 4 + 4  # svc-b got what was left of the 10: 4 of 9
    assert statement["voucher_value_cents"] == 2752
    assert statement["amount_cents"] == 8 * 2752
    assert [
        (line["service_id"], line["vouchers"], line["amount_cents"])
        for line in statement["services"]
    ] == [("svc-a", 4, 4 * 2752), ("svc-b", 4, 4 * 2752)]
    # The same request again: the first one, recorded once.
    again = await api.request(payload)
    assert again.status_code == 200 and again.json()["id"] == request_id
    clash = {**payload, "service_ids": ["svc-a"]}
    body = assert_problem(await api.request(clash), 409, "reference")
    assert body["detail"] == (
        f"reference: {reference} names another reimbursement request ({request_id}) of other "
        "services"
    )
    # Those vouchers are in a request: a second request of the same services has nothing to ask.
    assert_problem(await api.request({**payload, "reference": "another"}), 422)
    wallet = await api.wallet()
    statuses = {item["service_id"]: item["status"] for item in wallet["allocations"]}
    assert statuses == {"svc-a": 13, "svc-b": 17, "svc-c": 12, "svc-none": 11}
    # Payout: accepted and started once; repeated while running, still 202; once paid, 200.
    first = await api.payout(request_id)
    assert first.status_code == 202 and first.json()["status"] == "submitted"
    assert (await api.payout(request_id)).status_code == 202
    assert len(api.starter.started) == 1
    await api.run_changes()
    paid = await api.payout(request_id)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert paid.json()["paid_by"] == {
        "kind": "operator",
        "id": "platform",
        "name": OPERATOR.name,
        "role": "operator",
        "person": OPERATOR.person,  # an operator reads it
    }
    assert not api.starter.started
    wallet = await api.wallet()
    statuses = {item["service_id"]: item["status"] for item in wallet["allocations"]}
    assert statuses == {"svc-a": 14, "svc-b": 17, "svc-c": 12, "svc-none": 11}
    listed = await api.http.get(
        "/v1/reimbursement-requests",
        params={"company_id": COMPANY},
        headers={"X-Actor-Kind": "company"},
    )
    [item] = listed.json()
    assert (item["id"], item["status"], item["amount_cents"]) == (request_id, "paid", 8 * 2752)
    assert item["paid_by"]["name"] == OPERATOR.name and item["paid_by"]["person"] is None
    assert item["requested_by"]["person"] is None
    assert STAFF.person not in listed.text and OPERATOR.person not in listed.text
    by_operator = await api.http.get(
        f"/v1/reimbursement-requests/{request_id}", headers={"X-Actor-Kind": "operator"}
    )
    assert by_operator.json()["requested_by"]["person"] == STAFF.person
    assert (
        await api.http.get("/v1/reimbursement-requests", params={"company_id": OTHER_COMPANY})
    ).json() == []
    assert_problem(await api.http.get("/v1/reimbursement-requests/nope"), 404)
    assert_problem(await api.payout("nope"), 404)
    check_invariants(await snapshot(api.activities._db), api.settings.policy())


async def test_a_request_the_earlier_api_recorded_is_submitted_when_repeated(api: Api) -> None:
    """Before, a request was written first and its submit-reimbursement WalletChange started
    after: until that ran, a payout is refused (409); the same request repeated submits it, and
    the earlier change, when it runs, finds nothing more to do."""
    await _paid_services(api)
    request_id = request_id_for(COMPANY, "OLD")
    now = api.clock.now
    async with repository.writing(api.activities._db) as session:
        await repository.lock_wallets(session, [USER], now)
        await repository.create_request(
            session,
            request_id=request_id,
            company_id=COMPANY,
            reference="OLD",
            service_ids=["svc-a"],
            policy=api.settings.policy(),
            now=now,
        )
    assert_problem(await api.payout(request_id), 409)
    again = await api.request({"company_id": COMPANY, "reference": "OLD", "service_ids": ["svc-a"]})
    assert again.status_code == 200 and again.json()["status"] == "submitted"
    earlier = WalletChange(
        kind=WalletChangeKind.SUBMIT_REIMBURSEMENT,
        key=request_id,
        reimbursement=ReimbursementSubmission(request_id=request_id),
    )
    assert (await run_change(api.activities, earlier)).updates == ()
    assert (await api.payout(request_id)).status_code == 202
    statuses = {item["service_id"]: item["status"] for item in (await api.wallet())["allocations"]}
    assert statuses["svc-a"] == 13
    check_invariants(await snapshot(api.activities._db), api.settings.policy())


async def test_no_reconciliation_has_finished_yet(api: Api) -> None:
    assert_problem(await api.http.get("/v1/reconciliations/latest"), 404)


async def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DC_WALLET_VOUCHER_PRICE_CENTS", "950")
    monkeypatch.setenv("DC_WALLET_YEARLY_CAP", "1000")
    monkeypatch.setenv("DC_WALLET_REIMBURSEMENT_VALUE_CENTS", "2800")
    monkeypatch.setenv("DC_WALLET_PORT", "18003")
    monkeypatch.setenv("DC_WALLET_REFUND_EXPIRED_FROM", "2026-01-01")
    monkeypatch.setenv("DC_WALLET_CHANGE_WAIT_SECONDS", "4.5")
    monkeypatch.setenv("DC_WALLET_RECONCILIATION_SETTLE_SECONDS", "60")
    settings = WalletSettings()
    policy = settings.policy()
    assert (policy.voucher_price_cents, policy.yearly_cap) == (950, 1000)
    assert policy.reimbursement_value_cents == 2800 and settings.port == 18003
    assert policy.refund_expired_from == date(2026, 1, 1)
    assert (policy.minimum_order, policy.voucher_validity_months) == (10, 12)
    assert settings.database_url == "sqlite+aiosqlite:///var/wallet.db"
    assert settings.change_wait == timedelta(seconds=4.5)
    assert settings.reconciliation_settle_seconds == 60
    assert settings.reconciliation_first_window_days == 31
