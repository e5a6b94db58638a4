"""The wallet's database, its transactions, the wallet lock, and the recorded results of
idempotent operations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import Database, upsert
from dc_wallet.domain import sorted_users
from dc_wallet.models import Operation, Wallet
from dc_workflows.contracts.payments import PaymentUpdate, PaymentUpdates, RecordedChange

#: Execution option of a session that only reads (SQLite: a plain deferred BEGIN).
READ_ONLY = "dc_wallet_read_only"


class ConcurrentWalletChange(RuntimeError):
    """A voucher changed under a wallet lock: never expected; the activity fails and retries."""


# -- database and transactions ------------------------------------------------------------------


def open_database(url: str) -> Database:
    """The wallet's database, with SQLite write transactions made ``BEGIN IMMEDIATE``."""
    db = Database(url)
    if db.engine.dialect.name == "sqlite":
        sync_engine = db.engine.sync_engine
        event.listen(sync_engine, "connect", _driver_leaves_transactions_to_us)
        event.listen(sync_engine, "begin", _begin_sqlite)
    return db


def _driver_leaves_transactions_to_us(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection: Any) -> None:
    """SQLite has no row locks: a write transaction takes the database's write lock when it
    begins, so two of them never interleave (the second waits, up to the busy timeout), and
    what one reads is what it writes over."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@asynccontextmanager
async def writing(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.transaction() as session:
        yield session


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessions() as session:
        await session.connection(execution_options={READ_ONLY: True})
        yield session


# -- the wallet lock and idempotent operations ---------------------------------------------------


async def lock_wallets(session: AsyncSession, users: Iterable[str], now: datetime) -> list[str]:
    """Lock these users' wallets (created on first use) until the transaction ends.

    Why a row lock and not one entity workflow per wallet: the invariant to protect (no voucher
    spent twice, no order over the cap) lives in this database, and so does every writer of it:
    the order API, the allocation, reimbursement and expiry activities. A ``SELECT ... FOR
    UPDATE`` on the wallet row serialises all of them where the data is, for the milliseconds a
    transaction lasts, and commits the change and its idempotency record atomically. An entity
    workflow per wallet (750,000 long-lived workflows with signal-with-start and
    continue-as-new) would serialise only what is routed through it (not the order API), add
    round trips and Temporal load to every allocation (the embedded dev server completes about
    18 three-activity workflows per second), and would still need these idempotency records for
    its activities' retries. Contention per wallet is low (one household), so the lock is cheap.

    PostgreSQL: ``SELECT ... FOR UPDATE`` in READ COMMITTED; every later statement of the
    transaction sees what the previous lock holder committed. SQLite has no row locks; the
    transaction already holds the database's write lock (``BEGIN IMMEDIATE``, see
    :func:`open_database`) and the ``FOR UPDATE`` is not rendered. Several wallets are always
    locked in ascending user number, and a transaction holding one wallet never waits for
    another, so writers cannot deadlock.
    """
    ordered = sorted_users(users)
    if not ordered:
        return ordered
    await session.execute(
        upsert(session, Wallet)
        .values([{"user_number": user, "created_at": now} for user in ordered])
        .on_conflict_do_nothing()
    )
    await session.execute(
        select(Wallet.user_number)
        .where(Wallet.user_number.in_(ordered))
        .order_by(Wallet.user_number)
        .with_for_update()
    )
    return ordered


async def recorded(session: AsyncSession, key: str) -> PaymentUpdates | None:
    row = await session.get(Operation, key)
    return None if row is None else PaymentUpdates.model_validate(row.result)


async def record(
    session: AsyncSession, key: str, updates: Sequence[PaymentUpdate], now: datetime
) -> PaymentUpdates:
    result = PaymentUpdates(updates=tuple(updates))
    session.add(Operation(key=key, created_at=now, result=result.model_dump(mode="json")))
    await session.flush()
    return result


async def recorded_with_prefix(session: AsyncSession, prefix: str) -> PaymentUpdates:
    rows = await session.scalars(
        select(Operation)
        .where(Operation.key.startswith(prefix, autoescape=True))
        .order_by(Operation.key)
    )
    updates = [
        update for row in rows for update in PaymentUpdates.model_validate(row.result).updates
    ]
    return PaymentUpdates(updates=tuple(updates))


async def recorded_change(session: AsyncSession, key: str) -> RecordedChange | None:
    row = await session.get(Operation, key)
    return None if row is None else RecordedChange.model_validate(row.result)


async def record_change(
    session: AsyncSession, key: str, result: RecordedChange, now: datetime
) -> RecordedChange:
    session.add(Operation(key=key, created_at=now, result=result.model_dump(mode="json")))
    await session.flush()
    return result
