"""What a caller can do with the directory: one keyword-only function per use case, each owning
its transaction (a change and its audit-log entry commit together or not at all).

Who acts is the acting party the gateway established (:class:`dc_common.actors.Actor`); the
directory's rules decide by the person acting (``Actor.person``, their national number), which
the audit log records. Refusals are raised as problems: 403 when the actor may not do it, 404
for a company or grant that is not there, 409 for a conflict with what exists, 422 naming the
field for bad input.

Logs name companies, branches and grants; a person only by :func:`dc_common.logging.pseudonym`.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.actors import Actor
from dc_common.db import Database
from dc_common.logging import pseudonym
from dc_common.problems import Problem, field_error
from dc_identity import domain, repository
from dc_identity.domain import AuditAction, GrantScope, WorkerValues
from dc_identity.models import (
    AuditEntry,
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

log = structlog.get_logger("dc_identity")


# --- problems -------------------------------------------------------------------------------


def check(field: str, value: str, rule: Callable[[str], str | None]) -> None:
    """Raise a 422 naming ``field`` when ``rule`` finds ``value`` invalid."""
    if reason := rule(value):
        raise field_error(field, reason)


def not_found(field: str, reason: str) -> Problem:
    detail = f"{field}: {reason}"
    return Problem(404, "Not found", detail, errors=[{"field": field, "reason": reason}])


def not_allowed(reason: str) -> Problem:
    return Problem(403, "Not allowed", f"not allowed: {reason}")


def conflict(reason: str) -> Problem:
    return Problem(409, "Conflict", reason)


def _person_acting(actor: Actor) -> str:
    """The national number of who acts (the API refuses an actor without a valid one)."""
    if actor.person is None:
        raise Problem(401, "Not authenticated", "X-Actor-Person: the acting person is required")
    return actor.person


def _log_change(event: str, actor: Actor, **ids: object) -> None:
    """A change of the directory in the log: what, where, and who by role and pseudonym
    (never a national number)."""
    log.info(event, **ids, actor_kind=actor.kind.value, actor=pseudonym(actor.person or ""))


def _now() -> datetime:
    return datetime.now(UTC)


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompanyView:
    company: Company
    branches: Sequence[Branch]


@dataclass(frozen=True, slots=True)
class Access:
    """Who a person is for the platform: roles, active rights, worker logins, households."""

    person: Person
    legal_representative_of: list[str]
    main_access_manager_of: list[str]
    grants: Sequence[Grant]
    workers: Sequence[Worker]
    user_numbers: list[str]


async def get_worker(*, db: Database, login: str) -> Worker:
    check("login", login, domain.worker_login_error)
    async with db.sessions() as session:
        worker = await repository.get_worker(session, login)
    if worker is None:
        raise not_found("login", "no worker with this login")
    return worker


async def employers_of(*, db: Database, worker: Worker) -> list[repository.Employer]:
    async with db.sessions() as session:
        return await repository.employers_of(session, worker)


async def get_user(*, db: Database, user_number: str) -> User:
    check("user_number", user_number, domain.user_number_error)
    async with db.sessions() as session:
        user = await repository.get_user(session, user_number)
    if user is None:
        raise not_found("user_number", "no user with this user number")
    return user


async def get_company(*, db: Database, enterprise_number: str) -> CompanyView:
    async with db.sessions() as session:
        company = await require_company(session, enterprise_number)
        branches = await repository.list_branches(session, enterprise_number)
    return CompanyView(company, branches)


async def list_companies(*, db: Database) -> list[CompanyView]:
    """Every company by name, each with its branches."""
    async with db.sessions() as session:
        companies = await repository.list_companies(session)
        branches: dict[str, list[Branch]] = {}
        for branch in await repository.list_all_branches(session):
            branches.setdefault(branch.company_id, []).append(branch)
    return [CompanyView(c, branches.get(c.enterprise_number, [])) for c in companies]


async def list_branches(*, db: Database, enterprise_number: str) -> Sequence[Branch]:
    async with db.sessions() as session:
        await require_company(session, enterprise_number)
        return await repository.list_branches(session, enterprise_number)


async def list_company_workers(*, db: Database, enterprise_number: str) -> Sequence[Worker]:
    async with db.sessions() as session:
        await require_company(session, enterprise_number)
        return await repository.list_company_workers(session, enterprise_number)


async def get_person(*, db: Database, national_number: str) -> Person:
    async with db.sessions() as session:
        return await _person_or_404(session, national_number)


async def access_of(*, db: Database, national_number: str) -> Access:
    async with db.sessions() as session:
        person = await _person_or_404(session, national_number)
        return Access(
            person=person,
            legal_representative_of=await repository.legal_representative_companies(
                session, national_number
            ),
            main_access_manager_of=await repository.main_access_manager_companies(
                session, national_number
            ),
            grants=await repository.active_grants_of_person(session, national_number),
            workers=await repository.workers_with_national_number(session, national_number),
            user_numbers=await repository.user_numbers_of_holder(session, national_number),
        )


async def list_main_access_managers(
    *, db: Database, enterprise_number: str
) -> Sequence[MainAccessManager]:
    async with db.sessions() as session:
        await require_company(session, enterprise_number)
        return await repository.list_main_access_managers(session, enterprise_number)


async def list_grants(
    *, db: Database, enterprise_number: str, include_revoked: bool = False
) -> Sequence[Grant]:
    """The company's active grants, oldest first (``include_revoked``: all)."""
    async with db.sessions() as session:
        await require_company(session, enterprise_number)
        return await repository.list_grants(
            session, enterprise_number, include_revoked=include_revoked
        )


