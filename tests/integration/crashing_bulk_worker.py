"""Fault injection: the real services-mgmt worker, except that it dies like a killed process in
the middle of registering one chosen batch of an import: half of its lifecycles started, the
other half not, and Temporal not told."""

import asyncio
import os

from temporalio import activity
from temporalio.worker import Worker

from dc_services import worker as services_worker
from dc_services.bulk import bulk_activities
from dc_services.settings import ServicesSettings
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.imports import BatchOutcome, ImportActivity, ServiceBatch
from dc_workflows.temporal import connect

CRASH_IN_BATCH_WITH_LINE = int(os.environ["CRASH_IN_BATCH_WITH_LINE"])


async def main() -> None:
    client = await connect()
    settings = ServicesSettings()
    async with services_worker.activities(settings) as services, bulk_activities(settings) as bulk:

        @activity.defn(name=ImportActivity.REGISTER_BATCH)
        async def register_half_then_die(batch: ServiceBatch) -> BatchOutcome:
            if any(service.line == CRASH_IN_BATCH_WITH_LINE for service in batch.services):
                half = batch.services[: len(batch.services) // 2]
                await bulk.register_batch(batch.model_copy(update={"services": half}))
                os._exit(137)
            return await bulk.register_batch(batch)

        activities = [*services.all, bulk.find_known_services, register_half_then_die]
        print("crashing services worker ready", flush=True)
        await asyncio.gather(
            Worker(client, task_queue=TaskQueue.SERVICES_MGMT, activities=activities).run(),
            services_worker.build_lifecycle_worker(client, services).run(),
        )


if __name__ == "__main__":
    asyncio.run(main())
