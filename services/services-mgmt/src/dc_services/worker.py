"""The services-mgmt worker: runs this service's activities on its own task queue, and the
services' lifecycles on theirs, with these activities local to them (the read model's owner
hosts the workflow that keeps it)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from dc_common.db import Database
from dc_common.logging import configure_logging_for
from dc_common.ops import worker_operations
from dc_services import repository
from dc_services.activities import ServicesActivities
from dc_services.bulk import BulkActivities, bulk_activities
from dc_services.identity_client import IdentityClient
from dc_services.mail import HouseholdLinks, MailRelay, SmtpMailer
from dc_services.settings import ServicesSettings
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.temporal import TemporalSettings, connect, temporal_check

log = structlog.get_logger(__name__)


@asynccontextmanager
async def activities(settings: ServicesSettings) -> AsyncIterator[ServicesActivities]:
    """The activities with their database and clients, and the mail relay that delivers what
    they record, running beside them; all closed on exit."""
    db = Database(settings.database_url)
    await repository.prepare(db)
    identity = IdentityClient(settings.identity_url, token=settings.internal_token)
    relay = MailRelay(db, SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from))
    relaying = asyncio.create_task(relay.run(), name="mail relay")
    try:
        links = HouseholdLinks(settings.portal_url, settings.mail_links())
        yield ServicesActivities(db, identity, relay, links)
    finally:
        relaying.cancel()
        with suppress(asyncio.CancelledError):
            await relaying
        await identity.aclose()
        await db.dispose()


def build_worker(
    client: Client, services: ServicesActivities, bulk: BulkActivities | None = None
) -> Worker:
    extra = bulk.all if bulk is not None else []
    return Worker(client, task_queue=TaskQueue.SERVICES_MGMT, activities=[*services.all, *extra])


def build_lifecycle_worker(client: Client, services: ServicesActivities) -> Worker:
    return Worker(
        client,
        task_queue=TaskQueue.SERVICE_LIFECYCLE,
        workflows=[ServiceLifecycleWorkflow],
        activities=services.all,
    )


async def run(settings: ServicesSettings, temporal: TemporalSettings | None = None) -> None:
    client = await connect(temporal)
    async with activities(settings) as services, bulk_activities(settings) as bulk:
        log.info(
            "services-mgmt worker started",
            task_queues=[TaskQueue.SERVICES_MGMT.value, TaskQueue.SERVICE_LIFECYCLE.value],
        )
        checks = {"temporal": temporal_check(client)}
        async with worker_operations(
            "services-mgmt-worker", settings, checks, settings.database_url
        ):
            await asyncio.gather(
                build_worker(client, services, bulk).run(),
                build_lifecycle_worker(client, services).run(),
            )


def main() -> None:
    settings = ServicesSettings()
    configure_logging_for(settings)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