async def list_audit_log(
    *, db: Database, enterprise_number: str, limit: int, before_id: int | None = None
) -> Sequence[AuditEntry]:
    """Newest first; ``before_id`` continues after the previous page."""
    async with db.sessions() as session:
        await require_company(session, enterprise_number)
        return await repository.list_audit_entries(
            session, enterprise_number, limit=limit, before_id=before_id
        )


async def names_of(*, db: Database, national_numbers: set[str]) -> dict[str, str]:
    """Who these people are by name (the access lists name them, not only by number)."""
    async with db.sessions() as session:
        return await repository.names_of(session, national_numbers)


async def require_company(session: AsyncSession, enterprise_number: str) -> Company:
    """The company (422 for a malformed number, 404 for an unknown one)."""
    check("enterprise_number", enterprise_number, domain.enterprise_number_error)
    company = await repository.get_company(session, enterprise_number)
    if company is None:
        raise not_found("enterprise_number", "no company with this enterprise number")
    return company


async def _person_or_404(session: AsyncSession, national_number: str) -> Person:
    check("national_number", national_number, domain.national_number_error)
    person = await repository.get_person(session, national_number)
    if person is None:
        raise not_found("national_number", "no person with this national number")
    return person


async def _require_person(session: AsyncSession, field: str, national_number: str) -> Person:
    check(field, national_number, domain.national_number_error)
    person = await repository.get_person(session, national_number)
    if person is None:
        raise field_error(field, "no person with this national number")
    return person


