"""Async SQLAlchemy engines for SQLite (embedded default) and PostgreSQL (production)."""

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, DateTime, Dialect, MetaData, event, inspect, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.schema import CreateColumn
from sqlalchemy.types import TypeDecorator

#: Every statement planned for its own values: asyncpg prepares statements, and after five runs
#: PostgreSQL may keep a generic plan, which for one worker of the largest company scans the
#: company's whole entry-date index (370 ms measured on 3 million services, against 4 ms).
POSTGRES_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=10,
            connect_args={"server_settings": POSTGRES_SETTINGS},
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


#: Key of the PostgreSQL advisory lock under which a process changes the schema.
_SCHEMA_LOCK = 0x6463_5F73_6368


async def hold_schema_lock(connection: AsyncConnection) -> None:
    """On PostgreSQL, wait for the transaction's turn to change the schema (held until it ends)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})


_SCHEMA_ATTEMPTS = 5
_SQLITE_RACES = ("already exists", "duplicate column", "database is locked")


async def create_schema(engine: AsyncEngine, metadata: MetaData) -> None:
    """Create missing tables, and add the columns a newer version of the models added to tables
    an earlier version created (additive changes only: new columns must be nullable or have a
    server default). What a service without migrations (and the tests' own tables) use."""

    def create(connection: Connection) -> None:
        metadata.create_all(connection)
        add_missing_columns(connection, metadata)

    await change_schema(engine, create)


async def change_schema(engine: AsyncEngine, change: Callable[[Connection], None]) -> None:
    """Run a change of the schema in one transaction, one process at a time.

    Several processes of a service start at once (its API and its worker): on PostgreSQL they
    take turns under an advisory lock; SQLite, which cannot lock before its checks, tries again
    when another process created a table between the check and the creation, or held the file
    longer than the busy timeout.
    """
    for attempt in range(_SCHEMA_ATTEMPTS):
        try:
            async with engine.begin() as connection:
                await hold_schema_lock(connection)
                await connection.run_sync(change)
            return
        except OperationalError as error:
            if not any(reason in str(error) for reason in _SQLITE_RACES):
                raise
            if attempt == _SCHEMA_ATTEMPTS - 1:
                raise


def add_missing_columns(connection: Connection, metadata: MetaData) -> None:
    inspector = inspect(connection)
    preparer = connection.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable and column.server_default is None:
                raise RuntimeError(
                    f"{table.name}.{column.name} is new and NOT NULL without a server default"
                )
            ddl = CreateColumn(column).compile(dialect=connection.dialect)
            connection.execute(text(f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN {ddl}"))


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def month_shifted(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or, negative, before) the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_of_partition(table: str, name: str) -> date | None:
    """The month a table named ``<table>_YYYY_MM`` is the partition of, if it is one."""
    suffix = name.removeprefix(f"{table}_")
    try:
        return datetime.strptime(suffix, "%Y_%m").date() if suffix != name else None
    except ValueError:
        return None


class MonthPartitions:
    """The monthly partitions of a PostgreSQL table partitioned by range of a date column
    (``postgresql_partition_by="RANGE (column)"`` in its model), named ``<table>_YYYY_MM``:
    made ahead of time at start-up, and on demand, in a transaction of their own, before rows
    of a month without one are written. A partition is made as an empty table, then attached:
    attaching locks the parent only against other schema changes, not against reads and
    writes (``CREATE TABLE ... PARTITION OF`` would lock it against all). Months known to exist
    are remembered per engine, so a write of a known month costs nothing more. A SQLite table,
    or a PostgreSQL one an earlier version made unpartitioned, has none to make."""

    def __init__(self, table: str) -> None:
        self.table = table
        self._known: WeakKeyDictionary[AsyncEngine, set[date] | None] = WeakKeyDictionary()

    async def ensure(self, engine: AsyncEngine, days: Iterable[date]) -> None:
        if not is_postgres(engine):
            return
        wanted = {first_of_month(day) for day in days}
        known = self._known.get(engine, set())
        if known is None or wanted <= known:
            return
        async with engine.begin() as connection:
            await hold_schema_lock(connection)
            present = await self.present(connection)
            if present is not None:
                for month in sorted(wanted - present):
                    await self._attach(connection, month)
        self._known[engine] = None if present is None else present | wanted

    async def present(self, connection: AsyncConnection) -> set[date] | None:
        """The months that have a partition; None when the table is not partitioned."""
        partitioned = await connection.scalar(
            text("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
            {"t": self.table},
        )
        if not partitioned:
            return None
        names = await connection.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:t)"
            ),
            {"t": self.table},
        )
        months = (month_of_partition(self.table, name) for name in names)
        return {month for month in months if month is not None}

    async def _attach(self, connection: AsyncConnection, month: date) -> None:
        name = f"{self.table}_{month:%Y_%m}"
        end = month_shifted(month, 1)
        await connection.execute(
            text(f"CREATE TABLE {name} (LIKE {self.table} INCLUDING DEFAULTS)")
        )
        await connection.execute(
            text(
                f"ALTER TABLE {self.table} ATTACH PARTITION {name} "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{end.isoformat()}')"
            )
        )


class Database:
    """One engine and its session factory, owned by a process."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and always read back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upsert(session: AsyncSession, table: Any) -> Any:
    """``INSERT ... ON CONFLICT`` for the session's dialect (PostgreSQL or SQLite)."""
    return upsert_for(session.get_bind().dialect.name, table)


def upsert_for(dialect: str, table: Any) -> Any:
    """``INSERT ... ON CONFLICT`` for a dialect by name (where a connection, not a session,
    writes)."""
    if dialect == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)
