"""The lifecycle worker: runs ServiceLifecycleWorkflow on its own task queue.

``python -m dc_workflows.worker``. Registers the search attributes it needs on start, so a fresh
Temporal (the embedded dev server, or a new namespace) is ready without a manual step.
"""

import asyncio

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from dc_common.logging import configure_logging_for
from dc_common.ops import worker_operations
from dc_common.settings import ServiceSettings
from dc_workflows import search_attributes
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.imports import ImportWorkflow
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.payments import (
    DailyVoucherExpiryWorkflow,
    WalletChangeWorkflow,
    WalletReconciliationWorkflow,
)
from dc_workflows.temporal import TemporalSettings, connect, temporal_check

log = structlog.get_logger(__name__)


def build_worker(client: Client) -> Worker:
    return Worker(
        client,
        task_queue=TaskQueue.LIFECYCLE,
        workflows=[
            ServiceLifecycleWorkflow,
            WalletChangeWorkflow,
            DailyVoucherExpiryWorkflow,
            WalletReconciliationWorkflow,
            ImportWorkflow,
        ],
    )


async def run(
    settings: TemporalSettings | None = None, service: ServiceSettings | None = None
) -> None:
    client = await connect(settings)
    added = await search_attributes.ensure_registered(client)
    if added:
        log.info("search attributes registered", names=added)
    log.info("lifecycle worker started", task_queue=TaskQueue.LIFECYCLE.value)
    checks = {"temporal": temporal_check(client)}
    async with worker_operations("lifecycle-worker", service or ServiceSettings(), checks):
        await build_worker(client).run()


def main() -> None:
    settings = ServiceSettings()
    configure_logging_for(settings)
    asyncio.run(run(service=settings))


if __name__ == "__main__":
    main()
