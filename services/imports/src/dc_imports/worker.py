"""The imports worker: runs the imports activities on TaskQueue.IMPORTS.

``python -m dc_imports.worker``. ImportWorkflow itself runs in the lifecycle worker.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from dc_common.db import Database
from dc_common.logging import configure_logging_for
from dc_common.ops import worker_operations
from dc_imports.activities import ImportsActivities
from dc_imports.identity_client import IdentityClient
from dc_imports.models import create_tables
from dc_imports.settings import ImportsSettings
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.temporal import TemporalSettings, connect, temporal_check

log = structlog.get_logger(__name__)


@asynccontextmanager
async def activities(settings: ImportsSettings) -> AsyncIterator[ImportsActivities]:
    """The activities with their database and identity client, closed on exit."""
    db = Database(settings.database_url)
    await create_tables(db.engine)
    identity = IdentityClient(settings.identity_url, token=settings.internal_token)
    try:
        yield ImportsActivities(db, identity)
    finally:
        await identity.aclose()
        await db.dispose()


def build_worker(client: Client, imports: ImportsActivities) -> Worker:
    return Worker(client, task_queue=TaskQueue.IMPORTS, activities=imports.all)


async def run(settings: ImportsSettings, temporal: TemporalSettings | None = None) -> None:
    client = await connect(temporal)
    async with activities(settings) as imports:
        log.info("imports worker started", task_queue=TaskQueue.IMPORTS.value)
        checks = {"temporal": temporal_check(client)}
        async with worker_operations("imports-worker", settings, checks, settings.database_url):
            await build_worker(client, imports).run()


def main() -> None:
    settings = ImportsSettings()
    configure_logging_for(settings)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
