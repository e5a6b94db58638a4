"""The identity service's internal API (service to service, behind the gateway).

Reads are open to the services that call them. Writes name the acting person in the header
``X-Actor-National-Number`` (the gateway sets it from the verified token): 401 without it, 403
when the directory's rules do not let that person do it. The gateway authorises first; identity
checks again.
"""

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import Database, create_schema
from dc_common.internal import require_internal_caller, required
from dc_common.problems import Problem, install_problem_handlers
from dc_identity import commands, dev_idp, domain, repository, worker_upserts
from dc_identity.commands import check, not_found, require_company
from dc_identity.demo import load_demo
from dc_identity.models import Base, Person
from dc_identity.settings import IdentitySettings

ACTOR_HEADER = "X-Actor-National-Number"

log = structlog.get_logger("dc_identity")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WorkerOut(_Out):
    login: str
    national_number: str
    first_name: str
    last_name: str
    company_id: str
    branch_id: str | None
    contract_start: date
    contract_end: date | None
    language: str


class UserOut(_Out):
    user_number: str
    name: str
    email: str
    language: str


class BranchOut(_Out):
    establishment_unit_number: str
    name: str


class CompanyOut(_Out):
    enterprise_number: str
    recognition_number: str
    name: str
    branches: list[BranchOut]


class PersonOut(_Out):
    national_number: str
    first_name: str
    last_name: str
    email: str | None


class RightOut(BaseModel):
    grant_id: int
    company_id: str
    branch_id: str | None


class WorkerRoleOut(_Out):
    login: str
    company_id: str
    branch_id: str | None


class AccessOut(BaseModel):
    """Everything the gateway needs to authorise one person."""

    national_number: str
    name: str
    operator: bool
    legal_representative_of: list[str]
    main_access_manager_of: list[str]
    rights: list[RightOut]
    workers: list[WorkerRoleOut]
    user_numbers: list[str]


class NewCompanyOut(CompanyOut):
    legal_representatives: list[str]


class MainAccessManagerOut(_Out):
    company_id: str
    national_number: str
    appointed_by: str
    appointed_at: datetime


class GrantOut(_Out):
    id: int
    company_id: str
    branch_id: str | None
    national_number: str
    right: str
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


class AuditEntryOut(_Out):
    id: int
    company_id: str
    at: datetime
    actor: str
    action: str
    subject: str | None
    branch_id: str | None
    details: dict[str, Any]


_Name = Annotated[str, Field(min_length=1, max_length=200)]


class CompanyIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    enterprise_number: str
    recognition_number: str = Field(min_length=1, max_length=20)
    name: _Name
    legal_representatives: list[str] = Field(min_length=1, max_length=50)


class BranchIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    establishment_unit_number: str
    name: _Name


class MainAccessManagerIn(BaseModel):
    national_number: str


class GrantIn(BaseModel):
    national_number: str
    branch_id: str | None = None


class PersonIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=254)


class WorkerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    login: str = Field(max_length=20)
    national_number: str = Field(max_length=20)
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    branch_id: str | None = Field(default=None, max_length=20)
    contract_start: date
    contract_end: date | None = None
    language: str = Field(default="nl", max_length=10)


class WorkersIn(BaseModel):
    workers: list[WorkerIn] = Field(min_length=1, max_length=5000)


class FieldErrorOut(BaseModel):
    field: str
    reason: str


class WorkerUpsertOut(BaseModel):
    login: str
    outcome: str = Field(description="created, updated, unchanged or rejected")
    errors: list[FieldErrorOut]


class WorkerUpsertsOut(BaseModel):
    results: list[WorkerUpsertOut] = Field(description="one per worker sent, in order")


class Health(BaseModel):
    status: str


async def acting_person(
    x_actor_national_number: Annotated[str | None, Header()] = None,
) -> str:
    """The person on whose behalf a write is made, as the gateway authenticated them."""
    if not x_actor_national_number:
        raise _unauthenticated("the acting person is required")
    if reason := domain.national_number_error(x_actor_national_number):
        raise _unauthenticated(reason)
    return x_actor_national_number


Actor = Annotated[str, Depends(acting_person)]


