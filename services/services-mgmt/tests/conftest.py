"""The services-mgmt database for the tests beside the code: a fresh SQLite file, and a fresh
PostgreSQL database where the server runs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dc_common.db import Database
from dc_services import repository
from tests.support.servers import postgres_database, postgres_unavailable_reason


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with _url(request.param, tmp_path) as url:
        database = Database(url)
        await repository.prepare(database)
        yield database
        await database.dispose()


@asynccontextmanager
async def _url(dialect: str, tmp_path: Path) -> AsyncIterator[str]:
    if dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'services.db'}"
        return
    if reason := await postgres_unavailable_reason():
        pytest.skip(reason)
    async with postgres_database("dc_services_test") as url:
        yield url
