"""Companies, branches, access rights, workers and users: forwarded to the identity service."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from dc_common.answers import MAX_ROW_ID
from dc_gateway import exports
from dc_gateway.access import Caller
from dc_gateway.parties import acting_as
from dc_gateway.policy import Rule, may_see, not_found, requires
from dc_gateway.upstream import Upstream
from dc_identity.schemas import AccessOut

router = APIRouter(prefix="/api/v1", tags=["identity"])

NationalNumber = Annotated[str, Field(pattern=r"^\d{11}$")]
EnterpriseNumber = Annotated[str, Field(pattern=r"^\d{10}$")]


def _identity(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.identity
    return upstream


Identity = Annotated[Upstream, Depends(_identity)]


class CompanyIn(BaseModel):
    enterprise_number: EnterpriseNumber
    recognition_number: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    legal_representatives: list[NationalNumber] = Field(
        min_length=1, description="from the enterprise register"
    )


class BranchIn(BaseModel):
    establishment_unit_number: EnterpriseNumber
    name: str = Field(min_length=1, max_length=200)


class ManagerIn(BaseModel):
    national_number: NationalNumber


class GrantIn(BaseModel):
    national_number: NationalNumber
    branch_id: EnterpriseNumber | None = Field(
        default=None, description="A branch of the company; none for the whole company"
    )


def _as_operator(caller: Caller) -> dict[str, str]:
    """The acting party of an operator's change: the operator, by their own number."""
    return acting_as(caller, "operator", caller.national_number)


def _for_company(caller: Caller, company_id: str) -> dict[str, str]:
    """The acting party of a change to a company's access: the company of the path."""
    return acting_as(caller, "company", company_id)


@router.get("/me", response_model=AccessOut, summary="Who am I, and my rights")
async def me(caller: Annotated[Caller, requires(Rule.AUTHENTICATED)]) -> AccessOut:
    assert caller.access is not None
    return caller.access


@router.get("/companies", summary="The companies the caller has a role at (all for operators)")
async def list_companies(
    identity: Identity, caller: Annotated[Caller, requires(Rule.AUTHENTICATED)]
) -> list[dict[str, Any]]:
    companies = await identity.fetch_list("/companies")
    return [c for c in companies if caller.knows_company(c["enterprise_number"])]


@router.post("/companies", status_code=status.HTTP_201_CREATED, summary="Register a company")
async def create_company(
    body: CompanyIn,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.OPERATOR)],
) -> Response:
    json = body.model_dump(mode="json")
    headers = _as_operator(caller)
    return await identity.forward(request, "POST", "/companies", json=json, headers=headers)


@router.get("/companies/{company_id}", summary="A company with its branches")
async def get_company(
    company_id: str,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.COMPANY_MEMBER)],
) -> Response:
    return await identity.forward(request, "GET", f"/companies/{company_id}")


@router.get("/companies/{company_id}/branches", summary="The company's branches")
async def list_branches(
    company_id: str,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.COMPANY_MEMBER)],
) -> Response:
    return await identity.forward(request, "GET", f"/companies/{company_id}/branches")


@router.post(
    "/companies/{company_id}/branches",
    status_code=status.HTTP_201_CREATED,
    summary="Add a branch",
)
async def create_branch(
    company_id: str,
    body: BranchIn,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.OPERATOR)],
) -> Response:
    path = f"/companies/{company_id}/branches"
    json = body.model_dump(mode="json")
    headers = _as_operator(caller)
    return await identity.forward(request, "POST", path, json=json, headers=headers)


@router.post(
    "/companies/{company_id}/main-access-managers",
    status_code=status.HTTP_201_CREATED,
    summary="The legal representative (or a main access manager) appoints a main access manager",
)
async def appoint_main_access_manager(
    company_id: str,
    body: ManagerIn,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.MANAGER_APPOINTER)],
) -> Response:
    path = f"/companies/{company_id}/main-access-managers"
    json = body.model_dump(mode="json")
    headers = _for_company(caller, company_id)
    return await identity.forward(request, "POST", path, json=json, headers=headers)


@router.get("/companies/{company_id}/main-access-managers", summary="The main access managers")
async def list_main_access_managers(
    company_id: str,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.ACCESS_READER)],
) -> Response:
    return await identity.forward(request, "GET", f"/companies/{company_id}/main-access-managers")