def create_app(settings: IdentitySettings) -> FastAPI:
    keys = dev_idp.KeyStore(settings.dev_idp_key_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        try:
            await create_schema(database.engine, Base.metadata)
            if settings.dev_idp:
                keys.load_or_create()
                log.info("identity.dev_idp", issuer=settings.dev_idp_issuer, kid=keys.current.kid)
            if settings.demo_data:
                await load_demo(database)
                log.info("identity.demo_loaded")
            app.state.database = database
            log.info("identity.started", dialect=database.engine.dialect.name)
            yield
        finally:
            await database.dispose()

    app = FastAPI(
        title="dc-identity",
        summary="Directory of companies, branches, workers, users, people, roles and rights",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.state.internal_token = required(settings.internal_token)
    internal = APIRouter(dependencies=[Depends(require_internal_caller)])

    def reading(request: Request) -> AbstractAsyncContextManager[AsyncSession]:
        database: Database = request.app.state.database
        return database.sessions()

    async def session(request: Request) -> AsyncIterator[AsyncSession]:
        async with reading(request) as db_session:
            yield db_session

    Session = Annotated[AsyncSession, Depends(session)]

    def writing(request: Request) -> AbstractAsyncContextManager[AsyncSession]:
        """One transaction: the change and its audit-log entry commit together."""
        database: Database = request.app.state.database
        return database.transaction()

    @app.get("/healthz")
    async def healthz() -> Health:
        return Health(status="ok")

    @internal.get("/v1/workers/{login}", responses=_problems(404, 422))
    async def get_worker(login: str, db: Session) -> WorkerOut:
        check("login", login, domain.worker_login_error)
        worker = await repository.get_worker(db, login)
        if worker is None:
            raise not_found("login", "no worker with this login")
        return WorkerOut.model_validate(worker)

    @internal.get("/v1/users/{user_number}", responses=_problems(404, 422))
    async def get_user(user_number: str, db: Session) -> UserOut:
        check("user_number", user_number, domain.user_number_error)
        user = await repository.get_user(db, user_number)
        if user is None:
            raise not_found("user_number", "no user with this user number")
        return UserOut.model_validate(user)

    @internal.get("/v1/companies/{enterprise_number}", responses=_problems(404, 422))
    async def get_company(enterprise_number: str, db: Session) -> CompanyOut:
        company = await require_company(db, enterprise_number)
        branches = await repository.list_branches(db, enterprise_number)
        return CompanyOut(
            enterprise_number=company.enterprise_number,
            recognition_number=company.recognition_number,
            name=company.name,
            branches=[BranchOut.model_validate(branch) for branch in branches],
        )

    @internal.get("/v1/companies/{enterprise_number}/workers", responses=_problems(404, 422))
    async def list_company_workers(enterprise_number: str, db: Session) -> list[WorkerOut]:
        await require_company(db, enterprise_number)
        workers = await repository.list_company_workers(db, enterprise_number)
        return [WorkerOut.model_validate(worker) for worker in workers]

    @internal.put(
        "/v1/companies/{enterprise_number}/workers", responses=_problems(401, 403, 404, 409, 422)
    )
    async def upsert_company_workers(
        enterprise_number: str, body: WorkersIn, actor: Actor, request: Request
    ) -> WorkerUpsertsOut:
        """Create or update workers by login (a workers file's import), each answered on its
        own: created, updated, unchanged, or rejected with the fields and reasons."""
        async with writing(request) as db:
            results = await worker_upserts.upsert_workers(
                db,
                actor,
                enterprise_number,
                [worker_upserts.WorkerValues(**worker.model_dump()) for worker in body.workers],
            )
        counts = Counter(result.outcome.value for result in results)
        log.info("identity.workers_upserted", company_id=enterprise_number, actor=actor, **counts)
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

    # --- people ---------------------------------------------------------------------------

    @internal.get("/v1/people/{national_number}", responses=_problems(404, 422))
    async def get_person(national_number: str, db: Session) -> PersonOut:
        return PersonOut.model_validate(await _person_or_404(db, national_number))

    @internal.put("/v1/people/{national_number}", responses=_problems(401, 403, 422))
    async def put_person(
        national_number: str, body: PersonIn, actor: Actor, request: Request, response: Response
    ) -> PersonOut:
        """Register a person or update their name and e-mail (the person or an operator)."""
        async with writing(request) as db:
            person, created = await commands.put_person(
                db,
                actor,
                national_number,
                first_name=body.first_name,
                last_name=body.last_name,
                email=body.email,
            )
        response.status_code = 201 if created else 200
        return PersonOut.model_validate(person)

    @internal.get("/v1/people/{national_number}/access", responses=_problems(404, 422))
    async def get_access(national_number: str, db: Session) -> AccessOut:
        """Who this person is for the platform: roles, active rights, worker logins, users."""
        person = await _person_or_404(db, national_number)
        grants = await repository.active_grants_of_person(db, national_number)
        workers = await repository.workers_with_national_number(db, national_number)
        return AccessOut(
            national_number=person.national_number,
            name=dev_idp.display_name(person),
            operator=person.is_operator,
            legal_representative_of=await repository.legal_representative_companies(
                db, national_number
            ),
            main_access_manager_of=await repository.main_access_manager_companies(
                db, national_number
            ),
            rights=[
                RightOut(grant_id=g.id, company_id=g.company_id, branch_id=g.branch_id)
                for g in grants
            ],
            workers=[WorkerRoleOut.model_validate(worker) for worker in workers],
            user_numbers=await repository.user_numbers_of_holder(db, national_number),
        )

    # --- companies and branches -----------------------------------------------------------

    @internal.get("/v1/companies")
    async def list_companies(db: Session) -> list[CompanyOut]:
        """Every company by name, each with its branches."""
        companies = await repository.list_companies(db)
        branches: dict[str, list[BranchOut]] = {}
        for branch in await repository.list_all_branches(db):
            branches.setdefault(branch.company_id, []).append(BranchOut.model_validate(branch))
        return [
            CompanyOut(
                enterprise_number=company.enterprise_number,
                recognition_number=company.recognition_number,
                name=company.name,
                branches=branches.get(company.enterprise_number, []),
            )
            for company in companies
        ]

    @internal.post("/v1/companies", status_code=201, responses=_problems(401, 403, 409, 422))
    async def create_company(body: CompanyIn, actor: Actor, request: Request) -> NewCompanyOut:
        """Register a recognised company (operator), with its legal representatives."""
        async with writing(request) as db:
            company = await commands.create_company(
                db,
                actor,
                enterprise_number=body.enterprise_number,
                recognition_number=body.recognition_number,
                name=body.name,
                legal_representatives=body.legal_representatives,
            )
        log.info("identity.company_created", company_id=company.enterprise_number, actor=actor)
        return NewCompanyOut(
            enterprise_number=company.enterprise_number,
            recognition_number=company.recognition_number,
            name=company.name,
            branches=[],
            legal_representatives=list(dict.fromkeys(body.legal_representatives)),
        )

    @internal.get("/v1/companies/{enterprise_number}/branches", responses=_problems(404, 422))
    async def list_company_branches(enterprise_number: str, db: Session) -> list[BranchOut]:
        await require_company(db, enterprise_number)
        branches = await repository.list_branches(db, enterprise_number)
        return [BranchOut.model_validate(branch) for branch in branches]

    @internal.post(
        "/v1/companies/{enterprise_number}/branches",
        status_code=201,
        responses=_problems(401, 403, 404, 409, 422),
    )
    async def create_branch(
        enterprise_number: str, body: BranchIn, actor: Actor, request: Request
    ) -> BranchOut:
        """Add a branch to a company (operator)."""
        async with writing(request) as db:
            branch = await commands.create_branch(
                db,
                actor,
                enterprise_number,
                establishment_unit_number=body.establishment_unit_number,
                name=body.name,
            )
        log.info(
            "identity.branch_created",
            company_id=enterprise_number,
            branch_id=branch.establishment_unit_number,
            actor=actor,
        )
        return BranchOut.model_validate(branch)

    # --- main access managers -------------------------------------------------------------

    @internal.get(
        "/v1/companies/{enterprise_number}/main-access-managers", responses=_problems(404, 422)
    )
    async def list_main_access_managers(
        enterprise_number: str, db: Session
    ) -> list[MainAccessManagerOut]:
        await require_company(db, enterprise_number)
        managers = await repository.list_main_access_managers(db, enterprise_number)
        return [MainAccessManagerOut.model_validate(manager) for manager in managers]

    @internal.post(
        "/v1/companies/{enterprise_number}/main-access-managers",
        status_code=201,
        responses=_problems(401, 403, 404, 409, 422),
    )
    async def appoint_main_access_manager(
        enterprise_number: str, body: MainAccessManagerIn, actor: Actor, request: Request
    ) -> MainAccessManagerOut:
        """A legal representative (or a main access manager) appoints a main access manager."""
        async with writing(request) as db:
            appointment = await commands.appoint_main_access_manager(
                db, actor, enterprise_number, body.national_number
            )
        log.info(
            "identity.main_access_manager_appointed",
            company_id=enterprise_number,
            subject=body.national_number,
            actor=actor,
        )
        return MainAccessManagerOut.model_validate(appointment)

    # --- grants ---------------------------------------------------------------------------

    @internal.get("/v1/companies/{enterprise_number}/grants", responses=_problems(404, 422))
    async def list_grants(
        enterprise_number: str, db: Session, include_revoked: bool = False
    ) -> list[GrantOut]:
        """The company's active grants, oldest first (``include_revoked=true``: all)."""
        await require_company(db, enterprise_number)
        grants = await repository.list_grants(
            db, enterprise_number, include_revoked=include_revoked
        )
        return [GrantOut.model_validate(grant) for grant in grants]

    @internal.post(
        "/v1/companies/{enterprise_number}/grants",
        status_code=201,
        responses=_problems(401, 403, 404, 409, 422),
    )
    async def grant_right(
        enterprise_number: str, body: GrantIn, actor: Actor, request: Request
    ) -> GrantOut:
        """A main access manager grants the right on the company (branch_id null) or a branch."""
        async with writing(request) as db:
            grant = await commands.grant_right(
                db, actor, enterprise_number, body.national_number, body.branch_id
            )
        log.info(
            "identity.right_granted",
            company_id=enterprise_number,
            branch_id=grant.branch_id,
            grant_id=grant.id,
            subject=grant.national_number,
            actor=actor,
        )
        return GrantOut.model_validate(grant)

    @internal.delete(
        "/v1/companies/{enterprise_number}/grants/{grant_id}",
        status_code=204,
        response_class=Response,
        responses=_problems(401, 403, 404, 409, 422),
    )
    async def revoke_right(
        enterprise_number: str, grant_id: int, actor: Actor, request: Request
    ) -> Response:
        """A main access manager revokes a grant; the grant stays on record as revoked."""
        async with writing(request) as db:
            grant = await commands.revoke_right(db, actor, enterprise_number, grant_id)
        log.info(
            "identity.right_revoked",
            company_id=enterprise_number,
            branch_id=grant.branch_id,
            grant_id=grant.id,
            subject=grant.national_number,
            actor=actor,
        )
        return Response(status_code=204)

    # --- audit log ------------------------------------------------------------------------

    @internal.get("/v1/companies/{enterprise_number}/audit-log", responses=_problems(404, 422))
    async def list_audit_log(
        enterprise_number: str,
        db: Session,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        before_id: Annotated[int | None, Query(ge=1)] = None,
    ) -> list[AuditEntryOut]:
        """Newest first; for the next page pass the last entry's id as ``before_id``."""
        await require_company(db, enterprise_number)
        entries = await repository.list_audit_entries(
            db, enterprise_number, limit=limit, before_id=before_id
        )
        return [AuditEntryOut.model_validate(entry) for entry in entries]

    app.include_router(internal)
    if settings.dev_idp:
        app.include_router(dev_idp.create_router(settings, keys, reading))

    return app


async def _person_or_404(db: AsyncSession, national_number: str) -> Person:
    check("national_number", national_number, domain.national_number_error)
    person = await repository.get_person(db, national_number)
    if person is None:
        raise not_found("national_number", "no person with this national number")
    return person


def _unauthenticated(reason: str) -> Problem:
    return Problem(
        401,
        "Not authenticated",
        f"{ACTOR_HEADER}: {reason}",
        errors=[{"field": ACTOR_HEADER, "reason": reason}],
    )


def _problems(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {
        status: {"content": {"application/problem+json": {}}, "description": "Problem"}
        for status in statuses
    }
