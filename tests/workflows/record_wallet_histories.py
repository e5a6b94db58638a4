"""Record the wallet's workflows as history fixtures for test_replay_wallet.py.

    uv run python tests/workflows/record_wallet_histories.py [LABEL] [--legacy]

Every run is real: the time-skipping test server, the real wallet activities on a fresh SQLite
database, real lifecycles (ServiceLifecycleWorkflow, whose services-mgmt activities are the
lifecycle harness's recorders; their projections are the read model the reconciliation reads).
Each scenario's history is written to tests/workflows/histories/wallet/<scenario>.json, or
<scenario>.<LABEL>.json with a label, with the workflow's id and type beside it.

``--signal-refused`` records, on the Temporal dev server with at most one signal per workflow,
a WalletChange whose signal to a living lifecycle Temporal refuses (SignalCountLimitExceeded):
the earlier version logged that and completed; the current one fails the task instead, but
still replays such a history as it ran (workflow.patched). Record it with the earlier version.

``--legacy`` records only the scenarios whose code paths an earlier version of the platform had
(allocate-pending, submit-reimbursement, pay-out, expire-vouchers, daily-expiry), using only what
that version offered, so this recorder runs against it too: with that version's sources first on
the path (e.g. ``PYTHONPATH=<old checkout>/workflows/src:<old checkout>/services/wallet/src``),
it records the histories that version's workflows wrote, for the current ones to replay.

As with record_histories.py: never re-record to make a failing replay pass (version the change
with workflow.patched instead); record new paths under a new label.

The lifecycles register the harness's service (DETAILS: 27 November 2026, 3 hours): a recording
made more than 12 months after that date sees them go to 20 (the 12-month rule).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's folder is on sys.path but the repository root is not.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from temporalio import activity  # noqa: E402
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from dc_common.db import Database, create_schema  # noqa: E402
from dc_wallet import repository  # noqa: E402
from dc_wallet.activities import WalletActivities  # noqa: E402
from dc_wallet.domain import WalletPolicy, brussels_date  # noqa: E402
from dc_wallet.models import Base  # noqa: E402
from dc_workflows import payments  # noqa: E402
from dc_workflows.contracts import payments as contracts  # noqa: E402
from dc_workflows.contracts.common import TaskQueue  # noqa: E402
from dc_workflows.contracts.lifecycle import ActivityName  # noqa: E402
from dc_workflows.ids import service_workflow_id, wallet_change_workflow_id  # noqa: E402
from dc_workflows.lifecycle import ServiceLifecycleWorkflow  # noqa: E402
from tests.support.servers import temporal_dev_server  # noqa: E402
from tests.workflows.lifecycle_harness import (  # noqa: E402
    COMPANY_ID,
    USER_NUMBER,
    ServicesMgmtFake,
    confirm,
    start_service,
    state_of,
    time_skipping_env,
    validate,
)

HISTORIES = Path(__file__).parent / "histories" / "wallet"
POLICY = WalletPolicy()
HOUSEHOLD = {"kind": "user", "id": USER_NUMBER, "person": "85073003328", "name": "Anna De Smet"}
STAFF = {"kind": "company", "id": COMPANY_ID, "person": "79100812345", "name": "Bram Peeters"}
OPERATOR = {"kind": "operator", "id": "platform", "person": "70010112345", "name": "Nora V."}


class ReadModel(ServicesMgmtFake):
    """The harness's services-mgmt recorders, and what they recorded as the read model."""

    @activity.defn(name=ActivityName.PROJECTED_PAYMENTS)
    async def projected_payments(
        self, query: contracts.ProjectedPaymentsQuery
    ) -> contracts.ProjectedPayments:
        services = {}
        for service_id in query.service_ids:
            states = self.projected.get(service_workflow_id(service_id))
            if states:
                last = max(states, key=lambda state: state.version)
                services[service_id] = contracts.ProjectedPayment(
                    status=last.status,
                    vouchers_allocated=last.vouchers_allocated,
                    vouchers_submitted=last.vouchers_submitted,
                    vouchers_reimbursed=last.vouchers_reimbursed,
                )
        return contracts.ProjectedPayments(services=services)


