"""The Jobtracker's API: the worker's phone logs in with the 12-digit login and password, keeps
the session alive with a rotating refresh token and changes the password (identity keeps the
accounts and signs the tokens); with its token it keeps the worker's customers, registers
services (each once, by the phone's idempotency key), lists the worker's services, answers the
services the company encoded for the worker and checks paper vouchers. Answers and refusals are
in the worker's language (:mod:`dc_gateway.jobtracker_speech`).

The company's staff set the first password, unblock an account, end its sessions (a lost phone)
and read its state; those routes answer 404 for a worker outside the caller's company or
branches, as the rest of the API does.
"""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dc_gateway.access import Caller
from dc_gateway.jobtracker_speech import (
    ACTIVITIES,
    PAPER_STATES,
    STATUSES,
    VOUCHER_KINDS,
    LocalizedRoute,
    Speech,
)
from dc_gateway.limits import login_attempt
from dc_gateway.parties import acting_as
from dc_gateway.policy import Rule, forbidden, may_see, not_found, requires
from dc_gateway.routes_identity import Identity
from dc_gateway.routes_services import Services
from dc_gateway.routes_wallet import Wallet
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
    CustomerIn,
    CustomerOut,
    Hours,
    ServiceDate,
    ServiceIn,
    UserNumber,
    Voucher,
)
from dc_wallet.schemas import PAPER_VOUCHER_NUMBER, PaperVoucherIn
from dc_workflows.contracts.lifecycle import VoucherKind
from dc_workflows.status import ServiceStatus

PROBLEM = {"model": dict[str, Any], "description": "A problem document (RFC 9457)"}
REFUSED: dict[int | str, dict[str, Any]] = {401: PROBLEM, 422: PROBLEM, 423: PROBLEM}
router = APIRouter(prefix="/api/v1", tags=["jobtracker"])
phone = APIRouter(prefix="/api/v1/jobtracker", tags=["jobtracker"], route_class=LocalizedRoute)
Public = Annotated[Caller | None, requires(Rule.PUBLIC)]
Authenticated = Annotated[Caller, requires(Rule.AUTHENTICATED)]
#: The worker's services, a page at a time.
PAGE_SIZE = 20


@phone.post(
    "/sessions",
    response_model=SessionOut,
    dependencies=[Depends(login_attempt)],
    summary="A worker logs in: an access token and a refresh token",
    responses=REFUSED,
)
async def log_in(body: WorkerLoginIn, request: Request, identity: Identity, _: Public) -> Response:
    """401 for a wrong password or an unknown login (the same answer); 423 once three wrong
    passwords in a row blocked the account (the company unblocks it). ``must_change_password``:
    the first password, set by the company, is to be changed before anything else. A worker
    with several employers works for ``company_id`` (default: the first)."""
    json = body.model_dump()
    return await identity.forward(request, "POST", "/jobtracker/sessions", json=json)


@phone.post(
    "/sessions/refresh",
    response_model=SessionOut,
    dependencies=[Depends(login_attempt)],
    summary="The next access and refresh token; a refresh token serves once",
    responses=REFUSED,
)
async def refresh(body: RefreshIn, request: Request, identity: Identity, _: Public) -> Response:
    """A refresh token used a second time ends the session on every phone (401). With
    ``company_id``, the new tokens work for that employer."""
    json = body.model_dump()
    return await identity.forward(request, "POST", "/jobtracker/sessions/refresh", json=json)


@phone.post(
    "/password",
    response_model=SessionOut,
    dependencies=[Depends(login_attempt)],
    summary="The worker changes their password (at least 10 characters, letters and digits)",
    responses=REFUSED,
)
async def change_password(
    body: PasswordChangeIn, request: Request, identity: Identity, _: Public
) -> Response:
    json = body.model_dump()
    return await identity.forward(request, "POST", "/jobtracker/password", json=json)


def _the_worker(caller: Caller) -> tuple[str, str]:
    """The worker a Jobtracker token acts as (login, employer)."""
    if len(caller.worker_logins) != 1 or caller.staff or caller.operator:
        raise forbidden("only a worker's Jobtracker token registers here")
    [(login, company)] = caller.worker_logins.items()
    return login, company


# -- customers ---------------------------------------------------------------------------------


