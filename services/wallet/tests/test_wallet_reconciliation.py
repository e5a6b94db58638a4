"""The wallet's side of the reconciliation, through its activities on SQLite: the window of each
run (where the previous finished one ended, less the settling margin, the same on a retry) and
the pages of claims whose payment changed, each with the latest update its lifecycle was told.

The whole run (read model, resend, counts) is tested end to end in
tests/integration/test_wallet_changes.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from dc_wallet.activities import WalletActivities
from dc_workflows.contracts.payments import (
    ChangedPaymentsPage,
    PaymentUpdate,
    ReconciliationCounts,
    ReconciliationReport,
    ReconciliationStart,
)
from services.wallet.tests.wallet_support import USER, Wallets, wallets

SETTLE = timedelta(minutes=5)
FIRST_WINDOW = timedelta(days=31)


@pytest.fixture
async def wallet(tmp_path: Path) -> AsyncIterator[Wallets]:
    async with wallets(f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}") as wallet:
        wallet.activities = WalletActivities(
            wallet.db,
            wallet.policy,
            wallet.clock,
            reconciliation_settle=SETTLE,
            reconciliation_first_window=FIRST_WINDOW,
        )
        yield wallet


async def test_each_run_starts_where_the_previous_finished_one_ended(wallet: Wallets) -> None:
    activities, at = wallet.activities, wallet.clock.now
    first = await activities.begin_reconciliation(ReconciliationStart(key="run-1", at=at))
    assert (first.since, first.until) == (at - SETTLE - FIRST_WINDOW, at - SETTLE)
    later = ReconciliationStart(key="run-1", at=at + timedelta(hours=3))
    assert await activities.begin_reconciliation(later) == first  # a retry: the same window
    # An unfinished run is no starting point; a finished one is.
    second = await activities.begin_reconciliation(
        ReconciliationStart(key="run-2", at=at + timedelta(days=1))
    )
    assert second.since == at + timedelta(days=1) - SETTLE - FIRST_WINDOW
    await activities.finish_reconciliation(
        ReconciliationReport(
            key="run-1",
            since=first.since,
            until=first.until,
            counts=ReconciliationCounts(checked=4, mismatched=1, repaired=1),
        )
    )
    third = await activities.begin_reconciliation(
        ReconciliationStart(key="run-3", at=at + timedelta(days=2))
    )
    assert (third.since, third.until) == (first.until, at + timedelta(days=2) - SETTLE)
    given = await activities.begin_reconciliation(
        ReconciliationStart(key="by-hand", at=at, since=at - timedelta(days=90), until=at)
    )
    assert (given.since, given.until) == (at - timedelta(days=90), at)


async def test_changed_payments_come_in_pages_with_each_latest_update(wallet: Wallets) -> None:
    start = wallet.clock.now
    for index in range(5):
        wallet.clock.advance(hours=1)
        await wallet.claim(f"svc-{index}", hours=1)
    await wallet.claim("waiting", hours=9)
    await wallet.order(USER, "PAY-1", 10)  # pays svc-0..4 (1 each) and 5 of "waiting"
    await wallet.claim("unpaid", hours=2)  # version 0: nothing told, nothing to check
    wallet.clock.advance(hours=1)
    await wallet.request_reimbursement("0403170701", "week 1", ["svc-3"])  # svc-3 again: 13
    until = wallet.clock.now + timedelta(seconds=1)

    seen: list[PaymentUpdate] = []
    after = None
    pages = 0
    while True:
        page = await wallet.activities.changed_payments(
            ChangedPaymentsPage(since=start, until=until, after=after, limit=2)
        )
        pages += 1
        seen.extend(page.updates)
        if page.next is None:
            break
        after = page.next
    assert pages == 3
    latest = {update.service_id: update for update in seen}
    assert len(seen) == len(latest) == 6, "each changed claim once"
    assert {sid: int(u.status) for sid, u in latest.items()} == {
        "waiting": 16,
        "svc-0": 12,
        "svc-1": 12,
        "svc-2": 12,
        "svc-3": 13,
        "svc-4": 12,
    }
    assert [u.service_id for u in seen][-1] == "svc-3", "oldest change first"
    # What the lifecycles were told last is what a page answers.
    assert latest == {sid: wallet.lifecycles.last[sid] for sid in latest}
    # Outside the window: nothing.
    before = await wallet.activities.changed_payments(
        ChangedPaymentsPage(since=start - timedelta(days=1), until=start)
    )
    assert before.updates == () and before.next is None