@dataclass
class Recording:
    client: Client
    db: Database
    wallet: WalletActivities
    facts: dict[str, Any]
    """What one scenario leaves the next (the request id of the paid service, ...)."""

    async def lifecycle_at_11(self, name: str) -> str:
        """A real lifecycle, validated and confirmed: its claim in the wallet. Its service id."""
        service_id = f"history-wallet-{name}"
        service = await start_service(self.client, service_id)
        await validate(service)
        await confirm(service)
        state = await state_of(service)
        assert int(state.status) == 11, state
        return service_id

    async def claim_without_lifecycle(self, name: str, hours: int, service_date: date) -> str:
        service_id = f"history-wallet-{name}"
        await self.wallet.claim_payment(
            contracts.ServiceClaim(
                service_id=service_id,
                user_number=USER_NUMBER,
                company_id=COMPANY_ID,
                branch_id=None,
                service_date=service_date,
                hours=hours,
                ready_at=datetime.now(UTC),
            )
        )
        return service_id

    async def legacy_order(self, reference: str, quantity: int) -> None:
        """Vouchers as the earlier API recorded an order: written, not allocated yet."""
        now = datetime.now(UTC)
        async with repository.writing(self.db) as session:
            await repository.lock_wallets(session, [USER_NUMBER], now)
            await repository.place_order(
                session,
                user_number=USER_NUMBER,
                reference=reference,
                quantity=quantity,
                issue_date=brussels_date(now),
                policy=POLICY,
                now=now,
            )

    async def change(self, change: contracts.WalletChange) -> WorkflowHandle[Any, Any]:
        handle = await self.client.start_workflow(
            payments.WalletChangeWorkflow.run,
            change,
            id=wallet_change_workflow_id(change.kind.value, change.key),
            task_queue=TaskQueue.LIFECYCLE,
        )
        await handle.result()
        return handle


Scenario = Callable[[Recording], Awaitable[WorkflowHandle[Any, Any]]]


# -- scenarios of the current code -----------------------------------------------------------


async def place_order(r: Recording) -> WorkflowHandle[Any, Any]:
    """An order pays a service whose lifecycle runs (told) and two that never had one
    (skipped); it empties the wallet."""
    today = brussels_date(datetime.now(UTC))
    gone = await r.claim_without_lifecycle("gone", 2, today - timedelta(days=20))
    paid = await r.lifecycle_at_11("paid")
    late = await r.claim_without_lifecycle("late", 5, today - timedelta(days=1))
    r.facts.update(gone=gone, paid=paid, late=late)
    return await r.change(
        contracts.WalletChange(
            kind=contracts.WalletChangeKind.PLACE_ORDER,
            key=f"{USER_NUMBER}-history-order-1",
            order=contracts.OrderPlacement.model_validate(
                {
                    "user_number": USER_NUMBER,
                    "reference": "history-order-1",
                    "quantity": 10,
                    "ordered_by": HOUSEHOLD,
                }
            ),
        )
    )


async def place_order_refused(r: Recording) -> WorkflowHandle[Any, Any]:
    """Over the yearly cap: the workflow fails with the refusal, nothing written."""
    change = contracts.WalletChange(
        kind=contracts.WalletChangeKind.PLACE_ORDER,
        key=f"{USER_NUMBER}-history-order-2",
        order=contracts.OrderPlacement.model_validate(
            {
                "user_number": USER_NUMBER,
                "reference": "history-order-2",
                "quantity": 600,
                "ordered_by": HOUSEHOLD,
            }
        ),
    )
    handle = await r.client.start_workflow(
        payments.WalletChangeWorkflow.run,
        change,
        id=wallet_change_workflow_id(change.kind.value, change.key),
        task_queue=TaskQueue.LIFECYCLE,
    )
    try:
        await handle.result()
    except WorkflowFailureError:
        return handle
    raise AssertionError("an order over the yearly cap was placed")


async def request_reimbursement(r: Recording) -> WorkflowHandle[Any, Any]:
    from dc_wallet.service import request_id_for

    request_id = request_id_for(COMPANY_ID, "history-1")
    r.facts["request"] = request_id
    return await r.change(
        contracts.WalletChange(
            kind=contracts.WalletChangeKind.REQUEST_REIMBURSEMENT,
            key=request_id,
            request=contracts.ReimbursementAsk.model_validate(
                {
                    "request_id": request_id,
                    "company_id": COMPANY_ID,
                    "reference": "history-1",
                    "service_ids": [r.facts["paid"]],
                    "requested_by": STAFF,
                }
            ),
        )
    )


async def pay_out(r: Recording) -> WorkflowHandle[Any, Any]:
    """The request paid out: the paid service's lifecycle ends at 14."""
    request_id = r.facts["request"]
    return await r.change(
        contracts.WalletChange(
            kind=contracts.WalletChangeKind.PAY_OUT,
            key=request_id,
            payout=contracts.Payout.model_validate(
                {"request_id": request_id, **({"paid_by": OPERATOR} if _has_actors() else {})}
            ),
        )
    )


