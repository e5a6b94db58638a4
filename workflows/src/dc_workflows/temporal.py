"""Connecting to Temporal the same way in every process."""

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.client import Client
from temporalio.contrib.opentelemetry import MetricsExporter, TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode

from dc_common.problems import Problem, problem_response
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
                runtime=sdk_metrics(),
            )
        except (RuntimeError, RPCError) as error:
            if time.monotonic() >= give_up_at:
                raise
            log.info("waiting for temporal", address=settings.address, error=str(error))
            await asyncio.sleep(1.0)


@dataclass
class _SdkMetrics:
    runtime: Runtime
    exporter: MetricsExporter
    draining: asyncio.Task[None] | None = None


_sdk: _SdkMetrics | None = None


def sdk_metrics() -> Runtime:
    """The process's Temporal runtime, whose own metrics (workflow tasks, activities, polls,
    requests: counts, latencies, failures) join the process's Prometheus registry, so its
    operations port serves them beside its own: the SDK's buffer is drained into an
    OpenTelemetry meter read by the Prometheus reader, every second, on the running loop."""
    global _sdk
    if _sdk is None:
        buffer = MetricBuffer(10_000)
        runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
        provider = MeterProvider(metric_readers=[PrometheusMetricReader()])
        _sdk = _SdkMetrics(runtime, MetricsExporter(buffer, provider))
    loop = asyncio.get_running_loop()
    if _sdk.draining is None or _sdk.draining.done() or _sdk.draining.get_loop() is not loop:
        _sdk.draining = loop.create_task(_sdk.exporter.run(), name="temporal sdk metrics")
    return _sdk.runtime


def temporal_check(client: Client) -> Check:
    """Readiness: the Temporal frontend serves (its gRPC health check)."""

    async def check() -> bool:
        timeout = timedelta(seconds=CHECK_SECONDS)
        return await client.service_client.check_health(timeout=timeout)

    return check


#: What Temporal answers while it is down, restarting or overloaded: worth a retry.
TRANSIENT = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.CANCELLED,
    }
)


def answer_temporal_outages(app: FastAPI) -> None:
    """A call to Temporal that fails while it is down or restarting answers 503 with
    ``Retry-After`` (nothing was done; the same request may be sent again); any other failure
    of Temporal stays a server error."""

    async def on_rpc_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RPCError)
        if exc.status not in TRANSIENT:
            problem = Problem(500, "Internal error", "the error has been logged")
            log.error("temporal call failed", status=exc.status.name, error=exc.message)
        else:
            problem = Problem(503, "Service unavailable", "the workflow engine is not reachable")
            log.warning("temporal unavailable", status=exc.status.name, error=exc.message)
        return problem_response(problem)

    app.add_exception_handler(RPCError, on_rpc_error)
