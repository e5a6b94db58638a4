"""The operations port of a process (``DC_OPS_PORT``; none when unset): ``/healthz`` (alive),
``/readyz`` (its checks, :mod:`dc_common.readiness`) and ``/metrics`` (Prometheus). Every API
and every worker serves one beside its work, so an operator scrapes and probes them all the
same way, and the metrics never share the port of an API (the gateway's is public)."""

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager

import structlog
import uvicorn
from fastapi import FastAPI

from dc_common.db import Database
from dc_common.metrics import add_metrics_route
from dc_common.readiness import Check, add_readiness_route, database_check
from dc_common.settings import ServiceSettings
from dc_common.tracing import configure_tracing

log = structlog.get_logger(__name__)


def ops_app(readiness: Mapping[str, Check]) -> FastAPI:
    app = FastAPI(title="operations", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.readiness = readiness

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    add_readiness_route(app)
    add_metrics_route(app)
    return app


@asynccontextmanager
async def worker_operations(
    service: str,
    settings: ServiceSettings,
    checks: Mapping[str, Check],
    database_url: str | None = None,
) -> AsyncIterator[None]:
    """A worker's operations port: ``checks`` (Temporal) and, with a ``database_url``, its
    database, reached by an engine of the probe's own (one connection, opened when probed); and
    its spans exported as ``service`` when tracing is configured."""
    configure_tracing(service)
    if settings.ops_port is None:
        yield
        return
    probe = Database(database_url) if database_url else None
    if probe is not None:
        checks = {**checks, "database": database_check(probe.engine)}
    try:
        async with operations_port(settings.ops_host, settings.ops_port, checks):
            yield
    finally:
        if probe is not None:
            await probe.dispose()


class _OpsServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process's own work (a worker, an API's server) handles the signals and stops it.
        yield


@asynccontextmanager
async def operations_port(
    host: str, port: int | None, readiness: Mapping[str, Check]
) -> AsyncIterator[None]:
    """Serve the operations endpoints while the block runs; nothing when no port is set."""
    if port is None:
        yield
        return
    config = uvicorn.Config(
        ops_app(readiness), host=host, port=port, log_config=None, lifespan="off"
    )
    server = _OpsServer(config)
    serving = asyncio.create_task(server.serve())
    log.info("operations endpoints", host=host, port=port)
    try:
        yield
    finally:
        server.should_exit = True
        await serving
