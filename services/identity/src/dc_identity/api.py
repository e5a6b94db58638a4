"""The identity service's internal API (service to service, behind the gateway).

Every route answers only callers with the shared internal secret (the gateway and the workers).
Writes name the acting party in the shared ``X-Actor-*`` headers
(:func:`dc_common.service_app.acting_party`); the directory's rules decide by the person acting
(``X-Actor-Person``, their national number): 401 without a valid one, 403 when the rules do not
let that person do it. The gateway authorises first; identity checks again.

A national number is never part of a URL here (URLs are written to access logs): the person is
named in the body (``POST /v1/people/access``, ``POST /v1/people/lookup``, ``PUT /v1/people``).
The development identity provider's routes (``/dev/*``, discovery, JWKS) are public; they live
in :mod:`dc_identity.dev_idp`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, status

from dc_common.actors import Actor
from dc_common.answers import MAX_ROW_ID
from dc_common.db import Database
from dc_common.logging import configure_logging
from dc_common.migrations import migrate
from dc_common.ops import operations_port
from dc_common.problems import Problem
from dc_common.readiness import database_check
from dc_common.service_app import acting_party, create_service_app
from dc_identity import dev_idp, domain, service
from dc_identity.accounts import TokenPolicy
from dc_identity.demo import load_demo
from dc_identity.models import MIGRATIONS, Grant
from dc_identity.schemas import (
    AccessOut,
    AuditEntryOut,
    BranchIn,
    BranchOut,
    CompanyIn,
    CompanyOut,
    EmployerOut,
    FieldErrorOut,
    GrantIn,
    GrantOut,
    MainAccessManagerIn,
    MainAccessManagerOut,
    NewCompanyOut,
    PersonIn,
    PersonOut,
    PersonRef,
    RightOut,
    UserOut,
    WorkerDetailOut,
    WorkerOut,
    WorkerRoleOut,
    WorkersIn,
    WorkerUpsertOut,
    WorkerUpsertsOut,
)
from dc_identity.service import CompanyView
from dc_identity.settings import IdentitySettings

PERSON_HEADER = "X-Actor-Person"

log = structlog.get_logger("dc_identity")


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def acting_person(actor: Annotated[Actor, Depends(acting_party)]) -> Actor:
    """The acting party, with the person acting for it (a valid national number): writes need
    one, before their body is even read."""
    if not actor.person:
        raise _unauthenticated("the acting person is required")
    if reason := domain.national_number_error(actor.person):
        raise _unauthenticated(reason)
    return actor


Db = Annotated[Database, Depends(_database)]
Acting = Annotated[Actor, Depends(acting_person)]

router = APIRouter(prefix="/v1", tags=["identity"])


def _problems(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {
        code: {"content": {"application/problem+json": {}}, "description": "Problem"}
        for code in statuses
    }


# --- workers and users ----------------------------------------------------------------------


@router.get("/workers/{login}", responses=_problems(404, 422))
async def get_worker(login: str, db: Db) -> WorkerDetailOut:
    worker = await service.get_worker(db=db, login=login)
    employers = await service.employers_of(db=db, worker=worker)
    return WorkerDetailOut.model_validate(
        {
            **WorkerOut.model_validate(worker).model_dump(),
            "employers": [EmployerOut.model_validate(e) for e in employers],
        }
    )


@router.get("/users/{user_number}", responses=_problems(404, 422))
async def get_user(user_number: str, db: Db) -> UserOut:
    return UserOut.model_validate(await service.get_user(db=db, user_number=user_number))


@router.get("/companies/{enterprise_number}/workers", responses=_problems(404, 422))
async def list_company_workers(enterprise_number: str, db: Db) -> list[WorkerOut]:
    workers = await service.list_company_workers(db=db, enterprise_number=enterprise_number)
    return [WorkerOut.model_validate(worker) for worker in workers]


@router.put("/companies/{enterprise_number}/workers", responses=_problems(401, 403, 404, 409, 422))
async def upsert_company_workers(
    enterprise_number: str, body: WorkersIn, actor: Acting, db: Db
) -> WorkerUpsertsOut:
    """Create or update workers by login (a workers file's import), each answered on its own:
    created, updated, unchanged, or rejected with the fields and reasons."""
    results = await service.upsert_workers(
        db=db,
        actor=actor,
        company_id=enterprise_number,
        workers=[domain.WorkerValues(**worker.model_dump()) for worker in body.workers],
    )
    return WorkerUpsertsOut(
        results=[
            WorkerUpsertOut(
                login=result.login,
                outcome=result.outcome.value,
                errors=[FieldErrorOut(field=f, reason=r) for f, r in result.errors],
            )
            for result in results
        ]
    )


# --- people ---------------------------------------------------------------------------------


@router.post("/people/lookup", responses=_problems(404, 422))
async def get_person(body: PersonRef, db: Db) -> PersonOut:
    """One person, named in the body."""
    return PersonOut.model_validate(
        await service.get_person(db=db, national_number=body.national_number)
    )


@router.put(
    "/people",
    responses={201: {"description": "Registered"}, **_problems(401, 403, 409, 422)},
)
async def put_person(body: PersonIn, actor: Acting, db: Db, response: Response) -> PersonOut:
    """Register a person or update their name and e-mail (the person themself or an operator)."""
    put = await service.put_person(
        db=db,
        actor=actor,
        national_number=body.national_number,
        first_name=body.first_name,
        last_name=body.last_name,
        email=body.email,
    )
    response.status_code = status.HTTP_201_CREATED if put.created else status.HTTP_200_OK
    return PersonOut.model_validate(put.person)


@router.post("/people/access", responses=_problems(404, 422))
async def get_access(body: PersonRef, db: Db) -> AccessOut:
    """Who this person is for the platform: roles, active rights, worker logins, users."""
    access = await service.access_of(db=db, national_number=body.national_number)
    person = access.person
    return AccessOut(
        national_number=person.national_number,
        name=domain.display_name(person.first_name, person.last_name, person.national_number),
        operator=person.is_operator,
        legal_representative_of=access.legal_representative_of,
        main_access_manager_of=access.main_access_manager_of,
        rights=[_right_out(grant) for grant in access.grants],
        workers=[WorkerRoleOut.model_validate(worker) for worker in access.workers],
        user_numbers=access.user_numbers,
    )


# --- companies and branches -----------------------------------------------------------------


@router.get("/companies")
async def list_companies(db: Db) -> list[CompanyOut]:
    """Every company by name, each with its branches."""
    return [_company_out(view) for view in await service.list_companies(db=db)]


@router.post("/companies", status_code=201, responses=_problems(401, 403, 409, 422))
async def create_company(body: CompanyIn, actor: Acting, db: Db) -> NewCompanyOut:
    """Register a recognised company (operator), with its legal representatives."""
    company = await service.create_company(
        db=db,
        actor=actor,
        enterprise_number=body.enterprise_number,
        recognition_number=body.recognition_number,
        name=body.name,
        legal_representatives=body.legal_representatives,
    )
    return NewCompanyOut(
        enterprise_number=company.enterprise_number,
        recognition_number=company.recognition_number,
        name=company.name,
        branches=[],
        legal_representatives=list(dict.fromkeys(body.legal_representatives)),
    )


@router.get("/companies/{enterprise_number}", responses=_problems(404, 422))
async def get_company(enterprise_number: str, db: Db) -> CompanyOut:
    return _company_out(await service.get_company(db=db, enterprise_number=enterprise_number))


@router.get("/companies/{enterprise_number}/branches", responses=_problems(404, 422))
async def list_company_branches(enterprise_number: str, db: Db) -> list[BranchOut]:
    branches = await service.list_branches(db=db, enterprise_number=enterprise_number)
    return [BranchOut.model_validate(branch) for branch in branches]


@router.post(
    "/companies/{enterprise_number}/branches",
    status_code=201,
    responses=_problems(401, 403, 404, 409, 422),
)
async def create_branch(enterprise_number: str, body: BranchIn, actor: Acting, db: Db) -> BranchOut:
    """Add a branch to a company (operator)."""
    branch = await service.create_branch(
        db=db,
        actor=actor,
        company_id=enterprise_number,
        establishment_unit_number=body.establishment_unit_number,
        name=body.name,
    )
    return BranchOut.model_validate(branch)


# --- main access managers -------------------------------------------------------------------

#: The people an access answer names by national number, and where it names them by name.
_NAMED = {
    "national_number": "name",
    "appointed_by": "appointed_by_name",
    "granted_by": "granted_by_name",
    "actor": "actor_name",
    "subject": "subject_name",
}


Named = TypeVar("Named", MainAccessManagerOut, GrantOut, AuditEntryOut)


async def _named(db: Database, answers: list[Named]) -> list[Named]:
    """The answers with the names of the people they name (one lookup for all)."""
    if not answers:
        return answers
    kind = type(answers[0])
    fields = {number: name for number, name in _NAMED.items() if name in kind.model_fields}
    numbers = {getattr(a, n) for a in answers for n in fields if getattr(a, n)}
    names = await service.names_of(db=db, national_numbers=numbers)
    return [
        answer.model_copy(
            update={name: names.get(getattr(answer, n) or "") for n, name in fields.items()}
        )
        for answer in answers
    ]


@router.get("/companies/{enterprise_number}/main-access-managers", responses=_problems(404, 422))
async def list_main_access_managers(enterprise_number: str, db: Db) -> list[MainAccessManagerOut]:
    managers = await service.list_main_access_managers(db=db, enterprise_number=enterprise_number)
    return await _named(db, [MainAccessManagerOut.model_validate(m) for m in managers])


@router.post(
    "/companies/{enterprise_number}/main-access-managers",
    status_code=201,
    responses=_problems(401, 403, 404, 409, 422),
)
async def appoint_main_access_manager(
    enterprise_number: str, body: MainAccessManagerIn, actor: Acting, db: Db
) -> MainAccessManagerOut:
    """A legal representative (or a main access manager) appoints a main access manager."""
    appointment = await service.appoint_main_access_manager(
        db=db, actor=actor, company_id=enterprise_number, national_number=body.national_number
    )
    [named] = await _named(db, [MainAccessManagerOut.model_validate(appointment)])
    return named


# --- grants ---------------------------------------------------------------------------------


@router.get("/companies/{enterprise_number}/grants", responses=_problems(404, 422))
async def list_grants(
    enterprise_number: str, db: Db, include_revoked: bool = False
) -> list[GrantOut]:
    """The company's active grants, oldest first (``include_revoked=true``: all)."""
    grants = await service.list_grants(
        db=db, enterprise_number=enterprise_number, include_revoked=include_revoked
    )
    return await _named(db, [GrantOut.model_validate(grant) for grant in grants])


@router.post(
    "/companies/{enterprise_number}/grants",
    status_code=201,
    responses=_problems(401, 403, 404, 409, 422),
)
async def grant_right(enterprise_number: str, body: GrantIn, actor: Acting, db: Db) -> GrantOut:
    """A main access manager grants the right on the company (branch_id null) or a branch."""
    grant = await service.grant_right(
        db=db,
        actor=actor,
        company_id=enterprise_number,
        national_number=body.national_number,
        branch_id=body.branch_id,
    )
    [named] = await _named(db, [GrantOut.model_validate(grant)])
    return named


@router.delete(
    "/companies/{enterprise_number}/grants/{grant_id}",
    status_code=204,
    response_class=Response,
    responses=_problems(401, 403, 404, 409, 422),
)
async def revoke_right(enterprise_number: str, grant_id: int, actor: Acting, db: Db) -> Response:
    """A main access manager revokes a grant; the grant stays on record as revoked."""
    await service.revoke_right(db=db, actor=actor, company_id=enterprise_number, grant_id=grant_id)
    return Response(status_code=204)


# --- audit log ------------------------------------------------------------------------------


@router.get("/companies/{enterprise_number}/audit-log", responses=_problems(404, 422))
async def list_audit_log(
    enterprise_number: str,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> list[AuditEntryOut]:
    """Newest first; for the next page pass the last entry's id as ``before_id``."""
    entries = await service.list_audit_log(
        db=db, enterprise_number=enterprise_number, limit=limit, before_id=before_id
    )
    return await _named(db, [AuditEntryOut.model_validate(entry) for entry in entries])


# --- the app --------------------------------------------------------------------------------


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    from dc_identity import jobtracker_api  # its routes use this module's dependencies

    settings = settings or IdentitySettings()
    configure_logging(
        json=settings.log_json, level=settings.log_level, pseudonym_key=settings.internal_token
    )
    keys = dev_idp.KeyStore(settings.dev_idp_key_file)
    jobtracker = TokenPolicy(
        keys=dev_idp.KeyStore(settings.jobtracker_key_file),
        issuer=settings.jobtracker_issuer.rstrip("/"),
        audience=settings.oidc_audience,
        access_minutes=settings.jobtracker_token_minutes,
        refresh_days=settings.jobtracker_refresh_days,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        try:
            await migrate(database.engine, MIGRATIONS)
            if settings.dev_idp:
                keys.load_or_create()
                log.info("identity.dev_idp", issuer=settings.dev_idp_issuer, kid=keys.current.kid)
            jobtracker.keys.load_or_create()
            app.state.jobtracker_tokens = jobtracker
            if settings.demo_data:
                await load_demo(database)
                log.info("identity.demo_loaded")
            app.state.database = database
            app.state.readiness = {"database": database_check(database.engine)}
            log.info("identity.started", dialect=database.engine.dialect.name)
            async with operations_port(settings.ops_host, settings.ops_port, app.state.readiness):
                yield
        finally:
            await database.dispose()

    app = create_service_app(
        name="identity",
        title="dc-identity",
        description="Directory of companies, branches, workers, users, people, roles and rights",
        lifespan=lifespan,
        routers=[router, jobtracker_api.router],
        internal_token=settings.internal_token,
    )
    app.include_router(jobtracker_api.public_router(jobtracker))  # public: the gateway's keys
    if settings.dev_idp:  # public: the browser and the gateway's key fetch call it
        app.include_router(dev_idp.create_router(settings, keys))
    return app


def _company_out(view: CompanyView) -> CompanyOut:
    return CompanyOut(
        enterprise_number=view.company.enterprise_number,
        recognition_number=view.company.recognition_number,
        name=view.company.name,
        branches=[BranchOut.model_validate(branch) for branch in view.branches],
    )


def _right_out(grant: Grant) -> RightOut:
    return RightOut(grant_id=grant.id, company_id=grant.company_id, branch_id=grant.branch_id)


def _unauthenticated(reason: str) -> Problem:
    return Problem(
        401,
        "Not authenticated",
        f"{PERSON_HEADER}: {reason}",
        errors=[{"field": PERSON_HEADER, "reason": reason}],
    )
