"""Schema creation brings a database of an earlier version up to date, additively."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select

from dc_common.db import Database, create_schema
from tests.support.servers import empty_database


def version(number: int) -> MetaData:
    metadata = MetaData()
    columns = [Column("id", Integer, primary_key=True), Column("name", String(20))]
    if number >= 2:
        columns += [
            Column("nickname", String(20), nullable=True),
            Column("visits", Integer, nullable=False, server_default="0"),
        ]
    if number >= 3:
        columns.append(Column("required", Integer, nullable=False))
    Table("people", metadata, *columns)
    return metadata


async def test_new_columns_are_added_and_rows_kept(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    await create_schema(db.engine, version(1))
    async with db.transaction() as session:
        await session.execute(version(1).tables["people"].insert().values(id=1, name="An"))

    await create_schema(db.engine, version(2))
    await create_schema(db.engine, version(2))  # twice: nothing more to do

    async with db.engine.connect() as connection:
        names = await connection.run_sync(
            lambda sync: [c["name"] for c in inspect(sync).get_columns("people")]
        )
        row = (await connection.execute(select(version(2).tables["people"]))).one()
    assert names == ["id", "name", "nickname", "visits"]
    assert tuple(row) == (1, "An", None, 0)
    await db.dispose()


async def test_a_new_mandatory_column_without_default_is_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    await create_schema(db.engine, version(2))
    with pytest.raises(RuntimeError, match=r"people\.required is new and NOT NULL"):
        await create_schema(db.engine, version(3))
    await db.dispose()


def many_tables() -> MetaData:
    metadata = MetaData()
    for number in range(30):
        Table(f"table_{number}", metadata, Column("id", Integer, primary_key=True))
    return metadata


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_processes_starting_together_each_find_the_schema_made(
    dialect: str, tmp_path: Path
) -> None:
    """A service's API and worker start at once and both create the schema: neither fails."""
    async with empty_database(dialect, tmp_path, "common_schema") as url:
        databases = [Database(url) for _ in range(4)]
        try:
            await asyncio.gather(*(create_schema(db.engine, many_tables()) for db in databases))
            async with databases[0].engine.connect() as connection:
                tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        finally:
            for db in databases:
                await db.dispose()
    assert set(tables) == {f"table_{number}" for number in range(30)}
