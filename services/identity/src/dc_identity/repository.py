"""Async queries on the directory. Functions take the caller's session; they never commit."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import upsert
from dc_identity.models import Base, Branch, Company, User, Worker


async def get_worker(session: AsyncSession, login: str) -> Worker | None:
    return await session.get(Worker, login)


async def get_user(session: AsyncSession, user_number: str) -> User | None:
    return await session.get(User, user_number)


async def get_company(session: AsyncSession, enterprise_number: str) -> Company | None:
    return await session.get(Company, enterprise_number)


async def list_branches(session: AsyncSession, enterprise_number: str) -> Sequence[Branch]:
    """A company's branches, by establishment unit number."""
    result = await session.scalars(
        select(Branch)
        .where(Branch.company_id == enterprise_number)
        .order_by(Branch.establishment_unit_number)
    )
    return result.all()


async def list_company_workers(session: AsyncSession, enterprise_number: str) -> Sequence[Worker]:
    """A company's workers, alphabetically: last name, first name (login breaks ties)."""
    result = await session.scalars(
        select(Worker)
        .where(Worker.company_id == enterprise_number)
        .order_by(Worker.last_name, Worker.first_name, Worker.login)
    )
    return result.all()


async def insert_missing(
    session: AsyncSession, model: type[Base], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert the rows whose primary key is not there yet; leave existing rows untouched.

    One ``INSERT ... ON CONFLICT (pk) DO NOTHING``, so concurrent loaders cannot collide.
    """
    if not rows:
        return
    keys = [column.name for column in inspect(model).primary_key]
    statement = (
        upsert(session, model).values(list(rows)).on_conflict_do_nothing(index_elements=keys)
    )
    await session.execute(statement)