async def expire_vouchers(r: Recording) -> WorkflowHandle[Any, Any]:
    """The expiry of a day 13 months on: a service still short can no longer be paid (20)."""
    on = brussels_date(datetime.now(UTC)) + timedelta(days=400)
    return await r.change(
        contracts.WalletChange(
            kind=contracts.WalletChangeKind.EXPIRE_VOUCHERS,
            key=on.isoformat(),
            expiry=contracts.ExpiryRun(on=on),
        )
    )


async def daily_expiry(r: Recording) -> WorkflowHandle[Any, Any]:
    """The schedule's tiny workflow, started by hand: today's expiry as a child."""
    handle = await r.client.start_workflow(
        payments.DailyVoucherExpiryWorkflow.run,
        id="history-wallet-daily-expiry",
        task_queue=TaskQueue.LIFECYCLE,
    )
    await handle.result()
    return handle


async def reconciliation(r: Recording) -> WorkflowHandle[Any, Any]:
    """A payment the lifecycle was never told (the wallet's activity ran without its
    WalletChange): counted and repaired; one that the read model shows right: checked. The
    wallet is empty when it begins (place-order spent it all)."""
    since = datetime.now(UTC)
    untold = await r.lifecycle_at_11("untold")
    await r.legacy_order("history-untold", 3)
    await r.wallet.allocate_pending(
        contracts.AllocatePending(user_number=USER_NUMBER, trigger="history-untold")
    )
    await r.lifecycle_at_11("told")
    await place_order_of(r, "history-told", 10)
    handle = await r.client.start_workflow(
        payments.WalletReconciliationWorkflow.run,
        contracts.ReconciliationRun(since=since, until=datetime.now(UTC)),
        id="history-wallet-reconciliation",
        task_queue=TaskQueue.LIFECYCLE,
    )
    report = await handle.result()
    counts = report.counts
    assert (counts.checked, counts.mismatched, counts.repaired) == (2, 1, 1), report
    assert untold not in report.unrepaired
    return handle


async def place_order_of(r: Recording, reference: str, quantity: int) -> None:
    await r.change(
        contracts.WalletChange(
            kind=contracts.WalletChangeKind.PLACE_ORDER,
            key=f"{USER_NUMBER}-{reference}",
            order=contracts.OrderPlacement.model_validate(
                {
                    "user_number": USER_NUMBER,
                    "reference": reference,
                    "quantity": quantity,
                    "ordered_by": HOUSEHOLD,
                }
            ),
        )
    )


# -- scenarios an earlier version had too -----------------------------------------------------


async def allocate_pending(r: Recording) -> WorkflowHandle[Any, Any]:
    """An order as the earlier API made it: written first, then its WalletChange pays."""
    today = brussels_date(datetime.now(UTC))
    gone = await r.claim_without_lifecycle("legacy-gone", 2, today - timedelta(days=20))
    paid = await r.lifecycle_at_11("legacy-paid")
    late = await r.claim_without_lifecycle("legacy-late", 9, today - timedelta(days=1))
    r.facts.update(gone=gone, paid=paid, late=late)
    await r.legacy_order("history-legacy-1", 10)
    return await r.change(
        contracts.WalletChange(
            kind=contracts.WalletChangeKind.ALLOCATE_PENDING,
            key=f"{USER_NUMBER}-history-legacy-1",
            allocate=contracts.AllocatePending(user_number=USER_NUMBER, trigger="history-legacy-1"),
        )
    )


async def submit_reimbursement(r: Recording) -> WorkflowHandle[Any, Any]:
    """A request as the earlier API made it: written first, then its WalletChange submits."""
    from dc_wallet.service import request_id_for

    request_id = request_id_for(COMPANY_ID, "history-legacy-1")
    r.facts["request"] = request_id
    now = datetime.now(UTC)
    async with repository.writing(r.db) as session:
        await repository.lock_wallets(session, [USER_NUMBER], now)
        await repository.create_request(
            session,
            request_id=request_id,
            company_id=COMPANY_ID,
            reference="history-legacy-1",
            service_ids=[r.facts["paid"]],
            policy=POLICY,
            now=now,
        )
    return await r.change(
        contracts.WalletChange(
            kind=contracts.WalletChangeKind.SUBMIT_REIMBURSEMENT,
            key=request_id,
            reimbursement=contracts.ReimbursementSubmission(request_id=request_id),
        )
    )