class CustomersOut(BaseModel):
    items: list[CustomerOut]


def _customers_path(caller: Caller) -> str:
    login, company = _the_worker(caller)
    return f"/companies/{company}/workers/{login}/customers"


@phone.get("/customers", response_model=CustomersOut, summary="The worker's customers, by name")
async def customers(services: Services, caller: Authenticated) -> dict[str, Any]:
    return {"items": await services.fetch_list(_customers_path(caller))}


@phone.put(
    "/customers/{user_number}",
    response_model=CustomerOut,
    summary="Add or change a customer (a household the platform knows, by user number)",
    responses={422: PROBLEM},
)
async def save_customer(
    user_number: Annotated[str, Path(pattern=r"^\d{12}$")],
    body: CustomerIn,
    request: Request,
    services: Services,
    caller: Authenticated,
) -> Response:
    path = f"{_customers_path(caller)}/{user_number}"
    return await services.forward(request, "PUT", path, json=body.model_dump())


# -- services ----------------------------------------------------------------------------------


class JobtrackerServiceIn(BaseModel):
    """A service as the worker's phone registers it: for the worker and the employer of the
    token, at the worker's branch there."""

    model_config = ConfigDict(extra="forbid")

    user_number: UserNumber
    service_date: ServiceDate
    hours: Hours
    activity_type: ActivityType
    voucher: Voucher = VoucherKind.ELECTRONIC


class WorkerAnswerOut(BaseModel):
    answer: Literal["confirmed", "correction"]
    reason: str | None
    at: str


class JobtrackerServiceOut(BaseModel):
    """A service as the worker's phone shows it, its labels in the worker's language."""

    id: str
    status: ServiceStatus
    status_label: str
    user_number: str
    customer_name: str | None = Field(description="as the worker keeps the customer")
    service_date: str
    service_date_label: str
    hours: int
    activity_type: int
    activity_label: str
    voucher: VoucherKind
    voucher_label: str
    registered_at: str
    worker_answer: WorkerAnswerOut | None = None


class JobtrackerServicesOut(BaseModel):
    items: list[JobtrackerServiceOut]
    page: int
    next_page: int | None


