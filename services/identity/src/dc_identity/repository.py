"""Async queries on the directory. Functions take the caller's session; they never commit."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import upsert
from dc_identity.domain import AuditAction, GrantScope, Roles
from dc_identity.models import (
    AuditEntry,
    Base,
    Branch,
    Company,
    Employment,
    Grant,
    LegalRepresentative,
    MainAccessManager,
    Person,
    User,
    Worker,
)


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


@dataclass(frozen=True)
class Employer:
    company_id: str
    branch_id: str | None
    name: str


async def employers_of(session: AsyncSession, worker: Worker) -> list[Employer]:
    """The worker's employers: the first one, then the further ones by name."""
    first = await session.get(Company, worker.company_id)
    further = await session.execute(
        select(Employment.company_id, Employment.branch_id, Company.name)
        .join(Company, Company.enterprise_number == Employment.company_id)
        .where(Employment.login == worker.login)
        .order_by(Company.name, Employment.company_id)
    )
    return [
        Employer(worker.company_id, worker.branch_id, first.name if first else ""),
        *(Employer(*row) for row in further),
    ]


async def get_employment(session: AsyncSession, login: str, company_id: str) -> Employment | None:
    return await session.get(Employment, (login, company_id))


async def workers_by_logins(session: AsyncSession, logins: Sequence[str]) -> Sequence[Worker]:
    """The workers with these logins (those that exist), whatever their company."""
    if not logins:
        return []
    result = await session.scalars(select(Worker).where(Worker.login.in_(set(logins))))
    return result.all()


async def workers_by_national_numbers(
    session: AsyncSession, national_numbers: Sequence[str]
) -> Sequence[Worker]:
    if not national_numbers:
        return []
    result = await session.scalars(
        select(Worker).where(Worker.national_number.in_(set(national_numbers)))
    )
    return result.all()


async def list_companies(session: AsyncSession) -> Sequence[Company]:
    """Every company, by name (enterprise number breaks ties)."""
    result = await session.scalars(
        select(Company).order_by(Company.name, Company.enterprise_number)
    )
    return result.all()


async def list_all_branches(session: AsyncSession) -> Sequence[Branch]:
    result = await session.scalars(select(Branch).order_by(Branch.establishment_unit_number))
    return result.all()


async def get_branch(session: AsyncSession, establishment_unit_number: str) -> Branch | None:
    return await session.get(Branch, establishment_unit_number)


async def company_with_recognition_number(
    session: AsyncSession, recognition_number: str
) -> Company | None:
    result = await session.scalars(
        select(Company).where(Company.recognition_number == recognition_number)
    )
    return result.first()


# --- people and their roles -----------------------------------------------------------------


async def get_person(session: AsyncSession, national_number: str) -> Person | None:
    return await session.get(Person, national_number)


async def list_people(session: AsyncSession) -> Sequence[Person]:
    """Everyone, by last name, first name (national number breaks ties)."""
    result = await session.scalars(
        select(Person).order_by(Person.last_name, Person.first_name, Person.national_number)
    )
    return result.all()


async def legal_representative_companies(session: AsyncSession, national_number: str) -> list[str]:
    result = await session.scalars(
        select(LegalRepresentative.company_id)
        .where(LegalRepresentative.national_number == national_number)
        .order_by(LegalRepresentative.company_id)
    )
    return list(result.all())


async def main_access_manager_companies(session: AsyncSession, national_number: str) -> list[str]:
    result = await session.scalars(
        select(MainAccessManager.company_id)
        .where(MainAccessManager.national_number == national_number)
        .order_by(MainAccessManager.company_id)
    )
    return list(result.all())


async def roles_of(session: AsyncSession, national_number: str) -> Roles:
    """The standing of a person (nobody's, for an unknown one) as the domain rules need it."""
    person = await get_person(session, national_number)
    if person is None:
        return Roles()
    return Roles(
        operator=person.is_operator,
        legal_representative_of=frozenset(
            await legal_representative_companies(session, national_number)
        ),
        main_access_manager_of=frozenset(
            await main_access_manager_companies(session, national_number)
        ),
    )


async def active_grants_of_person(session: AsyncSession, national_number: str) -> Sequence[Grant]:
    result = await session.scalars(
        select(Grant)
        .where(Grant.national_number == national_number, Grant.revoked_at.is_(None))
        .order_by(Grant.id)
    )
    return result.all()


async def workers_with_national_number(
    session: AsyncSession, national_number: str
) -> Sequence[Worker]:
    result = await session.scalars(
        select(Worker).where(Worker.national_number == national_number).order_by(Worker.login)
    )
    return result.all()