async def signal_refused(r: Recording) -> WorkflowHandle[Any, Any]:
    """Two orders of the earlier API for one lifecycle that may hear one signal: the second
    WalletChange's signal is refused by Temporal."""
    await r.lifecycle_at_11("full")
    for index, quantity in enumerate((1, 2)):
        reference = f"history-full-{index}"
        await r.legacy_order(reference, quantity)
        change = contracts.WalletChange(
            kind=contracts.WalletChangeKind.ALLOCATE_PENDING,
            key=f"{USER_NUMBER}-{reference}",
            allocate=contracts.AllocatePending(user_number=USER_NUMBER, trigger=reference),
        )
        handle = await r.client.start_workflow(
            payments.WalletChangeWorkflow.run,
            change,
            id=wallet_change_workflow_id(change.kind.value, change.key),
            task_queue=TaskQueue.LIFECYCLE,
        )
        async with asyncio.timeout(30):  # the current code never completes the second
            await handle.result()
    return handle


def _has_actors() -> bool:
    return "paid_by" in contracts.Payout.model_fields


#: In the order they run: later scenarios use what earlier ones left.
SCENARIOS: dict[str, Scenario] = {
    "place-order": place_order,
    "place-order-refused": place_order_refused,
    "request-reimbursement": request_reimbursement,
    "pay-out": pay_out,
    "expire-vouchers": expire_vouchers,
    "daily-expiry": daily_expiry,
    "reconciliation": reconciliation,
}
LEGACY: dict[str, Scenario] = {
    "allocate-pending": allocate_pending,
    "submit-reimbursement": submit_reimbursement,
    "pay-out": pay_out,
    "expire-vouchers": expire_vouchers,
    "daily-expiry": daily_expiry,
}
SIGNAL_REFUSED: dict[str, Scenario] = {"signal-refused": signal_refused}
#: Every scenario (a fixture names one), each once.
ALL_SCENARIOS = {**LEGACY, **SCENARIOS, **SIGNAL_REFUSED}


def read_fixture(path: Path) -> tuple[str, str, dict[str, Any]]:
    """(workflow id, workflow type, history) of a fixture."""
    recorded = json.loads(path.read_text())
    return recorded["workflow_id"], recorded["workflow_type"], recorded["history"]


@asynccontextmanager
async def dev_server_with_one_signal() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server(
        "--dynamic-config-value", "history.maximumSignalsPerExecution=1"
    ) as env:
        yield env


async def record(label: str | None, *, legacy: bool, refused: bool = False) -> None:
    HISTORIES.mkdir(parents=True, exist_ok=True)
    suffix = f".{label}.json" if label else ".json"
    scenarios = SIGNAL_REFUSED if refused else LEGACY if legacy else {**LEGACY, **SCENARIOS}
    server = dev_server_with_one_signal if refused else time_skipping_env
    workflows: list[type] = [
        ServiceLifecycleWorkflow,
        payments.WalletChangeWorkflow,
        payments.DailyVoucherExpiryWorkflow,
    ]
    if hasattr(payments, "WalletReconciliationWorkflow"):
        workflows.append(payments.WalletReconciliationWorkflow)
    read_model = ReadModel()
    with tempfile.TemporaryDirectory() as folder:
        db = repository.open_database(f"sqlite+aiosqlite:///{folder}/wallet.db")
        await create_schema(db.engine, Base.metadata)
        wallet = WalletActivities(db, POLICY)
        try:
            async with (
                server() as env,
                Worker(env.client, task_queue=TaskQueue.LIFECYCLE, workflows=workflows),
                Worker(
                    env.client,
                    task_queue=TaskQueue.SERVICES_MGMT,
                    activities=[
                        read_model.project_service,
                        read_model.request_validation,
                        read_model.send_reminder,
                        read_model.projected_payments,
                    ],
                ),
                Worker(env.client, task_queue=TaskQueue.WALLET, activities=wallet.all),
            ):
                recording = Recording(env.client, db, wallet, {})
                ran: set[str] = set()
                for name, play in scenarios.items():
                    if name in ran:
                        continue
                    ran.add(name)
                    handle = await play(recording)
                    history = await handle.fetch_history()
                    started = history.events[0].workflow_execution_started_event_attributes
                    path = HISTORIES / f"{name}{suffix}"
                    path.write_text(
                        json.dumps(
                            {
                                "workflow_id": handle.id,
                                "workflow_type": started.workflow_type.name,
                                "history": history.to_json_dict(),
                            },
                            indent=1,
                        )
                        + "\n"
                    )
                    print(f"{path.relative_to(ROOT)}: {len(history.events)} events")
        finally:
            await db.dispose()


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
    asyncio.run(
        record(
            arguments[0] if arguments else None,
            legacy="--legacy" in sys.argv,
            refused="--signal-refused" in sys.argv,
        )
    )
