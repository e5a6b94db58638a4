"""Schema migrations with Alembic: one history per service, in the ``migrations/`` folder of its
package, recorded in a version table of its own. Every process of a service migrates its
database to the newest revision on start (:func:`migrate`, under an advisory lock on
PostgreSQL: the API and the worker start at once); a deployment runs the same before a rollout
as a job (``python -m dc_common.migrations SERVICE upgrade``).

A database that an earlier version made with ``create_schema`` (tables, no version table) is
completed the old additive way once, then stamped at the newest revision: from then on only
migrations change it. Schema changes follow expand, migrate, contract (``docs/operations.md``):
a migration never breaks the code still running beside the new one.

``python -m dc_common.migrations SERVICE revision -m MESSAGE`` writes a new revision from the
difference between the models and a database migrated to the newest one (an empty SQLite file by
default), to be read and completed by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from dc_common.db import add_missing_columns, change_schema, create_engine, month_of_partition


@dataclass(frozen=True)
class Migrations:
    """A service's migrations: its name, its models, and the package whose ``migrations/``
    folder holds the revisions."""

    service: str
    package: str
    metadata: MetaData
    database_variable: str
    """The environment variable naming the service's database (for the job)."""

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.service.replace('-', '_')}"

    def config(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", f"{self.package}:migrations")
        config.attributes["connection"] = connection
        config.attributes["migrations"] = self
        return config


#: The services and where their migrations are, for the command line.
SERVICES = {
    "identity": "dc_identity.models:MIGRATIONS",
    "services-mgmt": "dc_services.models:MIGRATIONS",
    "wallet": "dc_wallet.models:MIGRATIONS",
    "imports": "dc_imports.models:MIGRATIONS",
}


async def migrate(engine: AsyncEngine, migrations: Migrations, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default), one process at a time and,
    in a process, one migration at a time (Alembic's context is global to the process)."""
    async with _in_this_process():
        await change_schema(engine, lambda connection: _upgrade(connection, migrations, revision))


_LOCKS: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def _in_this_process() -> asyncio.Lock:
    return _LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


def _upgrade(connection: Connection, migrations: Migrations, revision: str) -> None:
    config = migrations.config(connection)
    tables = set(inspect(connection).get_table_names())
    if migrations.version_table not in tables and tables & set(migrations.metadata.tables):
        # Made by create_schema before this service had migrations.
        migrations.metadata.create_all(connection)
        add_missing_columns(connection, migrations.metadata)
        command.stamp(config, "head")
        return
    command.upgrade(config, revision)


async def downgrade(engine: AsyncEngine, migrations: Migrations, revision: str) -> None:
    async with _in_this_process(), engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(migrations.config(sync), revision))


def differences(connection: Connection, migrations: Migrations) -> list[Any]:
    """What the migrated database and the models disagree on (nothing, once migrated)."""
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": _include_name(migrations),
            "version_table": migrations.version_table,
        },
    )
    from alembic.autogenerate import compare_metadata

    return list(compare_metadata(context, migrations.metadata))


def _include_name(migrations: Migrations) -> Any:
    """Leave out what the models do not describe: the version table, and the monthly
    partitions of a partitioned table (made at run time, not by migrations)."""

    def include(name: str | None, kind: str, _parents: Any) -> bool:
        if kind != "table" or name is None:
            return True
        if name == migrations.version_table:
            return False
        return name in migrations.metadata.tables or not any(
            month_of_partition(table, name) for table in migrations.metadata.tables
        )

    return include


def run_env() -> None:
    """The body of every service's ``migrations/env.py``: migrate on the connection given."""
    from alembic import context

    connection: Connection = context.config.attributes["connection"]
    migrations: Migrations = context.config.attributes["migrations"]
    context.configure(
        connection=connection,
        target_metadata=migrations.metadata,
        version_table=migrations.version_table,
        include_name=_include_name(migrations),
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        user_module_prefix="dc_common.db.",
    )
    with context.begin_transaction():
        context.run_migrations()


def load(service: str) -> Migrations:
    module, name = SERVICES[service].split(":")
    found: Migrations = getattr(importlib.import_module(module), name)
    return found


async def _command(migrations: Migrations, url: str, action: str, arguments: Any) -> None:
    engine = create_engine(url)
    try:
        if action == "upgrade":
            await migrate(engine, migrations, arguments.revision or "head")
        elif action == "downgrade":
            await downgrade(engine, migrations, arguments.revision or "-1")
        elif action == "current":
            async with engine.connect() as connection:
                print(await connection.run_sync(lambda sync: _current(sync, migrations)))
        elif action == "revision":
            await migrate(engine, migrations)
            async with engine.begin() as connection:
                await connection.run_sync(
                    lambda sync: command.revision(
                        migrations.config(sync), message=arguments.message, autogenerate=True
                    )
                )
    finally:
        await engine.dispose()


def _current(connection: Connection, migrations: Migrations) -> str | None:
    context = MigrationContext.configure(
        connection, opts={"version_table": migrations.version_table}
    )
    return context.get_current_revision()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("action", choices=("upgrade", "downgrade", "current", "revision"))
    parser.add_argument("revision", nargs="?", help="upgrade to / downgrade to (default head/-1)")
    parser.add_argument("-m", "--message", default="change", help="of a new revision")
    parser.add_argument("--url", help="the database (default: the service's setting)")
    arguments = parser.parse_args(argv)
    migrations = load(arguments.service)
    url = arguments.url or os.environ.get(migrations.database_variable)
    if arguments.action == "revision" and not url:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'revision.db'}"
    if not url:
        print(f"set {migrations.database_variable} or --url", file=sys.stderr)
        return 2
    asyncio.run(_command(migrations, url, arguments.action, arguments))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
