"""Services ("prestaties"): forwarded to services-mgmt, scoped by the caller's part in them."""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from dc_common.answers import MAX_ROW_ID
from dc_gateway import exports
from dc_gateway.access import Caller
from dc_gateway.parties import PLATFORM, Part, acting_as, parts_in, reader, require_part
from dc_gateway.policy import (
    Rule,
    branch_filter,
    branch_scope,
    forbidden,
    not_found,
    only_company,
    requires,
    staff_scope,
)
from dc_gateway.upstream import Upstream
from dc_services.schemas import (
    ContestIn,
    EnterpriseNumber,
    InboxItemOut,
    ModificationIn,
    ServiceDetailOut,
    ServiceIn,
    ServicePage,
    ServiceQuery,
    ServiceViewOut,
    StatusCounts,
    TransitionIn,
    WorkerTotals,
)

PROBLEM = {"model": dict[str, Any], "description": "A problem document (RFC 9457)"}
TRANSITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: PROBLEM,
    409: {**PROBLEM, "description": "The service's status does not allow this transition"},
}


def _services(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.services
    return upstream


Services = Annotated[Upstream, Depends(_services)]
router = APIRouter(prefix="/api/v1", tags=["services"])


def _json(body: Any) -> Any:
    return None if body is None else body.model_dump(mode="json", exclude_unset=True)


@router.post(
    "/services",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceDetailOut,
    summary="Register a service; the company is asked to validate and the user to confirm",
    responses={200: {"description": "Already registered under this Idempotency-Key"}, 422: PROBLEM},
)
async def register_service(
    body: ServiceIn,
    request: Request,
    services: Services,
    caller: Annotated[Caller, requires(Rule.SERVICE_PARTY)],
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Staff of the company (within their branches) encode a service for a worker; a worker
    registers their own."""
    if body.company_id in caller.staff:
        branch_scope(caller, body.company_id, body.branch_id, what="services")
        actor = acting_as(caller, "company", body.company_id)
    elif caller.worker_logins.get(body.worker_login) == body.company_id:
        actor = acting_as(caller, "worker", body.worker_login)
    elif caller.knows_company(body.company_id):
        raise forbidden("you may register services of your own only")
    else:
        raise not_found(f"company {body.company_id}")
    return await services.forward(request, "POST", "/services", json=_json(body), headers=actor)


def _scoped(request: Request, caller: Caller, query: ServiceQuery) -> dict[str, Any]:
    return scoped(dict(request.query_params.items()), caller, query)


def scoped(params: Mapping[str, Any], caller: Caller, query: ServiceQuery) -> dict[str, Any]:
    """The selection as asked, narrowed to what the caller may see (the portal's exports go
    through here too)."""
    narrowed = {name: value for name, value in params.items() if name != "branch_id"}
    narrowed.update(_scope(caller, query.company_id, query.branch_id))
    return narrowed


def _scope(caller: Caller, company_id: str | None, branches: list[str]) -> dict[str, Any]:
    if company_id is None and not caller.operator:
        if len(caller.staff) != 1 and caller.worker_logins:
            return {"worker_login": next(iter(caller.worker_logins))}
        if len(caller.staff) != 1 and caller.user_numbers:
            return {"user_number": next(iter(caller.user_numbers))}
        company_id = only_company(caller, what="services")
    if company_id is None:
        return {"branch_id": branches} if branches else {}
    scope = staff_scope(caller, company_id, what="services")
    return {"company_id": company_id, "branch_id": branch_filter(scope, branches)}


def _selection_route(
    path: str, name: str, summary: str, doc: str, *, model: Any = None, stream: bool = False
) -> None:
    """``GET`` of a view of the list's selection (``ServiceQuery``), scoped to what the caller
    may see: a staff member their company (or branches), a worker their own services, a user
    their household's, an operator everything."""

    async def view(
        request: Request,
        services: Services,
        caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
        query: Annotated[ServiceQuery, Query()],
    ) -> Response:
        params = _scoped(request, caller, query)
        if stream:
            return await services.stream(path, params=params)
        return await services.forward(request, "GET", path, params=params)

    view.__doc__ = doc
    extra: dict[str, Any] = (
        {"response_class": StreamingResponse, "responses": {200: CSV, 404: PROBLEM, 422: PROBLEM}}
        if stream
        else {"response_model": model, "responses": {404: PROBLEM, 422: PROBLEM}}
    )
    router.get(path, summary=summary, name=name, **extra)(view)


CSV = {"content": {"text/csv": {}}, "description": "One line per service"}
_selection_route(
    "/services",
    "list_services",
    "Services, newest first, 50 a page, with the totals of the selection",
    "Only what the caller may see; ``sort=oldest`` for oldest first.",
    model=ServicePage,
)
_selection_route(
    "/services/export.csv",
    "export_services",
    "The list's whole selection as CSV for Belgian Excel (;, UTF-8 with BOM), streamed",
    "The same selection and order as ``GET /services``, without pages: entry and service "
    "date, company, branch, worker, user, activity, hours, status code and label, and the "
    "split payment (vouchers needed, allocated, submitted for reimbursement, reimbursed, still "
    "missing). Cells a spreadsheet would run as a formula are written as text.",
    stream=True,
)
_selection_route(
    "/services/status-counts",
    "count_services_by_status",
    "How many services, and hours, stand at each status (the list's selection)",
    "The counts behind the dashboard, scoped as the list is.",
    model=StatusCounts,
)
_selection_route(
    "/services/worker-totals",
    "totals_by_worker",
    "How many services, and hours, each worker has in the list's selection",
    "The view of the list by worker, scoped as the list is.",
    model=WorkerTotals,
)


WORKER_COLUMNS = (
    exports.text("worker"),
    exports.text("worker_login"),
    exports.text("services"),
    exports.text("hours"),
)


@router.get(
    "/services/worker-totals.csv",
    response_class=StreamingResponse,
    responses={**exports.CSV_RESPONSES, 404: PROBLEM, 422: PROBLEM},
    summary="The list's selection by worker (name, login, services, hours) as CSV, by name",
)
async def export_worker_totals(
    request: Request,
    services: Services,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    query: Annotated[ServiceQuery, Query()],
    name: Annotated[str, Query(max_length=100, description="only names containing this")] = "",
) -> Response:
    params = _scoped(request, caller, query)
    return await worker_totals_csv(request, params, name=name)


async def worker_totals_csv(request: Request, params: Mapping[str, Any], *, name: str) -> Response:
    """The selection (already scoped to the caller) by worker, workers by name."""
    services: Upstream = request.app.state.services
    totals = await services.fetch_json(
        "/services/worker-totals", params={k: v for k, v in params.items() if k != "name"}
    )
    names: dict[str, str] = {}
    if company_id := params.get("company_id"):
        identity: Upstream = request.app.state.identity
        workers = await identity.fetch_list(f"/companies/{company_id}/workers")
        names = {w["login"]: f"{w['first_name']} {w['last_name']}" for w in workers}
    rows = exports.one_page(workers_by_name(totals["workers"], names, name))
    return await exports.csv_answer("services-by-worker.csv", WORKER_COLUMNS, rows)


def workers_by_name(
    totals: list[dict[str, Any]], names: Mapping[str, str], wanted: str
) -> list[dict[str, Any]]:
    """The totals per worker with the worker's name, those whose name holds ``wanted``,
    alphabetically (workers without a known name last)."""
    part = wanted.strip().casefold()
    rows = [
        {**t, "worker": names.get(t["worker_login"], "")}
        for t in totals
        if part in names.get(t["worker_login"], "").casefold()
    ]
    rows.sort(key=lambda r: (r["worker"].casefold() or "\uffff", r["worker_login"]))
    return rows


@router.get(
    "/services/{service_id}",
    response_model=ServiceDetailOut,
    summary="One service with its history: every transition, who, when and why",
    responses={404: PROBLEM},
)
async def get_service(
    service_id: str,
    services: Services,
    caller: Annotated[Caller, requires(Rule.SERVICE_PARTY)],
) -> dict[str, Any]:
    service = await services.fetch(f"/services/{service_id}", headers=reader(caller, "party"))
    parts = set() if service is None else parts_in(caller, service)
    if service is None or not parts:
        raise not_found("such service")
    if Part.USER not in parts:  # the household's own services are theirs to read unrecorded
        viewer = _viewer(caller, service, parts)
        await services.record(f"/services/{service_id}/views", headers=viewer)
    return service


def _viewer(caller: Caller, service: Mapping[str, Any], parts: set[Part]) -> dict[str, str]:
    """Who is shown a household's service, as its audit records them."""
    if caller.operator:
        return acting_as(caller, "operator", PLATFORM)
    if Part.STAFF in parts:
        return acting_as(caller, "company", service["company_id"])
    return acting_as(caller, "worker", service["worker_login"])


@router.get(
    "/users/{user_number}/service-views",
    response_model=list[ServiceViewOut],
    summary="Who other than the household was shown its services (staff, worker, operator), "
    "newest first",
    responses={404: PROBLEM},
)
async def service_views(
    user_number: Annotated[str, Path(pattern=r"^\d{12}$")],
    request: Request,
    services: Services,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> Response:
    """The household's own audit of its services; an operator's too (with national numbers)."""
    if user_number not in caller.user_numbers and not caller.operator:
        raise not_found(f"user {user_number}")
    params = {"limit": str(limit), **({"before_id": str(before_id)} if before_id else {})}
    return await services.forward(
        request,
        "GET",
        f"/users/{user_number}/service-views",
        params=params,
        headers=reader(caller, "user"),
    )


async def _transition(
    request: Request,
    services: Services,
    caller: Caller,
    service_id: str,
    part: Part,
    method: str,
    path: str,
    body: Any,
) -> Response:
    service = require_part(caller, await services.fetch(f"/services/{service_id}"), part)
    if part is Part.STAFF:
        actor = acting_as(caller, "company", service["company_id"])
    else:
        actor = acting_as(caller, "user", service["user_number"])
    return await services.forward(request, method, path, json=_json(body), headers=actor)


def _transition_route(action: str, part: Part, summary: str) -> None:
    """``POST /services/{id}/{action}``: the transition of one party, with an optional reason."""

    async def transition(
        service_id: str,
        request: Request,
        services: Services,
        caller: Annotated[Caller, requires(Rule.SERVICE_PARTY)],
        body: TransitionIn | None = None,
    ) -> Response:
        path = f"/services/{service_id}/{action}"
        return await _transition(request, services, caller, service_id, part, "POST", path, body)

    router.post(
        f"/services/{{service_id}}/{action}",
        response_model=ServiceDetailOut,
        summary=summary,
        responses=TRANSITION_RESPONSES,
        name=f"{action}_service",
    )(transition)


_transition_route("validate", Part.STAFF, "The company validates the service")
_transition_route("confirm", Part.USER, "The user confirms the service")
_transition_route(
    "cancel", Part.STAFF, "The company withdraws the service before voucher allocation"
)


@router.post(
    "/services/{service_id}/contest",
    response_model=ServiceDetailOut,
    summary="The user contests the service; the company must correct it",
    responses=TRANSITION_RESPONSES,
)
async def contest_service(
    service_id: str,
    body: ContestIn,
    request: Request,
    services: Services,
    caller: Annotated[Caller, requires(Rule.SERVICE_PARTY)],
) -> Response:
    path = f"/services/{service_id}/contest"
    return await _transition(request, services, caller, service_id, Part.USER, "POST", path, body)


@router.patch(
    "/services/{service_id}",
    response_model=ServiceDetailOut,
    summary="The company modifies the service; both parties must then act by hand",
    responses=TRANSITION_RESPONSES,
)
async def modify_service(
    service_id: str,
    body: ModificationIn,
    request: Request,
    services: Services,
    caller: Annotated[Caller, requires(Rule.SERVICE_PARTY)],
) -> Response:
    path = f"/services/{service_id}"
    return await _transition(request, services, caller, service_id, Part.STAFF, "PATCH", path, body)


@router.get(
    "/companies/{company_id}/inbox",
    response_model=list[InboxItemOut],
    summary="The company's requests to validate and reminders, newest first",
)
async def company_inbox(
    company_id: EnterpriseNumber,
    request: Request,
    services: Services,
    caller: Annotated[Caller, requires(Rule.COMPANY_STAFF)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    scope = staff_scope(caller, company_id, what="inbox")
    params: dict[str, Any] = {"limit": str(limit), "branch_id": branch_filter(scope, [])}
    return await services.forward(request, "GET", f"/companies/{company_id}/inbox", params=params)
