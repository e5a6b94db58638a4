"""The services-mgmt worker: runs this service's activities on its own task queue."""

import asyncio

import structlog
from temporalio.worker import Worker

from dc_common.db import Database, create_schema
from dc_common.logging import configure_logging
from dc_services.activities import ServicesActivities
from dc_services.identity_client import IdentityClient
from dc_services.mail import SmtpMailer
from dc_services.models import Base
from dc_services.settings import ServicesSettings
from dc_workflows.contracts import TaskQueue
from dc_workflows.temporal import connect

log = structlog.get_logger(__name__)


async def run(settings: ServicesSettings) -> None:
    db = Database(settings.database_url)
    await create_schema(db.engine, Base.metadata)
    identity = IdentityClient(settings.identity_url)
    activities = ServicesActivities(
        db,
        identity,
        SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from),
        settings.portal_url,
    )
    client = await connect()
    worker = Worker(client, task_queue=TaskQueue.SERVICES_MGMT, activities=activities.all)
    log.info("services-mgmt worker started", task_queue=TaskQueue.SERVICES_MGMT.value)
    try:
        await worker.run()
    finally:
        await identity.aclose()
        await db.dispose()


def main() -> None:
    settings = ServicesSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