async def user_numbers_of_holder(session: AsyncSession, national_number: str) -> list[str]:
    result = await session.scalars(
        select(User.user_number)
        .where(User.holder_national_number == national_number)
        .order_by(User.user_number)
    )
    return list(result.all())


@dataclass(frozen=True, slots=True)
class DirectoryRoles:
    """Every role of every person at once (for the development login page)."""

    companies: Sequence[Company]
    branches: Sequence[Branch]
    legal_representatives: Sequence[LegalRepresentative]
    main_access_managers: Sequence[MainAccessManager]
    active_grants: Sequence[Grant]
    workers: Sequence[Worker]
    users: Sequence[User]


async def directory_roles(session: AsyncSession) -> DirectoryRoles:
    return DirectoryRoles(
        companies=await list_companies(session),
        branches=await list_all_branches(session),
        legal_representatives=(await session.scalars(select(LegalRepresentative))).all(),
        main_access_managers=(await session.scalars(select(MainAccessManager))).all(),
        active_grants=(
            await session.scalars(
                select(Grant).where(Grant.revoked_at.is_(None)).order_by(Grant.id)
            )
        ).all(),
        workers=(await session.scalars(select(Worker).order_by(Worker.login))).all(),
        users=(
            await session.scalars(
                select(User)
                .where(User.holder_national_number.is_not(None))
                .order_by(User.user_number)
            )
        ).all(),
    )


# --- main access managers, grants, audit log ------------------------------------------------


async def get_main_access_manager(
    session: AsyncSession, company_id: str, national_number: str
) -> MainAccessManager | None:
    return await session.get(MainAccessManager, (company_id, national_number))


async def list_main_access_managers(
    session: AsyncSession, company_id: str
) -> Sequence[MainAccessManager]:
    result = await session.scalars(
        select(MainAccessManager)
        .where(MainAccessManager.company_id == company_id)
        .order_by(MainAccessManager.appointed_at, MainAccessManager.national_number)
    )
    return result.all()


async def names_of(session: AsyncSession, national_numbers: set[str]) -> dict[str, str]:
    """The names of these people, where the directory knows them."""
    if not national_numbers:
        return {}
    rows = await session.execute(
        select(Person.national_number, Person.first_name, Person.last_name).where(
            Person.national_number.in_(sorted(national_numbers))
        )
    )
    return {number: f"{first} {last}" for number, first, last in rows}


async def get_grant(session: AsyncSession, grant_id: int) -> Grant | None:
    return await session.get(Grant, grant_id)


async def list_grants(
    session: AsyncSession, company_id: str, *, include_revoked: bool = False
) -> Sequence[Grant]:
    """A company's grants in the order they were made; active ones only unless asked."""
    statement = select(Grant).where(Grant.company_id == company_id)
    if not include_revoked:
        statement = statement.where(Grant.revoked_at.is_(None))
    result = await session.scalars(statement.order_by(Grant.id))
    return result.all()


async def active_grant_scopes(
    session: AsyncSession, company_id: str, national_number: str
) -> list[GrantScope]:
    result = await session.scalars(
        select(Grant).where(
            Grant.company_id == company_id,
            Grant.national_number == national_number,
            Grant.revoked_at.is_(None),
        )
    )
    return [
        GrantScope(grant.company_id, grant.branch_id, grant.national_number, grant.right)
        for grant in result.all()
    ]


def add_audit_entry(
    session: AsyncSession,
    *,
    company_id: str,
    at: datetime,
    actor: str,
    action: AuditAction,
    subject: str | None = None,
    branch_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        company_id=company_id,
        at=at,
        actor=actor,
        action=action.value,
        subject=subject,
        branch_id=branch_id,
        details=details or {},
    )
    session.add(entry)
    return entry


async def list_audit_entries(
    session: AsyncSession, company_id: str, *, limit: int, before_id: int | None = None
) -> Sequence[AuditEntry]:
    """A company's audit log, newest first; ``before_id`` continues after the previous page."""
    statement = select(AuditEntry).where(AuditEntry.company_id == company_id)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    result = await session.scalars(statement.order_by(AuditEntry.id.desc()).limit(limit))
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


async def fill_in_holders(session: AsyncSession, holders: dict[str, str]) -> None:
    """Give the users that have no holder yet the given one (user number -> national number)."""
    for user_number, national_number in holders.items():
        await session.execute(
            update(User)
            .where(User.user_number == user_number, User.holder_national_number.is_(None))
            .values(holder_national_number=national_number)
        )
