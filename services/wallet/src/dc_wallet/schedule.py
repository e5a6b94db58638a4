"""The wallet's daily Temporal schedules: the expiry of vouchers at 02:00 Europe/Brussels, and
the reconciliation of the wallet against the services-mgmt read model at 03:30.

The expiry:

A schedule starts its action with fixed arguments: it cannot put the day of each run into
``ExpiryRun(on=...)`` or into the WalletChange key. So the schedule starts the tiny workflow
:class:`DailyVoucherExpiry` (no argument), which reads the time its run was scheduled for (the
``TemporalScheduledStartTime`` search attribute the schedule sets; ``workflow.now()`` when started
by hand), takes that day in Brussels, and starts ``WalletChangeWorkflow(kind=expire-vouchers,
key=<that date>, expiry=ExpiryRun(on=<that date>))`` as a child on the lifecycle task queue, with
the id ``wallet-expire-vouchers-<date>`` and a reject-duplicate policy. So the key is the run
date, the contracts stay as they are (nothing added to ExpiryRun), an operator finds each day's
run by its date, and a second start on the same day (a manual trigger, a catch-up) starts
nothing. A day the schedule misses costs nothing: each run expires every voucher whose last day
is before its date, not only yesterday's. (Temporal skips 02:00 on the last Sunday of March,
which does not exist in Brussels: that day's vouchers expire in the next night's run, and no
allocation spends them meanwhile, since allocation checks the expiry date itself. In October
02:00 comes twice; Temporal runs once, and a second start of that day's WalletChange would be
rejected as a duplicate anyway.)

The tiny workflow (``dc_workflows.payments.DailyVoucherExpiryWorkflow``) and the WalletChange it
starts run on the lifecycle worker, like every other wallet change.

The reconciliation: the schedule starts ``WalletReconciliationWorkflow`` with an empty
``ReconciliationRun`` (Temporal appends the scheduled time to the workflow id, one id per day; a
run still going when the next is due makes the next one skip). The run checks the claims whose
payment changed since the previous finished run ended, up to its scheduled time less a settling
margin (``DC_WALLET_RECONCILIATION_SETTLE_SECONDS``), and records its counts in the wallet
database (``GET /v1/reconciliations/latest``) and in its memo. An operator may start one by hand
with a window of their own (``ReconciliationRun(since=..., until=...)``).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import ReconciliationRun
from dc_workflows.payments import DailyVoucherExpiryWorkflow, WalletReconciliationWorkflow

SCHEDULE_ID = "wallet-expire-vouchers-daily"
DAILY_WORKFLOW_ID = "wallet-expire-vouchers-daily"
EXPIRY_HOUR = 2
TIME_ZONE = "Europe/Brussels"
RECONCILIATION_SCHEDULE_ID = "wallet-reconciliation-daily"
RECONCILIATION_WORKFLOW_ID = "wallet-reconciliation"
RECONCILIATION_HOUR, RECONCILIATION_MINUTE = 3, 30


def expiry_schedule(task_queue: str = TaskQueue.LIFECYCLE) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyVoucherExpiryWorkflow.run, id=DAILY_WORKFLOW_ID, task_queue=task_queue
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(EXPIRY_HOUR)])],
            time_zone_name=TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_expiry_schedule(
    client: Client, *, schedule_id: str = SCHEDULE_ID, task_queue: str = TaskQueue.LIFECYCLE
) -> bool:
    """Create the daily expiry schedule unless it exists (then it is left as it is, paused or
    not, as an operator may have left it). True when created now."""
    try:
        await client.create_schedule(schedule_id, expiry_schedule(task_queue))
    except ScheduleAlreadyRunningError:
        return False
    return True


def reconciliation_schedule(task_queue: str = TaskQueue.LIFECYCLE) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            WalletReconciliationWorkflow.run,
            ReconciliationRun(),
            id=RECONCILIATION_WORKFLOW_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(RECONCILIATION_HOUR)],
                    minute=[ScheduleRange(RECONCILIATION_MINUTE)],
                )
            ],
            time_zone_name=TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_reconciliation_schedule(
    client: Client,
    *,
    schedule_id: str = RECONCILIATION_SCHEDULE_ID,
    task_queue: str = TaskQueue.LIFECYCLE,
) -> bool:
    """Create the daily reconciliation schedule unless it exists. True when created now."""
    try:
        await client.create_schedule(schedule_id, reconciliation_schedule(task_queue))
    except ScheduleAlreadyRunningError:
        return False
    return True
