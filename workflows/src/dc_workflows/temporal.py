"""Connecting to Temporal the same way in every process."""

import asyncio
import time
from datetime import timedelta

import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from dc_common.readiness import CHECK_SECONDS, Check

log = structlog.get_logger(__name__)


class TemporalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TEMPORAL_")

    address: str = Field(default="127.0.0.1:7233", description="host:port of the frontend")
    namespace: str = "default"
    connect_timeout_seconds: float = Field(
        default=60.0, ge=0, description="How long to wait for a server that is still starting"
    )


async def connect(settings: TemporalSettings | None = None) -> Client:
    """A client with the pydantic data converter and the tracing interceptor (its workers trace
    too: one trace from an API call to the activities it causes); waits for a server that is
    still starting."""
    settings = settings or TemporalSettings()
    give_up_at = time.monotonic() + settings.connect_timeout_seconds
    while True:
        try:
            return await Client.connect(
                settings.address,
                namespace=settings.namespace,
                data_converter=pydantic_data_converter,
                interceptors=[TracingInterceptor()],
            )
        except (RuntimeError, RPCError) as error:
            if time.monotonic() >= give_up_at:
                raise
            log.info("waiting for temporal", address=settings.address, error=str(error))
            await asyncio.sleep(1.0)


def temporal_check(client: Client) -> Check:
    """Readiness: the Temporal frontend serves (its gRPC health check)."""

    async def check() -> bool:
        timeout = timedelta(seconds=CHECK_SECONDS)
        return await client.service_client.check_health(timeout=timeout)

    return check
