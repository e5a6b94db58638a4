"""Every service's migrations, on SQLite and PostgreSQL: applied from an empty database they give
exactly the models (Alembic finds no difference), downgrade to nothing and apply again; a
database an earlier version made without migrations is completed and stamped, then migrates
like any other; two processes migrating at once do it once."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from dc_common.db import create_engine, create_schema
from dc_common.migrations import SERVICES, Migrations, differences, downgrade, load, migrate
from tests.support.servers import DIALECTS, empty_database

#: SQLite cannot reflect expression indexes, so Alembic cannot compare them there (PostgreSQL does).
pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index")


async def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def found_differences(url: str, migrations: Migrations) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: differences(sync, migrations))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_migrations_from_empty_give_the_models_and_go_back_down(
    service: str, dialect: str, tmp_path: Path
) -> None:
    migrations = load(service)
    async with empty_database(dialect, tmp_path, f"migrate_{service.replace('-', '_')}") as url:
        engine = create_engine(url)
        try:
            await asyncio.gather(migrate(engine, migrations), migrate(engine, migrations))
            assert await found_differences(url, migrations) == []
            assert set(migrations.metadata.tables) <= await tables(url)

            await downgrade(engine, migrations, "base")
            assert await tables(url) - {migrations.version_table} == set()

            await migrate(engine, migrations)
            assert await found_differences(url, migrations) == []
        finally:
            await engine.dispose()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_database_made_before_the_migrations_is_stamped_and_then_migrates(
    service: str, dialect: str, tmp_path: Path
) -> None:
    migrations = load(service)
    async with empty_database(dialect, tmp_path, f"legacy_{service.replace('-', '_')}") as url:
        engine = create_engine(url)
        try:
            await create_schema(engine, migrations.metadata)
            assert migrations.version_table not in await tables(url)
            await migrate(engine, migrations)
            assert migrations.version_table in await tables(url)
            assert await found_differences(url, migrations) == []
            await downgrade(engine, migrations, "-1")
            await migrate(engine, migrations)
            assert await found_differences(url, migrations) == []
        finally:
            await engine.dispose()
