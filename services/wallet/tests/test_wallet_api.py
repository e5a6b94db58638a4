"""The wallet's HTTP API through httpx's ASGI transport, with a fake workflow starter: orders
(minimum, yearly cap, idempotent reference), the wallet view, reimbursement requests (validation,
statement, idempotency) and payouts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.service import request_id_for
from dc_wallet.settings import WalletSettings
from dc_workflows.contracts.payments import (
    AllocatePending,
    ServiceClaim,
    WalletChange,
    WalletChangeKind,
)
from services.wallet.tests.wallet_support import (
    COMPANY,
    OTHER_COMPANY,
    OTHER_USER,
    USER,
    FakeClock,
    RecordingStarter,
    assert_problem,
    check_invariants,
    run_change,
    running,
    settings_for,
    snapshot,
)


@dataclass
class Api:
    http: httpx.AsyncClient
    starter: RecordingStarter
    clock: FakeClock
    activities: WalletActivities
    settings: WalletSettings

    async def run_changes(self) -> None:
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

    async def order(self, quantity: int, reference: str, user: str = USER) -> httpx.Response:
        return await self.http.post(
            f"/v1/users/{user}/voucher-orders",
            json={"reference": reference, "quantity": quantity},
        )


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'wallet.db'}")
    starter, clock = RecordingStarter(), FakeClock()
    db = repository.open_database(settings.database_url)
    try:
        async with running(settings, starter, clock) as http:
            yield Api(
                http, starter, clock, WalletActivities(db, settings.policy(), clock), settings
            )
    finally:
        await db.dispose()


# -- orders ---------------------------------------------------------------------------------------


async def test_an_order_issues_vouchers_valid_twelve_months_and_starts_the_allocation(
    api: Api,
) -> None:
    response = await api.order(10, "PAY-1")
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["quantity"] == 10
    assert order["unit_price_cents"] == 1000 and order["amount_cents"] == 10_000
    assert order["issue_date"] == "2025-03-10"
    assert order["expiry_date"] == "2026-03-10"
    assert order["first_voucher"] == "V000000000001"
    assert order["last_voucher"] == "V000000000010"
    assert api.starter.started == [
        WalletChange(
            kind=WalletChangeKind.ALLOCATE_PENDING,
            key=f"{USER}-PAY-1",
            allocate=AllocatePending(user_number=USER, trigger="PAY-1"),
        )
    ]


async def test_an_order_below_the_minimum_is_refused_naming_why(api: Api) -> None:
    body = assert_problem(await api.order(9, "PAY-1"), 422, "quantity")
    assert body["detail"] == "quantity: order too small: at least 10 vouchers"
    assert not api.starter.started
    for bad in ({"reference": "PAY-1"}, {"reference": "", "quantity": 10}):
        response = await api.http.post(f"/v1/users/{USER}/voucher-orders", json=bad)
        assert_problem(response, 422)
    assert_problem(await api.http.get("/v1/users/12345/wallet"), 422, "user_number")


async def test_the_yearly_cap_counts_the_orders_of_the_calendar_year(api: Api) -> None:
    assert (await api.order(490, "big")).status_code == 201
    body = assert_problem(await api.order(20, "more"), 409, "quantity")
    assert body["detail"] == "quantity: yearly cap exceeded: 10 left this year"
    assert (await api.order(10, "last")).status_code == 201
    body = assert_problem(await api.order(10, "one-more"), 409, "quantity")
    assert body["detail"] == "quantity: yearly cap exceeded: 0 left this year"
    api.clock.now = api.clock.now.replace(year=2026, month=1, day=1, hour=0)  # 01:00 Brussels
    assert (await api.order(500, "new-year")).status_code == 201


async def test_the_same_reference_returns_the_first_order_and_issues_nothing_twice(
    api: Api,
) -> None:
    first = await api.order(10, "PAY-1")
    again = await api.order(10, "PAY-1")
    assert again.status_code == 200 and again.json() == first.json()
    other_quantity = assert_problem(await api.order(20, "PAY-1"), 409, "reference")
    assert "is the order of 10 vouchers" in other_quantity["detail"]
    wallet = (await api.http.get(f"/v1/users/{USER}/wallet")).json()
    assert wallet["balance"] == {"vouchers": 10, "value_cents": 10_000}
    assert wallet["orders_this_year"]["ordered"] == 10
    # Both answers started (idempotently) the same allocation.
    assert len(api.starter.started) == 1
    # Another user may use the same reference.
    assert (await api.order(10, "PAY-1", user=OTHER_USER)).status_code == 201


async def test_a_failing_workflow_start_answers_503_and_the_order_can_be_repeated(
    api: Api,
) -> None:
    real_start = api.starter.start

    async def unavailable(change: WalletChange) -> None:
        raise RuntimeError("temporal is down")

    api.starter.start = unavailable  # type: ignore[method-assign]
    body = assert_problem(await api.order(10, "PAY-9"), 503)
    assert "the order PAY-9 is recorded; repeat it" in body["detail"]
    api.starter.start = real_start  # type: ignore[method-assign]
    assert (await api.order(10, "PAY-9")).status_code == 200
    assert [change.key for change in api.starter.started] == [f"{USER}-PAY-9"]


# -- the wallet view ---------------------------------------------------------------------------


async def test_the_wallet_shows_balance_vouchers_by_expiry_allocations_and_the_cap(
    api: Api,
) -> None:
    await api.order(10, "march")
    api.clock.advance(days=40)
    await api.order(12, "april")
    await api.run_changes()
    await api.claim("svc-1", 4, days_ago=3)
    await api.claim("svc-2", 9, days_ago=2)
    wallet = (await api.http.get(f"/v1/users/{USER}/wallet")).json()
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
    empty = (await api.http.get(f"/v1/users/{OTHER_USER}/wallet")).json()
    assert empty["balance"] == {"vouchers": 0, "value_cents": 0}
    assert empty["allocations"] == [] and empty["orders_this_year"]["left"] == 500


# -- reimbursement ---------------------------------------------------------------------------


async def _paid_services(api: Api) -> None:
    """svc-a fully paid (4), svc-b partially (6 of 9), svc-c of another company (2 of 2)."""
    await api.order(10, "PAY-1")
    await api.run_changes()
    await api.claim("svc-a", 4, days_ago=5)
    await api.claim("svc-c", 2, days_ago=4, company=OTHER_COMPANY)
    await api.claim("svc-b", 9, days_ago=3)
    await api.claim("svc-none", 3, days_ago=2)  # nothing left for it: stays 11


async def test_a_reimbursement_request_names_every_service_it_cannot_pay(api: Api) -> None:
    await _paid_services(api)
    response = await api.http.post(
        "/v1/reimbursement-requests",
        json={
            "company_id": COMPANY,
            "reference": "march",
            "service_ids": ["svc-a", "svc-c", "svc-none", "unknown"],
        },
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
    assert not api.starter.started  # no submission started
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
        response = await api.http.post("/v1/reimbursement-requests", json=payload)
        assert_problem(response, 422, field)


async def test_request_statement_submission_and_payout(api: Api) -> None:
    await _paid_services(api)
    reference = "2025-03 week 1 of many"  # 22 characters, within the 25 allowed
    payload = {"company_id": COMPANY, "reference": reference, "service_ids": ["svc-b", "svc-a"]}
    created = await api.http.post("/v1/reimbursement-requests", json=payload)
    assert created.status_code == 201, created.text
    statement = created.json()
    request_id = request_id_for(COMPANY, reference)
    assert statement["id"] == request_id
    assert created.headers["location"] == f"/v1/reimbursement-requests/{request_id}"
    assert statement["status"] == "requested"
    assert statement["vouchers"] == 4 + 4  # svc-b got what was left of the 10: 4 of 9
    assert statement["voucher_value_cents"] == 2752
    assert statement["amount_cents"] == 8 * 2752
    assert [
        (line["service_id"], line["vouchers"], line["amount_cents"])
        for line in statement["services"]
    ] == [("svc-a", 4, 4 * 2752), ("svc-b", 4, 4 * 2752)]
    # The same request again: the first one, started once.
    again = await api.http.post("/v1/reimbursement-requests", json=payload)
    assert again.status_code == 200 and again.json()["id"] == request_id
    clash = {**payload, "service_ids": ["svc-a"]}
    assert_problem(await api.http.post("/v1/reimbursement-requests", json=clash), 409, "reference")
    # Those vouchers are reserved: a second request of the same services has nothing to ask.
    other = {**payload, "reference": "another"}
    assert_problem(await api.http.post("/v1/reimbursement-requests", json=other), 422)
    # Payout before the submission ran: refused, nothing started.
    early = await api.http.post(f"/v1/reimbursement-requests/{request_id}/payout")
    assert_problem(early, 409)
    changes = api.starter.take()
    assert [change.kind for change in changes] == [WalletChangeKind.SUBMIT_REIMBURSEMENT]
    for change in changes:
        await run_change(api.activities, change)
    submitted = (await api.http.get(f"/v1/reimbursement-requests/{request_id}")).json()
    assert submitted["status"] == "submitted"
    wallet = (await api.http.get(f"/v1/users/{USER}/wallet")).json()
    statuses = {item["service_id"]: item["status"] for item in wallet["allocations"]}
    assert statuses == {"svc-a": 13, "svc-b": 17, "svc-c": 12, "svc-none": 11}
    # Payout: accepted and started once; repeated while running, still 202; once paid, 200.
    first = await api.http.post(f"/v1/reimbursement-requests/{request_id}/payout")
    assert first.status_code == 202 and first.json()["status"] == "submitted"
    assert (
        await api.http.post(f"/v1/reimbursement-requests/{request_id}/payout")
    ).status_code == 202
    assert len(api.starter.started) == 1
    await api.run_changes()
    paid = await api.http.post(f"/v1/reimbursement-requests/{request_id}/payout")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert not api.starter.started
    wallet = (await api.http.get(f"/v1/users/{USER}/wallet")).json()
    statuses = {item["service_id"]: item["status"] for item in wallet["allocations"]}
    assert statuses == {"svc-a": 14, "svc-b": 17, "svc-c": 12, "svc-none": 11}
    listed = (
        await api.http.get("/v1/reimbursement-requests", params={"company_id": COMPANY})
    ).json()
    assert [(item["id"], item["status"], item["amount_cents"]) for item in listed] == [
        (request_id, "paid", 8 * 2752)
    ]
    assert (
        await api.http.get("/v1/reimbursement-requests", params={"company_id": OTHER_COMPANY})
    ).json() == []
    assert_problem(await api.http.get("/v1/reimbursement-requests/nope"), 404)
    assert_problem(await api.http.post("/v1/reimbursement-requests/nope/payout"), 404)
    check_invariants(await snapshot(api.activities._db), api.settings.policy())


async def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DC_WALLET_VOUCHER_PRICE_CENTS", "950")
    monkeypatch.setenv("DC_WALLET_YEARLY_CAP", "1000")
    monkeypatch.setenv("DC_WALLET_REIMBURSEMENT_VALUE_CENTS", "2800")
    monkeypatch.setenv("DC_WALLET_PORT", "18003")
    monkeypatch.setenv("DC_WALLET_REFUND_EXPIRED_FROM", "2026-01-01")
    settings = WalletSettings()
    policy = settings.policy()
    assert (policy.voucher_price_cents, policy.yearly_cap) == (950, 1000)
    assert policy.reimbursement_value_cents == 2800 and settings.port == 18003
    assert policy.refund_expired_from == date(2026, 1, 1)
    assert (policy.minimum_order, policy.voucher_validity_months) == (10, 12)
    assert settings.database_url == "sqlite+aiosqlite:///var/wallet.db"
