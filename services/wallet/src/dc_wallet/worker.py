"""The wallet worker: runs the wallet's activities on its own task queue, and creates the daily
schedules (expiry, reconciliation) on start when missing; their workflows run on the lifecycle
worker."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from dc_common.logging import configure_logging_for
from dc_common.migrations import migrate
from dc_common.ops import worker_operations
from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.models import MIGRATIONS
from dc_wallet.schedule import ensure_expiry_schedule, ensure_reconciliation_schedule
from dc_wallet.settings import WalletSettings
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.temporal import TemporalSettings, connect, temporal_check

log = structlog.get_logger(__name__)


@asynccontextmanager
async def activities(settings: WalletSettings) -> AsyncIterator[WalletActivities]:
    """The activities with their database, closed on exit."""
    db = repository.open_database(settings.database_url)
    await migrate(db.engine, MIGRATIONS)
    try:
        yield WalletActivities(
            db,
            settings.policy(),
            reconciliation_settle=timedelta(seconds=settings.reconciliation_settle_seconds),
            reconciliation_first_window=timedelta(days=settings.reconciliation_first_window_days),
        )
    finally:
        await db.dispose()


def build_worker(client: Client, wallet: WalletActivities) -> Worker:
    return Worker(
        client,
        task_queue=TaskQueue.WALLET,
        activities=wallet.all,
    )


async def run(settings: WalletSettings, temporal: TemporalSettings | None = None) -> None:
    client = await connect(temporal)
    if await ensure_expiry_schedule(client):
        log.info("daily expiry schedule created")
    if await ensure_reconciliation_schedule(client):
        log.info("daily reconciliation schedule created")
    async with activities(settings) as wallet:
        log.info("wallet worker started", task_queue=TaskQueue.WALLET.value)
        checks = {"temporal": temporal_check(client)}
        async with worker_operations("wallet-worker", settings, checks, settings.database_url):
            await build_worker(client, wallet).run()


def main() -> None:
    settings = WalletSettings()
    configure_logging_for(settings)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
