"""Record representative lifecycles as history fixtures for test_replay.py.

    uv run python tests/workflows/record_histories.py [LABEL [QUEUE]]

Each scenario runs on the time-skipping test server (with the real 5-day window) and its history
is written to tests/workflows/histories/<scenario>.json, or <scenario>.<LABEL>.json with a label.

The fixtures are the histories of workflows recorded from earlier code: every one must keep
replaying on the current code. So never re-record to make a failing replay pass (version the
change with workflow.patched instead); after a versioned change, record its new paths under a
new label (e.g. `record_histories.py wallet`; `keys` when a modification started to move the
natural key; `local` on the lifecycle's own queue, whose services-mgmt activities are local,
and `sent-once lifecycle` for the older queue once each history entry was sent once), which
keeps the older fixtures beside them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

# Run as a script, this file's folder is on sys.path but the repository root is not.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from temporalio.testing import WorkflowEnvironment  # noqa: E402

from dc_workflows.contracts.common import TaskQueue  # noqa: E402
from dc_workflows.contracts.lifecycle import (  # noqa: E402
    DetailChanges,
    LifecyclePolicy,
    WindowUnit,
)
from dc_workflows.ids import service_workflow_id  # noqa: E402
from dc_workflows.status import ServiceStatus as S  # noqa: E402
from tests.workflows.lifecycle_harness import (  # noqa: E402
    OTHER_COMPANY,
    Handle,
    ServicesMgmtFake,
    WalletFake,
    cancel,
    confirm,
    contest,
    modify,
    payment,
    rejection,
    report_payment,
    running_workers,
    skip_time,
    sleep_until,
    start_service,
    state_of,
    time_skipping_env,
    validate,
)

HISTORIES = Path(__file__).parent / "histories"

Scenario = Callable[[WorkflowEnvironment, Handle], Awaitable[None]]


async def validated_then_confirmed(env: WorkflowEnvironment, service: Handle) -> None:
    await validate(service, reason="matches the schedule")
    await confirm(service)


async def confirmed_then_validated(env: WorkflowEnvironment, service: Handle) -> None:
    await confirm(service)
    await validate(service)


async def auto_validated_after_reminder(env: WorkflowEnvironment, service: Handle) -> None:
    deadline = (await state_of(service)).validation_deadline
    assert deadline is not None
    await sleep_until(env, deadline + timedelta(hours=1))
    assert (await state_of(service)).status == S.READY_FOR_ALLOCATION


async def auto_validated_in_working_days(env: WorkflowEnvironment, service: Handle) -> None:
    """Registered under the policy of working days (see POLICIES)."""
    await auto_validated_after_reminder(env, service)


async def contested_corrected_agreed(env: WorkflowEnvironment, service: Handle) -> None:
    await contest(service, reason="the helper left after two hours")
    await skip_time(env, timedelta(days=10))
    await rejection(validate(service))
    await modify(service, DetailChanges(hours=2), reason="2 hours")
    await confirm(service)
    await validate(service)


async def reconfirmed_after_modification(env: WorkflowEnvironment, service: Handle) -> None:
    await confirm(service)
    await skip_time(env, timedelta(days=1))
    await modify(service, DetailChanges(hours=4))
    await validate(service)
    await skip_time(env, timedelta(days=10))
    await confirm(service)


async def cancelled_after_validation(env: WorkflowEnvironment, service: Handle) -> None:
    await validate(service)
    await rejection(validate(service, actor=OTHER_COMPANY))
    await cancel(service, reason="registered twice")
    await service.result()


async def paid_in_three_steps(env: WorkflowEnvironment, service: Handle) -> None:
    """Split payment 1 + 1 + 1 of a 3-hour service, with a reimbursement in between."""
    await validate(service)
    await confirm(service)
    steps = [
        payment(service, 1, S.PARTIALLY_ALLOCATED_FIRST, "allocated", allocated=1),
        payment(
            service, 2, S.PARTIALLY_REIMBURSED, "reimbursement-requested", allocated=1, submitted=1
        ),
        payment(service, 3, S.PARTIALLY_ALLOCATED_SECOND, "allocated", allocated=2, submitted=1),
        payment(service, 4, S.PARTIALLY_ALLOCATED_LAST, "allocated", allocated=3, submitted=1),
        payment(
            service,
            5,
            S.REIMBURSEMENT_REQUESTED,
            "reimbursement-requested",
            allocated=3,
            submitted=3,
        ),
        payment(service, 6, S.REIMBURSED, "reimbursed", allocated=3, submitted=3, reimbursed=3),
    ]
    for step in steps:
        await report_payment(service, step)
    await service.result()


SCENARIOS: dict[str, Scenario] = {
    "validated-then-confirmed": validated_then_confirmed,
    "confirmed-then-validated": confirmed_then_validated,
    "auto-validated-after-reminder": auto_validated_after_reminder,
    "auto-validated-in-working-days": auto_validated_in_working_days,
    "contested-corrected-agreed": contested_corrected_agreed,
    "reconfirmed-after-modification": reconfirmed_after_modification,
    "cancelled-after-validation": cancelled_after_validation,
    "paid-in-three-steps": paid_in_three_steps,
}


#: The policy a scenario's service is registered under, where not the default one.
POLICIES: dict[str, LifecyclePolicy] = {
    "auto-validated-in-working-days": LifecyclePolicy(window_unit=WindowUnit.WORKING),
}


def history_service_id(scenario: str) -> str:
    return f"history-{scenario}"


def history_workflow_id(scenario: str) -> str:
    return service_workflow_id(history_service_id(scenario))


async def record(label: str | None, task_queue: TaskQueue = TaskQueue.SERVICE_LIFECYCLE) -> None:
    HISTORIES.mkdir(exist_ok=True)
    suffix = f".{label}.json" if label else ".json"
    async with (
        time_skipping_env() as env,
        running_workers(env.client, ServicesMgmtFake(), WalletFake()),
    ):
        for name, play in SCENARIOS.items():
            service = await start_service(
                env.client,
                history_service_id(name),
                policy=POLICIES.get(name),
                task_queue=task_queue,
            )
            await play(env, service)
            history = await service.fetch_history()
            path = HISTORIES / f"{name}{suffix}"
            path.write_text(history.to_json() + "\n")
            print(f"{path.relative_to(ROOT)}: {len(history.events)} events")


if __name__ == "__main__":
    # LABEL [QUEUE]: the lifecycle's own queue by default; `lifecycle` for the older one.
    label = sys.argv[1] if len(sys.argv) > 1 else None
    asyncio.run(
        record(label, TaskQueue(sys.argv[2]) if len(sys.argv) > 2 else TaskQueue.SERVICE_LIFECYCLE)
    )
