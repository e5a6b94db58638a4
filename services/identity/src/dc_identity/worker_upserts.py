"""Workers in bulk: create or update a company's workers by login (a workers file's import).

Each worker is checked on its own and answered on its own (created, updated, unchanged or
rejected with the fields and reasons); the valid ones are written together in the caller's
transaction. Who may: an operator, or a person holding the right on the company (a right on
branches only: workers of those branches only). A worker new to the directory can log in: the
person is added when the directory does not know them yet.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dc_identity import domain, repository
from dc_identity.commands import conflict, not_allowed, require_company
from dc_identity.models import Person, Worker

LANGUAGES = ("nl", "fr", "de", "en")
NAME_MAX_LENGTH = 100


class UpsertOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class WorkerValues:
    login: str
    national_number: str
    first_name: str
    last_name: str
    branch_id: str | None
    contract_start: date
    contract_end: date | None
    language: str


@dataclass(slots=True)
class UpsertResult:
    login: str
    outcome: UpsertOutcome
    errors: list[tuple[str, str]] = field(default_factory=list)


def _check_values(
    values: WorkerValues, branches: set[str], rights: set[str] | None
) -> list[tuple[str, str]]:
    """Every problem of one worker on its own; ``rights`` None means the whole company."""
    errors: list[tuple[str, str]] = []
    if reason := domain.worker_login_error(values.login):
        errors.append(("login", reason))
    if reason := domain.national_number_error(values.national_number):
        errors.append(("national_number", reason))
    for name_field, name in (("first_name", values.first_name), ("last_name", values.last_name)):
        if not name.strip():
            errors.append((name_field, "is required"))
        elif len(name) > NAME_MAX_LENGTH:
            errors.append((name_field, f"must be at most {NAME_MAX_LENGTH} characters"))
    if values.contract_end is not None and values.contract_end < values.contract_start:
        errors.append(
            ("contract_end", f"must not be before contract_start ({values.contract_start})")
        )
    if values.language not in LANGUAGES:
        errors.append(("language", "must be nl, fr, de or en"))
    if values.branch_id is not None:
        if reason := domain.establishment_unit_number_error(values.branch_id):
            errors.append(("branch_id", reason))
        elif values.branch_id not in branches:
            errors.append(("branch_id", "is not a branch of this company"))
    if rights is not None and values.branch_id not in rights:
        errors.append(("branch_id", f"outside your rights (branches {', '.join(sorted(rights))})"))
    return errors


def _same(worker: Worker, values: WorkerValues) -> bool:
    return (
        worker.national_number,
        worker.first_name,
        worker.last_name,
        worker.branch_id,
        worker.contract_start,
        worker.contract_end,
        worker.language,
    ) == (
        values.national_number,
        values.first_name,
        values.last_name,
        values.branch_id,
        values.contract_start,
        values.contract_end,
        values.language,
    )


async def upsert_workers(
    session: AsyncSession, actor: str, company_id: str, workers: Sequence[WorkerValues]
) -> list[UpsertResult]:
    """Create or update each valid worker; one result per worker, in order."""
    await require_company(session, company_id)
    rights = await _rights(session, actor, company_id)
    branches = {
        b.establishment_unit_number for b in await repository.list_branches(session, company_id)
    }
    by_login = {
        w.login: w for w in await repository.workers_by_logins(session, [w.login for w in workers])
    }
    by_number = {
        w.national_number: w
        for w in await repository.workers_by_national_numbers(
            session, [w.national_number for w in workers]
        )
    }
    results: list[UpsertResult] = []
    seen_logins: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    new_people: list[dict[str, object]] = []
    for position, values in enumerate(workers):
        errors = _check_values(values, branches, rights)
        existing = by_login.get(values.login)
        if existing is not None and existing.company_id != company_id:
            errors.append(("login", "is the login of a worker of another company"))
        holder = by_number.get(values.national_number)
        if holder is not None and holder.login != values.login:
            errors.append(("national_number", f"is the national number of worker {holder.login}"))
        if values.login in seen_logins:
            errors.append(("login", f"appears twice (worker {seen_logins[values.login] + 1})"))
        if values.national_number in seen_numbers:
            first = seen_numbers[values.national_number] + 1
            errors.append(("national_number", f"appears twice (worker {first})"))
        seen_logins.setdefault(values.login, position)
        seen_numbers.setdefault(values.national_number, position)
        if errors:
            results.append(UpsertResult(values.login, UpsertOutcome.REJECTED, errors))
            continue
        if existing is None:
            session.add(
                Worker(
                    login=values.login,
                    national_number=values.national_number,
                    first_name=values.first_name,
                    last_name=values.last_name,
                    company_id=company_id,
                    branch_id=values.branch_id,
                    contract_start=values.contract_start,
                    contract_end=values.contract_end,
                    language=values.language,
                )
            )
            results.append(UpsertResult(values.login, UpsertOutcome.CREATED))
        elif not _same(existing, values):
            existing.national_number = values.national_number
            existing.first_name = values.first_name
            existing.last_name = values.last_name
            existing.branch_id = values.branch_id
            existing.contract_start = values.contract_start
            existing.contract_end = values.contract_end
            existing.language = values.language
            results.append(UpsertResult(values.login, UpsertOutcome.UPDATED))
        else:
            results.append(UpsertResult(values.login, UpsertOutcome.UNCHANGED))
            continue
        new_people.append(
            {
                "national_number": values.national_number,
                "first_name": values.first_name,
                "last_name": values.last_name,
                "email": None,
            }
        )
    await repository.insert_missing(session, Person, new_people)
    try:
        await session.flush()
    except IntegrityError as error:
        raise conflict("workers were changed concurrently: send them again") from error
    return results


async def _rights(session: AsyncSession, actor: str, company_id: str) -> set[str] | None:
    """None when the actor may upsert any worker of the company; else the branches they may."""
    if (await repository.roles_of(session, actor)).operator:
        return None
    scopes = await repository.active_grant_scopes(session, company_id, actor)
    if any(scope.branch_id is None for scope in scopes):
        return None
    branches = {scope.branch_id for scope in scopes if scope.branch_id is not None}
    if not branches:
        raise not_allowed("only an operator or staff with the right on this company may do this")
    return branches
