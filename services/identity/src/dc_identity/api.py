"""The identity service's internal read API (service to service; later behind the gateway)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import Database, create_schema
from dc_common.problems import Problem, field_error, install_problem_handlers
from dc_identity import domain, repository
from dc_identity.demo import load_demo
from dc_identity.models import Base
from dc_identity.settings import IdentitySettings

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


class Health(BaseModel):
    status: str


def create_app(settings: IdentitySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        try:
            await create_schema(database.engine, Base.metadata)
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
        summary="Directory of companies, branches, workers and users",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)

    async def session(request: Request) -> AsyncIterator[AsyncSession]:
        database: Database = request.app.state.database
        async with database.sessions() as db_session:
            yield db_session

    Session = Annotated[AsyncSession, Depends(session)]

    @app.get("/healthz")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/v1/workers/{login}", responses=_problems(404, 422))
    async def get_worker(login: str, db: Session) -> WorkerOut:
        _check("login", login, domain.worker_login_error)
        worker = await repository.get_worker(db, login)
        if worker is None:
            raise _not_found("login", "no worker with this login")
        return WorkerOut.model_validate(worker)

    @app.get("/v1/users/{user_number}", responses=_problems(404, 422))
    async def get_user(user_number: str, db: Session) -> UserOut:
        _check("user_number", user_number, domain.user_number_error)
        user = await repository.get_user(db, user_number)
        if user is None:
            raise _not_found("user_number", "no user with this user number")
        return UserOut.model_validate(user)

    @app.get("/v1/companies/{enterprise_number}", responses=_problems(404, 422))
    async def get_company(enterprise_number: str, db: Session) -> CompanyOut:
        _check("enterprise_number", enterprise_number, domain.enterprise_number_error)
        company = await repository.get_company(db, enterprise_number)
        if company is None:
            raise _not_found("enterprise_number", "no company with this enterprise number")
        branches = await repository.list_branches(db, enterprise_number)
        return CompanyOut(
            enterprise_number=company.enterprise_number,
            recognition_number=company.recognition_number,
            name=company.name,
            branches=[BranchOut.model_validate(branch) for branch in branches],
        )

    @app.get("/v1/companies/{enterprise_number}/workers", responses=_problems(404, 422))
    async def list_company_workers(enterprise_number: str, db: Session) -> list[WorkerOut]:
        _check("enterprise_number", enterprise_number, domain.enterprise_number_error)
        if await repository.get_company(db, enterprise_number) is None:
            raise _not_found("enterprise_number", "no company with this enterprise number")
        workers = await repository.list_company_workers(db, enterprise_number)
        return [WorkerOut.model_validate(worker) for worker in workers]

    return app


def _check(field: str, value: str, rule: Callable[[str], str | None]) -> None:
    if reason := rule(value):
        raise field_error(field, reason)


def _not_found(field: str, reason: str) -> Problem:
    detail = f"{field}: {reason}"
    return Problem(404, "Not found", detail, errors=[{"field": field, "reason": reason}])


def _problems(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {
        status: {"content": {"application/problem+json": {}}, "description": "Problem"}
        for status in statuses
    }