def _shown(speech: Speech, service: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    voucher = service.get("voucher", "electronic")
    return {
        "id": service["id"],
        "status": service["status"],
        "status_label": speech(STATUSES[ServiceStatus(service["status"])]),
        "user_number": service["user_number"],
        "customer_name": names.get(service["user_number"]),
        "service_date": service["service_date"],
        "service_date_label": speech.day(service["service_date"]),
        "hours": service["hours"],
        "activity_type": service["activity_type"],
        "activity_label": speech(ACTIVITIES[service["activity_type"]]),
        "voucher": voucher,
        "voucher_label": speech(VOUCHER_KINDS[voucher]),
        "registered_at": service["registered_at"],
        "worker_answer": service.get("worker_answer"),
    }


async def _customer_names(services: Upstream, caller: Caller) -> dict[str, str]:
    found = await services.fetch_list(_customers_path(caller))
    return {c["user_number"]: c["name"] for c in found}


@phone.post(
    "/services",
    status_code=status.HTTP_201_CREATED,
    response_model=JobtrackerServiceOut,
    summary="The worker registers a service from the phone; the Idempotency-Key makes a resent "
    "offline queue register each service once",
    responses={
        200: {"description": "Registered before under this key: the first answer"},
        403: PROBLEM,
        409: PROBLEM,
        422: PROBLEM,
    },
)
async def register_from_the_phone(
    body: JobtrackerServiceIn,
    request: Request,
    services: Services,
    caller: Authenticated,
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
    json_body = service.model_dump(mode="json", exclude_none=True)
    answer = await services.forward(request, "POST", "/services", json=json_body, headers=headers)
    if answer.status_code not in (200, 201):
        return answer
    shown = _shown(
        Speech.of(request), json.loads(bytes(answer.body)), await _customer_names(services, caller)
    )
    return JSONResponse(shown, answer.status_code)


@phone.get(
    "/services",
    response_model=JobtrackerServicesOut,
    summary="The worker's services for the employer, newest first, a page at a time",
)
async def own_services(
    request: Request,
    services: Services,
    caller: Authenticated,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> dict[str, Any]:
    login, company = _the_worker(caller)
    params = {
        "company_id": company,
        "worker_login": login,
        "page": str(page),
        "page_size": str(PAGE_SIZE),
    }
    found = await services.fetch_json("/services", params=params)
    speech, names = Speech.of(request), await _customer_names(services, caller)
    more = page * PAGE_SIZE < found["total_services"]
    return {
        "items": [_shown(speech, s, names) for s in found["items"]],
        "page": page,
        "next_page": page + 1 if more else None,
    }


@phone.get(
    "/to-validate",
    response_model=JobtrackerServicesOut,
    summary="Services the company encoded for the worker: to confirm or to have corrected",
)
async def to_validate(
    request: Request, services: Services, caller: Authenticated
) -> dict[str, Any]:
    login, company = _the_worker(caller)
    found = await services.fetch_list(f"/companies/{company}/workers/{login}/encoded")
    speech, names = Speech.of(request), await _customer_names(services, caller)
    return {"items": [_shown(speech, s, names) for s in found], "page": 1, "next_page": None}


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="what the company should correct")


async def _answer(
    request: Request,
    services: Services,
    caller: Caller,
    service_id: str,
    answer: dict[str, Any],
) -> Response:
    """The worker's answer to a service of the employer; 404 for any other service."""
    login, company = _the_worker(caller)
    service = await services.fetch(f"/services/{service_id}")
    if service is None or service["company_id"] != company or service["worker_login"] != login:
        raise not_found(f"service {service_id} of yours")
    headers = acting_as(caller, "worker", login)
    path = f"/services/{service_id}/worker-answer"
    given = await services.forward(request, "PUT", path, json=answer, headers=headers)
    if given.status_code != 200:
        return given
    shown = _shown(Speech.of(request), service, await _customer_names(services, caller))
    return JSONResponse({**shown, "worker_answer": json.loads(bytes(given.body))})


@phone.post(
    "/services/{service_id}/confirm",
    response_model=JobtrackerServiceOut,
    summary="The worker confirms a service the company encoded for them",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def confirm_encoded(
    service_id: str, request: Request, services: Services, caller: Authenticated
) -> Response:
    return await _answer(request, services, caller, service_id, {"answer": "confirmed"})


@phone.post(
    "/services/{service_id}/correction",
    response_model=JobtrackerServiceOut,
    summary="The worker asks the company to correct a service it encoded (the reason shows in "
    "the portal)",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def ask_correction(
    service_id: str,
    body: CorrectionIn,
    request: Request,
    services: Services,
    caller: Authenticated,
) -> Response:
    answer = {"answer": "correction", "reason": body.reason}
    return await _answer(request, services, caller, service_id, answer)


# -- paper vouchers ----------------------------------------------------------------------------


class PaperVoucherOut(BaseModel):
    number: str
    state: Literal["valid", "expired", "used", "unknown"]
    state_label: str
    expires_on: str | None
    expires_on_label: str | None


PaperNumber = Annotated[str, Path(pattern=PAPER_VOUCHER_NUMBER)]


@phone.get(
    "/paper-vouchers/{number}",
    response_model=PaperVoucherOut,
    summary="Check a paper voucher the household hands over: valid, expired, already used, unknown",
)
async def check_paper_voucher(
    number: PaperNumber, request: Request, wallet: Wallet, caller: Authenticated
) -> dict[str, Any]:
    _the_worker(caller)
    found = await wallet.fetch_json(f"/paper-vouchers/{number}")
    speech, expiry = Speech.of(request), found["expiry_date"]
    return {
        "number": number,
        "state": found["state"],
        "state_label": speech(PAPER_STATES[found["state"]]),
        "expires_on": expiry,
        "expires_on_label": speech.day(expiry) if expiry else None,
    }


@router.put(
    "/paper-vouchers/{number}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Record a paper voucher from the issuer's list (operators)",
)
async def save_paper_voucher(
    number: PaperNumber,
    body: PaperVoucherIn,
    request: Request,
    wallet: Wallet,
    _: Annotated[Caller, requires(Rule.OPERATOR)],
) -> Response:
    path = f"/paper-vouchers/{number}"
    return await wallet.forward(request, "PUT", path, json=body.model_dump(mode="json"))


# -- the company's side ------------------------------------------------------------------------


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
