"""The Jobtracker's accounts: a worker logs in with their 12-digit login and password, keeps the
session alive with a rotating refresh token and changes the password; the company's staff set
the first password, unblock an account, end its sessions (a lost phone) and read its state.
Forwarded to identity, which keeps the accounts and signs the tokens.

The worker's routes are public (the password, or the refresh token, is the credential); the
company's routes answer 404 for a worker outside the caller's company or branches, as the rest
of the API does.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel, ConfigDict

from dc_gateway.access import Caller
from dc_gateway.parties import acting_as
from dc_gateway.policy import Rule, forbidden, may_see, not_found, requires
from dc_gateway.routes_identity import Identity
from dc_gateway.routes_services import Services
from dc_gateway.upstream import Upstream
from dc_identity.schemas import (
    CompanyWorkerAccountOut,
    FirstPasswordIn,
    PasswordChangeIn,
    RefreshIn,
    SessionOut,
    WorkerAccountOut,
    WorkerLoginIn,
)
from dc_services.schemas import (
    ActivityType,
    Hours,
    ServiceDate,
    ServiceDetailOut,
    ServiceIn,
    UserNumber,
)

PROBLEM = {"model": dict[str, Any], "description": "A problem document (RFC 9457)"}
REFUSED: dict[int | str, dict[str, Any]] = {401: PROBLEM, 422: PROBLEM, 423: PROBLEM}
router = APIRouter(prefix="/api/v1", tags=["jobtracker"])
Public = Annotated[Caller | None, requires(Rule.PUBLIC)]


@router.post(
    "/jobtracker/sessions",
    response_model=SessionOut,
    summary="A worker logs in: an access token and a refresh token",
    responses=REFUSED,
)
async def log_in(body: WorkerLoginIn, request: Request, identity: Identity, _: Public) -> Response:
    """401 for a wrong password or an unknown login (the same answer); 423 once three wrong
    passwords in a row blocked the account (the company unblocks it). ``must_change_password``:
    the first password, set by the company, is to be changed before anything else."""
    json = body.model_dump()
    return await identity.forward(request, "POST", "/jobtracker/sessions", json=json)


@router.post(
    "/jobtracker/sessions/refresh",
    response_model=SessionOut,
    summary="The next access and refresh token; a refresh token serves once",
    responses=REFUSED,
)
async def refresh(body: RefreshIn, request: Request, identity: Identity, _: Public) -> Response:
    """A refresh token used a second time ends the session on every phone (401)."""
    json = body.model_dump()
    return await identity.forward(request, "POST", "/jobtracker/sessions/refresh", json=json)


@router.post(
    "/jobtracker/password",
    response_model=SessionOut,
    summary="The worker changes their password (at least 10 characters, letters and digits)",
    responses=REFUSED,
)
async def change_password(
    body: PasswordChangeIn, request: Request, identity: Identity, _: Public
) -> Response:
    json = body.model_dump()
    return await identity.forward(request, "POST", "/jobtracker/password", json=json)


class JobtrackerServiceIn(BaseModel):
    """A service as the worker's phone registers it: for the worker and the company of the
    token, at the worker's branch."""

    model_config = ConfigDict(extra="forbid")

    user_number: UserNumber
    service_date: ServiceDate
    hours: Hours
    activity_type: ActivityType


def _the_worker(caller: Caller) -> tuple[str, str]:
    """The worker a Jobtracker token acts as (login, company)."""
    if len(caller.worker_logins) != 1 or caller.staff or caller.operator:
        raise forbidden("only a worker's Jobtracker token registers here")
    [(login, company)] = caller.worker_logins.items()
    return login, company


@router.post(
    "/jobtracker/services",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceDetailOut,
    summary="The worker registers a service from the phone; the Idempotency-Key makes a resent "
    "offline queue register each service once",
    responses={
        200: {"description": "Registered before under this key: the first answer"},
        403: PROBLEM,
        422: PROBLEM,
    },
)
async def register_from_the_phone(
    body: JobtrackerServiceIn,
    request: Request,
    services: Services,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    idempotency_key: Annotated[str, Header(min_length=8, max_length=100)],
) -> Response:
    """The key is the phone's, made when the service was encoded (offline too); resent hours
    later, many times, at once, it answers the first registration."""
    login, company = _the_worker(caller)
    service = ServiceIn(company_id=company, worker_login=login, **body.model_dump())
    headers = {
        **acting_as(caller, "worker", login),
        "idempotency-key": f"jobtracker:{login}:{idempotency_key}",
    }
    json = service.model_dump(mode="json", exclude_none=True)
    return await services.forward(request, "POST", "/services", json=json, headers=headers)


async def _staff_of_worker(identity: Upstream, caller: Caller, login: str) -> dict[str, str]:
    """The acting headers for a change to the worker's account, if the worker is the caller's
    to manage (staff of the worker's company and branch, or an operator)."""
    worker = await identity.fetch(f"/workers/{login}")
    if worker is None or not may_see(caller, worker["company_id"], worker["branch_id"]):
        raise not_found(f"worker {login}")
    if caller.operator:
        return acting_as(caller, "operator", caller.national_number)
    return acting_as(caller, "company", worker["company_id"])


@router.put(
    "/workers/{login}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Set the worker's first password (they change it at the first login)",
    responses={404: PROBLEM, 422: PROBLEM},
)
async def set_first_password(
    login: str,
    body: FirstPasswordIn,
    request: Request,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    """It also unblocks the account and ends its sessions."""
    headers = await _staff_of_worker(identity, caller, login)
    path = f"/workers/{login}/password"
    return await identity.forward(request, "PUT", path, json=body.model_dump(), headers=headers)


@router.get(
    "/companies/{company_id}/worker-accounts",
    response_model=list[CompanyWorkerAccountOut],
    summary="The Jobtracker accounts of the company's workers: to change, blocked (the caller's "
    "branches only)",
)
async def company_accounts(
    company_id: str,
    identity: Identity,
    caller: Annotated[Caller, requires(Rule.COMPANY_STAFF)],
) -> list[dict[str, Any]]:
    found = await identity.fetch_list(f"/companies/{company_id}/worker-accounts")
    return [a for a in found if may_see(caller, company_id, a["branch_id"])]


def _account_route(method: str, suffix: str, summary: str, **declared: Any) -> None:
    """A call on a worker's account without a body, for the staff who manage that worker."""

    async def call(
        login: str,
        request: Request,
        identity: Identity,
        caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    ) -> Response:
        headers = await _staff_of_worker(identity, caller, login)
        return await identity.forward(request, method, f"/workers/{login}{suffix}", headers=headers)

    router.add_api_route(
        f"/workers/{{login}}{suffix}",
        call,
        methods=[method],
        summary=summary,
        name=f"{method.lower()}_worker{suffix.replace('/', '_')}",
        responses={404: PROBLEM},
        **declared,
    )


NO_CONTENT: dict[str, Any] = {"status_code": status.HTTP_204_NO_CONTENT, "response_class": Response}
_account_route(
    "POST", "/unblock", "Unblock the worker's account after three wrong passwords", **NO_CONTENT
)
_account_route(
    "DELETE", "/sessions", "End every session of the worker (a lost phone)", **NO_CONTENT
)
_account_route(
    "GET",
    "/account",
    "The worker's Jobtracker account: password set, to change, blocked",
    response_model=WorkerAccountOut,
)