async def _flush(session: AsyncSession, on_conflict: str) -> None:
    """Write now, so a unique key that a concurrent request took answers 409, not 500."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise conflict(on_conflict) from error


# --- people ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonPut:
    person: Person
    created: bool


async def put_person(
    *,
    db: Database,
    actor: Actor,
    national_number: str,
    first_name: str,
    last_name: str,
    email: str | None,
) -> PersonPut:
    """Register a person or update their name and e-mail.

    The person themself (the gateway, from a verified token) or an operator may do it. The
    operator flag is never set here.
    """
    by = _person_acting(actor)
    check("national_number", national_number, domain.national_number_error)
    async with db.transaction() as session:
        if by != national_number and not (await repository.roles_of(session, by)).operator:
            raise not_allowed("only the person themself or an operator may register a person")
        person = await repository.get_person(session, national_number)
        created = person is None
        if person is None:
            person = Person(national_number=national_number, is_operator=False)
            session.add(person)
        person.first_name, person.last_name, person.email = first_name, last_name, email
        await _flush(session, f"national_number: {national_number} was registered concurrently")
    event = "identity.person_registered" if created else "identity.person_updated"
    _log_change(event, actor, person=pseudonym(national_number))
    return PersonPut(person, created)


# --- companies and branches (operator) ------------------------------------------------------


async def create_company(
    *,
    db: Database,
    actor: Actor,
    enterprise_number: str,
    recognition_number: str,
    name: str,
    legal_representatives: Sequence[str],
) -> Company:
    """Register a recognised company with its legal representatives from the enterprise register.

    A legal representative the directory does not know yet is added as a person without a name
    (``PUT /v1/people`` fills it in).
    """
    by = _person_acting(actor)
    async with db.transaction() as session:
        if not domain.may_administer_companies(await repository.roles_of(session, by)):
            raise not_allowed("only an operator may create companies")
        check("enterprise_number", enterprise_number, domain.enterprise_number_error)
        for index, national_number in enumerate(legal_representatives):
            check(f"legal_representatives.{index}", national_number, domain.national_number_error)
        taken = f"enterprise_number: company {enterprise_number} already exists"
        if await repository.get_company(session, enterprise_number) is not None:
            raise conflict(taken)
        if await repository.company_with_recognition_number(session, recognition_number):
            raise conflict(f"recognition_number: {recognition_number} belongs to another company")
        company = Company(
            enterprise_number=enterprise_number, recognition_number=recognition_number, name=name
        )
        session.add(company)
        representatives = list(dict.fromkeys(legal_representatives))
        await repository.insert_missing(
            session,
            Person,
            [
                {"national_number": n, "first_name": "", "last_name": "", "email": None}
                for n in representatives
            ],
        )
        await _flush(session, taken)
        session.add_all(
            LegalRepresentative(company_id=enterprise_number, national_number=n)
            for n in representatives
        )
        repository.add_audit_entry(
            session,
            company_id=enterprise_number,
            at=_now(),
            actor=by,
            action=AuditAction.COMPANY_CREATED,
            details={
                "name": name,
                "recognition_number": recognition_number,
                "legal_representatives": representatives,
            },
        )
        await _flush(session, taken)
    _log_change(
        "identity.company_created",
        actor,
        company_id=enterprise_number,
        legal_representatives=len(representatives),
    )
    return company


async def create_branch(
    *,
    db: Database,
    actor: Actor,
    company_id: str,
    establishment_unit_number: str,
    name: str,
) -> Branch:
    """Add a branch to a company (operator)."""
    by = _person_acting(actor)
    taken = f"establishment_unit_number: branch {establishment_unit_number} exists"
    async with db.transaction() as session:
        await require_company(session, company_id)
        if not domain.may_administer_companies(await repository.roles_of(session, by)):
            raise not_allowed("only an operator may create branches")
        check(
            "establishment_unit_number",
            establishment_unit_number,
            domain.establishment_unit_number_error,
        )
        if await repository.get_branch(session, establishment_unit_number) is not None:
            raise conflict(taken)
        branch = Branch(
            establishment_unit_number=establishment_unit_number, company_id=company_id, name=name
        )
        session.add(branch)
        repository.add_audit_entry(
            session,
            company_id=company_id,
            at=_now(),
            actor=by,
            action=AuditAction.BRANCH_CREATED,
            branch_id=establishment_unit_number,
            details={"name": name},
        )
        await _flush(session, taken)
    _log_change(
        "identity.branch_created",
        actor,
        company_id=company_id,
        branch_id=establishment_unit_number,
    )
    return branch


# --- main access managers -------------------------------------------------------------------


async def appoint_main_access_manager(
    *, db: Database, actor: Actor, company_id: str, national_number: str
) -> MainAccessManager:
    """A legal representative (or a main access manager) appoints a main access manager."""
    by = _person_acting(actor)
    async with db.transaction() as session:
        appointment = await add_main_access_manager(
            session, by=by, company_id=company_id, national_number=national_number
        )
    _log_change(
        "identity.main_access_manager_appointed",
        actor,
        company_id=company_id,
        manager=pseudonym(national_number),
    )
    return appointment


async def add_main_access_manager(
    session: AsyncSession,
    *,
    by: str,
    company_id: str,
    national_number: str,
    now: datetime | None = None,
) -> MainAccessManager:
    """The appointment by the person ``by``, in the caller's transaction (the demo loader's
    too), with its audit-log entry; refused as :func:`appoint_main_access_manager` is."""
    await require_company(session, company_id)
    roles = await repository.roles_of(session, by)
    if not domain.may_appoint_main_access_manager(roles, company_id):
        raise not_allowed(
            "only a legal representative or a main access manager of this company"
            " may appoint main access managers"
        )
    await _require_person(session, "national_number", national_number)
    already = f"national_number: already a main access manager of {company_id}"
    if await repository.get_main_access_manager(session, company_id, national_number):
        raise conflict(already)
    at = now or _now()
    appointment = MainAccessManager(
        company_id=company_id, national_number=national_number, appointed_by=by, appointed_at=at
    )
    session.add(appointment)
    repository.add_audit_entry(
        session,
        company_id=company_id,
        at=at,
        actor=by,
        action=AuditAction.MAIN_ACCESS_MANAGER_APPOINTED,
        subject=national_number,
    )
    await _flush(session, already)
    return appointment


# --- grants ---------------------------------------------------------------------------------


async def grant_right(
    *,
    db: Database,
    actor: Actor,
    company_id: str,
    national_number: str,
    branch_id: str | None,
) -> Grant:
    """A main access manager grants the right on the company (``branch_id`` None) or a branch."""
    by = _person_acting(actor)
    async with db.transaction() as session:
        grant = await add_grant(
            session,
            by=by,
            company_id=company_id,
            national_number=national_number,
            branch_id=branch_id,
        )
    _log_change(
        "identity.right_granted",
        actor,
        company_id=company_id,
        branch_id=grant.branch_id,
        grant_id=grant.id,
    )
    return grant


async def add_grant(
    session: AsyncSession,
    *,
    by: str,
    company_id: str,
    national_number: str,
    branch_id: str | None,
    now: datetime | None = None,
) -> Grant:
    """The grant by the person ``by``, in the caller's transaction (the demo loader's too), with
    its audit-log entry; refused as :func:`grant_right` is."""
    await require_company(session, company_id)
    if not domain.may_manage_rights(await repository.roles_of(session, by), company_id):
        raise not_allowed("only a main access manager of this company may grant rights")
    check("national_number", national_number, domain.national_number_error)
    branches = await repository.list_branches(session, company_id)
    company_branches = {branch.establishment_unit_number for branch in branches}
    if reason := domain.grant_branch_error(branch_id, company_branches):
        raise field_error("branch_id", reason)
    await _require_person(session, "national_number", national_number)
    wanted = GrantScope(company_id, branch_id, national_number)
    duplicate = f"{national_number} already holds the right on this scope"
    active = await repository.active_grant_scopes(session, company_id, national_number)
    if domain.is_duplicate_grant(wanted, active):
        raise conflict(duplicate)
    at = now or _now()
    grant = Grant(
        company_id=company_id,
        branch_id=branch_id,
        national_number=national_number,
        right=wanted.right,
        granted_by=by,
        granted_at=at,
    )
    session.add(grant)
    await _flush(session, duplicate)
    repository.add_audit_entry(
        session,
        company_id=company_id,
        at=at,
        actor=by,
        action=AuditAction.RIGHT_GRANTED,
        subject=national_number,
        branch_id=branch_id,
        details={"grant_id": grant.id, "right": grant.right},
    )
    await session.flush()
    return grant


async def revoke_right(*, db: Database, actor: Actor, company_id: str, grant_id: int) -> Grant:
    """A main access manager revokes a grant; the grant stays on record as revoked."""
    by = _person_acting(actor)
    async with db.transaction() as session:
        await require_company(session, company_id)
        if not domain.may_manage_rights(await repository.roles_of(session, by), company_id):
            raise not_allowed("only a main access manager of this company may revoke rights")
        grant = await repository.get_grant(session, grant_id)
        if grant is None or grant.company_id != company_id:
            raise not_found("grant_id", "no grant with this id for this company")
        if reason := domain.revoke_error(grant.revoked_at):
            raise conflict(f"grant_id: {reason}")
        at = _now()
        grant.revoked_by = by
        grant.revoked_at = at
        repository.add_audit_entry(
            session,
            company_id=company_id,
            at=at,
            actor=by,
            action=AuditAction.RIGHT_REVOKED,
            subject=grant.national_number,
            branch_id=grant.branch_id,
            details={"grant_id": grant.id, "right": grant.right},
        )
        await session.flush()
    _log_change(
        "identity.right_revoked",
        actor,
        company_id=company_id,
        branch_id=grant.branch_id,
        grant_id=grant.id,
    )
    return grant


# --- workers in bulk ------------------------------------------------------------------------


class UpsertOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(slots=True)
class UpsertResult:
    login: str
    outcome: UpsertOutcome
    errors: list[tuple[str, str]] = field(default_factory=list)


async def upsert_workers(
    *, db: Database, actor: Actor, company_id: str, workers: Sequence[WorkerValues]
) -> list[UpsertResult]:
    """Create or update a company's workers by login (a workers file's import); one result per
    worker, in order: created, updated, unchanged, or rejected with the fields and reasons.

    Each worker is checked on its own; the valid ones are written together. Who may: an
    operator, or a person holding the right on the company (a right on branches only: workers
    of those branches only). A worker new to the directory can log in: the person is added when
    the directory does not know them yet.
    """
    by = _person_acting(actor)
    async with db.transaction() as session:
        results = await _upsert_workers(session, by, company_id, workers)
    counts = Counter(result.outcome.value for result in results)
    _log_change("identity.workers_upserted", actor, company_id=company_id, **counts)
    return results


async def _upsert_workers(
    session: AsyncSession, by: str, company_id: str, workers: Sequence[WorkerValues]
) -> list[UpsertResult]:
    await require_company(session, company_id)
    rights = await _worker_rights(session, by, company_id)
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
        errors = domain.worker_errors(values, branches, rights)
        existing = by_login.get(values.login)
        elsewhere = existing is not None and existing.company_id != company_id
        if (
            elsewhere
            and existing is not None
            and existing.national_number != values.national_number
        ):
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
        if elsewhere:  # the same person works for this company too
            results.append(UpsertResult(values.login, await _employ(session, company_id, values)))
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


async def _employ(session: AsyncSession, company_id: str, values: WorkerValues) -> UpsertOutcome:
    """Record (or change) the company as a further employer of a worker of another company."""
    found = await repository.get_employment(session, values.login, company_id)
    terms = (values.branch_id, values.contract_start, values.contract_end)
    if found is None:
        session.add(
            Employment(
                login=values.login,
                company_id=company_id,
                branch_id=values.branch_id,
                contract_start=values.contract_start,
                contract_end=values.contract_end,
            )
        )
        return UpsertOutcome.CREATED
    if (found.branch_id, found.contract_start, found.contract_end) == terms:
        return UpsertOutcome.UNCHANGED
    found.branch_id, found.contract_start, found.contract_end = terms
    return UpsertOutcome.UPDATED


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


async def _worker_rights(session: AsyncSession, by: str, company_id: str) -> set[str] | None:
    """None when the person may upsert any worker of the company; else the branches they may."""
    if (await repository.roles_of(session, by)).operator:
        return None
    scopes = await repository.active_grant_scopes(session, company_id, by)
    if any(scope.branch_id is None for scope in scopes):
        return None
    branches = {scope.branch_id for scope in scopes if scope.branch_id is not None}
    if not branches:
        raise not_allowed("only an operator or staff with the right on this company may do this")
    return branches
