"""The directory's changes, each checked against the domain rules for the person acting.

Every function works in the caller's session and transaction and never commits: the change and
its audit-log entry are written together or not at all. Refusals are raised as problems: 403
when the actor may not do it, 404 for a company or grant that is not there, 409 for a conflict
with what exists, 422 naming the field for bad input.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.problems import Problem, field_error
from dc_identity import domain, repository
from dc_identity.domain import AuditAction, GrantScope
from dc_identity.models import (
    Branch,
    Company,
    Grant,
    LegalRepresentative,
    MainAccessManager,
    Person,
)

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


async def require_company(session: AsyncSession, enterprise_number: str) -> Company:
    """The company (422 for a malformed number, 404 for an unknown one)."""
    check("enterprise_number", enterprise_number, domain.enterprise_number_error)
    company = await repository.get_company(session, enterprise_number)
    if company is None:
        raise not_found("enterprise_number", "no company with this enterprise number")
    return company


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


def _now() -> datetime:
    return datetime.now(UTC)


# --- companies and branches (operator) ------------------------------------------------------


async def create_company(
    session: AsyncSession,
    actor: str,
    *,
    enterprise_number: str,
    recognition_number: str,
    name: str,
    legal_representatives: Sequence[str],
    now: datetime | None = None,
) -> Company:
    """Register a recognised company with its legal representatives from the enterprise register.

    A legal representative the directory does not know yet is added as a person without a name
    (``PUT /v1/people/{national_number}`` fills it in).
    """
    if not domain.may_administer_companies(await repository.roles_of(session, actor)):
        raise not_allowed("only an operator may create companies")
    check("enterprise_number", enterprise_number, domain.enterprise_number_error)
    for index, national_number in enumerate(legal_representatives):
        check(f"legal_representatives.{index}", national_number, domain.national_number_error)
    if await repository.get_company(session, enterprise_number) is not None:
        raise conflict(f"enterprise_number: company {enterprise_number} already exists")
    if await repository.company_with_recognition_number(session, recognition_number) is not None:
        raise conflict(f"recognition_number: {recognition_number} belongs to another company")
    at = now or _now()
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
    await _flush(session, f"enterprise_number: company {enterprise_number} already exists")
    session.add_all(
        LegalRepresentative(company_id=enterprise_number, national_number=n)
        for n in representatives
    )
    repository.add_audit_entry(
        session,
        company_id=enterprise_number,
        at=at,
        actor=actor,
        action=AuditAction.COMPANY_CREATED,
        details={
            "name": name,
            "recognition_number": recognition_number,
            "legal_representatives": representatives,
        },
    )
    await _flush(session, f"enterprise_number: company {enterprise_number} already exists")
    return company


async def create_branch(
    session: AsyncSession,
    actor: str,
    company_id: str,
    *,
    establishment_unit_number: str,
    name: str,
    now: datetime | None = None,
) -> Branch:
    await require_company(session, company_id)
    if not domain.may_administer_companies(await repository.roles_of(session, actor)):
        raise not_allowed("only an operator may create branches")
    check(
        "establishment_unit_number",
        establishment_unit_number,
        domain.establishment_unit_number_error,
    )
    if await repository.get_branch(session, establishment_unit_number) is not None:
        raise conflict(f"establishment_unit_number: branch {establishment_unit_number} exists")
    branch = Branch(
        establishment_unit_number=establishment_unit_number, company_id=company_id, name=name
    )
    session.add(branch)
    repository.add_audit_entry(
        session,
        company_id=company_id,
        at=now or _now(),
        actor=actor,
        action=AuditAction.BRANCH_CREATED,
        branch_id=establishment_unit_number,
        details={"name": name},
    )
    await _flush(session, f"establishment_unit_number: branch {establishment_unit_number} exists")
    return branch


# --- main access managers -------------------------------------------------------------------


async def appoint_main_access_manager(
    session: AsyncSession,
    actor: str,
    company_id: str,
    national_number: str,
    *,
    now: datetime | None = None,
) -> MainAccessManager:
    await require_company(session, company_id)
    roles = await repository.roles_of(session, actor)
    if not domain.may_appoint_main_access_manager(roles, company_id):
        raise not_allowed(
            "only a legal representative or a main access manager of this company"
            " may appoint main access managers"
        )
    await _require_person(session, "national_number", national_number)
    if await repository.get_main_access_manager(session, company_id, national_number):
        raise conflict(f"national_number: already a main access manager of {company_id}")
    at = now or _now()
    appointment = MainAccessManager(
        company_id=company_id, national_number=national_number, appointed_by=actor, appointed_at=at
    )
    session.add(appointment)
    repository.add_audit_entry(
        session,
        company_id=company_id,
        at=at,
        actor=actor,
        action=AuditAction.MAIN_ACCESS_MANAGER_APPOINTED,
        subject=national_number,
    )
    await _flush(session, f"national_number: already a main access manager of {company_id}")
    return appointment


# --- grants ---------------------------------------------------------------------------------


async def grant_right(
    session: AsyncSession,
    actor: str,
    company_id: str,
    national_number: str,
    branch_id: str | None,
    *,
    now: datetime | None = None,
) -> Grant:
    await require_company(session, company_id)
    if not domain.may_manage_rights(await repository.roles_of(session, actor), company_id):
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
        granted_by=actor,
        granted_at=at,
    )
    session.add(grant)
    await _flush(session, duplicate)
    repository.add_audit_entry(
        session,
        company_id=company_id,
        at=at,
        actor=actor,
        action=AuditAction.RIGHT_GRANTED,
        subject=national_number,
        branch_id=branch_id,
        details={"grant_id": grant.id, "right": grant.right},
    )
    await session.flush()
    return grant


async def revoke_right(
    session: AsyncSession,
    actor: str,
    company_id: str,
    grant_id: int,
    *,
    now: datetime | None = None,
) -> Grant:
    await require_company(session, company_id)
    if not domain.may_manage_rights(await repository.roles_of(session, actor), company_id):
        raise not_allowed("only a main access manager of this company may revoke rights")
    grant = await repository.get_grant(session, grant_id)
    if grant is None or grant.company_id != company_id:
        raise not_found("grant_id", "no grant with this id for this company")
    if reason := domain.revoke_error(grant.revoked_at):
        raise conflict(f"grant_id: {reason}")
    at = now or _now()
    grant.revoked_by = actor
    grant.revoked_at = at
    repository.add_audit_entry(
        session,
        company_id=company_id,
        at=at,
        actor=actor,
        action=AuditAction.RIGHT_REVOKED,
        subject=grant.national_number,
        branch_id=grant.branch_id,
        details={"grant_id": grant.id, "right": grant.right},
    )
    await session.flush()
    return grant


# --- people ---------------------------------------------------------------------------------


async def put_person(
    session: AsyncSession,
    actor: str,
    national_number: str,
    *,
    first_name: str,
    last_name: str,
    email: str | None,
) -> tuple[Person, bool]:
    """Register a person or update their name and e-mail; (person, created).

    The person themself (the gateway, from a verified token) or an operator may do it. The
    operator flag is never set here.
    """
    check("national_number", national_number, domain.national_number_error)
    if actor != national_number and not (await repository.roles_of(session, actor)).operator:
        raise not_allowed("only the person themself or an operator may register a person")
    person = await repository.get_person(session, national_number)
    created = person is None
    if person is None:
        person = Person(national_number=national_number, is_operator=False)
        session.add(person)
    person.first_name, person.last_name, person.email = first_name, last_name, email
    await _flush(session, f"national_number: {national_number} was registered concurrently")
    return person, created
