"""The services-mgmt database for the tests beside the code: a fresh SQLite file, and a fresh
PostgreSQL database where the server runs."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dc_common.db import Database
from dc_services import repository
from tests.support.servers import DIALECTS, empty_database


@pytest.fixture(params=DIALECTS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with empty_database(request.param, tmp_path, "services") as url:
        database = Database(url)
        await repository.prepare(database)
        yield database
        await database.dispose()