@router.post(
    "/companies/{company_id}/grants",
    status_code=status.HTTP_201_CREATED,
    summary="Grant the right 'Dienstencheques voor erkende ondernemingen' (company or branch)",
)
async def grant_right(
    company_id: str,
    body: GrantIn,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.ACCESS_MANAGER)],
) -> Response:
    path = f"/companies/{company_id}/grants"
    json = body.model_dump(mode="json")
    headers = _for_company(caller, company_id)
    return await identity.forward(request, "POST", path, json=json, headers=headers)


@router.get("/companies/{company_id}/grants", summary="The rights granted in the company")
async def list_grants(
    company_id: str,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.ACCESS_READER)],
    include_revoked: bool = False,
) -> Response:
    params = {"include_revoked": "true" if include_revoked else "false"}
    return await identity.forward(request, "GET", f"/companies/{company_id}/grants", params=params)


GRANT_COLUMNS = (
    exports.text("name"),
    exports.text("national_number"),
    exports.Column("on", lambda grant: grant["branch_id"] or "company"),
    exports.instant("granted_at"),
    exports.text("granted_by_name"),
    exports.instant("revoked_at"),
    exports.text("grant_id", "id"),
)


@router.get(
    "/companies/{company_id}/grants.csv",
    **exports.CSV_ROUTE,
    summary="The rights granted in the company as CSV (include_revoked=true: also the revoked)",
)
async def export_grants(
    company_id: str,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.ACCESS_READER)],
    include_revoked: bool = False,
) -> Response:
    params = {"include_revoked": "true" if include_revoked else "false"}
    grants = await identity.fetch_list(f"/companies/{company_id}/grants", params=params)
    rows = exports.one_page(grants)
    return await exports.csv_answer(f"grants-{company_id}.csv", GRANT_COLUMNS, rows)


@router.delete(
    "/companies/{company_id}/grants/{grant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a right (kept in the audit log)",
)
async def revoke_right(
    company_id: str,
    grant_id: int,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.ACCESS_MANAGER)],
) -> Response:
    path = f"/companies/{company_id}/grants/{grant_id}"
    headers = _for_company(caller, company_id)
    return await identity.forward(request, "DELETE", path, headers=headers)


@router.get("/companies/{company_id}/audit-log", summary="Every grant, revoke and appointment")
async def audit_log(
    company_id: str,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.ACCESS_READER)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> Response:
    params = {"limit": str(limit)} | ({"before_id": str(before_id)} if before_id else {})
    return await identity.forward(
        request, "GET", f"/companies/{company_id}/audit-log", params=params
    )


AUDIT_COLUMNS = (
    exports.instant("at"),
    exports.text("action"),
    exports.text("actor_name"),
    exports.text("actor"),
    exports.text("subject_name"),
    exports.text("subject"),
    exports.text("branch_id"),
    exports.text("entry_id", "id"),
)


@router.get(
    "/companies/{company_id}/audit-log.csv",
    **exports.CSV_ROUTE,
    summary="The whole audit log as CSV for Belgian Excel, newest first",
)
async def export_audit_log(
    company_id: str,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.ACCESS_READER)],
) -> Response:
    async def fetch(limit: int, before_id: int | None) -> list[dict[str, Any]]:
        params = {"limit": str(limit)} | ({"before_id": str(before_id)} if before_id else {})
        return await identity.fetch_list(f"/companies/{company_id}/audit-log", params=params)

    pages = exports.by_before_id(fetch)
    return await exports.csv_answer(f"audit-log-{company_id}.csv", AUDIT_COLUMNS, pages)


@router.get("/companies/{company_id}/workers", summary="The company's workers, alphabetically")
async def list_workers(
    company_id: str,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.COMPANY_STAFF)],
) -> list[dict[str, Any]]:
    workers = await identity.fetch_list(f"/companies/{company_id}/workers")
    return [w for w in workers if may_see(caller, company_id, w["branch_id"])]


@router.get("/workers/{login}", summary="A worker: themselves, their company's staff, operators")
async def get_worker(
    login: str, identity: Identity, caller: Annotated[Caller, requires(Rule.AUTHENTICATED)]
) -> dict[str, Any]:
    worker = await identity.fetch(f"/workers/{login}")
    if worker is None:
        raise not_found(f"worker {login}")
    if not (
        login in caller.worker_logins or may_see(caller, worker["company_id"], worker["branch_id"])
    ):
        raise not_found(f"worker {login}")
    return worker


@router.get("/users/{user_number}", summary="A user household: itself and operators")
async def get_user(
    user_number: str,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> dict[str, Any]:
    if not (caller.operator or user_number in caller.user_numbers):
        raise not_found(f"user {user_number}")
    user = await identity.fetch(f"/users/{user_number}")
    if user is None:
        raise not_found(f"user {user_number}")
    return user
