"""Fault injection: the real services-mgmt worker (its activities, and the lifecycles that run them
locally), except that it dies like a killed process right after committing the projection of one
chosen version, before Temporal hears of the success."""

import asyncio
import os

from temporalio import activity
from temporalio.worker import Worker

from dc_services import worker as services_worker
from dc_services.settings import ServicesSettings
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.lifecycle import ActivityName, ServiceState
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.temporal import connect

CRASH_AFTER_VERSION = int(os.environ["CRASH_AFTER_PROJECTING_VERSION"])


async def main() -> None:
    client = await connect()
    async with services_worker.activities(ServicesSettings()) as services:

        @activity.defn(name=ActivityName.PROJECT_SERVICE)
        async def project_then_die(state: ServiceState) -> bool:
            written = await services.project_service(state)
            if state.version == CRASH_AFTER_VERSION:
                os._exit(137)
            return written

        others = [a for a in services.all if a != services.project_service]
        activities = [project_then_die, *others]
        print("crashing worker ready", flush=True)
        await asyncio.gather(
            Worker(client, task_queue=TaskQueue.SERVICES_MGMT, activities=activities).run(),
            Worker(
                client,
                task_queue=TaskQueue.SERVICE_LIFECYCLE,
                workflows=[ServiceLifecycleWorkflow],
                activities=activities,
            ).run(),
        )


if __name__ == "__main__":
    asyncio.run(main())
